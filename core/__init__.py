"""What every part of plaudit shares and that depends on no other part of it.

`core` imports nothing of ours (the import-direction test holds it to that): settings, crypto,
signed tokens, scrubbing, redaction, logging and the domain errors live here, so that models,
connectors, services, workers, the scheduler and the API can all lean on them without cycles.
"""
