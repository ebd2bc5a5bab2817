"""Outbound webhooks: recording deliveries for an organisation's endpoints (`emit`), and
delivering them through the outbox (`deliveries`)."""
