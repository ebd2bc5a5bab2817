"""What the routers ask for: keyword-only functions over a session, no HTTP in sight."""
