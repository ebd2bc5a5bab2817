"""Domain services, a package per domain (sync, replies, feedback, e-mail, webhooks, privacy,
accounts, …): keyword-only functions that take a session and raise `core.errors`. The API, the
workers' actors and the scheduler call them; they never import those callers."""
