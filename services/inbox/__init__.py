"""The inbox: listing, threads, facets, workflow (status, assignment, tags), analytics, export."""
