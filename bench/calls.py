"""The services as the workers run them, for benchmarks that time one step in this process:
the same helpers the tests drive one step at a time with."""

from tests.service_calls import send_due_requests, sync

__all__ = ["send_due_requests", "sync"]
