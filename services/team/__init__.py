"""The team: members, roles and location limits, invitations, API keys, alert preferences."""
