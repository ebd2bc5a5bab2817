"""Accounts: sign-up and account requests, log-in and its throttling, sessions, passwords."""
