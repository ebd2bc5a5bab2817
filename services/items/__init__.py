"""Items: the one upsert that sync and push share, and the events an item change announces."""
