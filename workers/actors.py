"""Every actor, for a worker process to import: the broker first, then the actor modules."""

from workers.broker import broker
from workers.feedback import send_digests, send_due_requests
from workers.moderation import check_moderation
from workers.outbox import deliver_webhook, send_email, send_reply
from workers.privacy import process_request, rotate_keys, run_retention
from workers.sync import facebook_delivery, finish_connection, google_notification, sync_capability

__all__ = [
    "broker",
    "check_moderation",
    "deliver_webhook",
    "facebook_delivery",
    "finish_connection",
    "google_notification",
    "process_request",
    "rotate_keys",
    "run_retention",
    "send_digests",
    "send_due_requests",
    "send_email",
    "send_reply",
    "sync_capability",
]
