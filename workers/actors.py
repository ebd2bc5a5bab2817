"""Every actor, for a worker process to import: the broker first, then the actor modules."""

from workers.broker import broker
from workers.connect import finish_connection
from workers.email import send_email
from workers.keys import rotate_keys
from workers.push import facebook_delivery, google_notification
from workers.reply import send_reply
from workers.retention import retention
from workers.subject_requests import process_request
from workers.sync import sync_capability
from workers.webhooks import deliver_webhook

__all__ = [
    "broker",
    "deliver_webhook",
    "facebook_delivery",
    "finish_connection",
    "google_notification",
    "process_request",
    "retention",
    "rotate_keys",
    "send_email",
    "send_reply",
    "sync_capability",
]
