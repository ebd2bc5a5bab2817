"""Sync: connecting accounts, what is due, one run of a connection, pushes, the shared quota."""
