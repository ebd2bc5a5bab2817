"""Persistence: typed models, the session factory and migrations."""

from models.account_request import AccountRequest, AccountRequestKind, SignupRequest
from models.alert import AlertPreference
from models.analytics_rollup import AnalyticsDay, AnalyticsReplyTime
from models.api_key import ApiKey, Scope
from models.audit import AuditEvent
from models.base import Base
from models.connection import (
    CapabilityState,
    Checkpoint,
    Connection,
    ConnectionStatus,
    Location,
    OAuthState,
    Provider,
)
from models.email_outbox import EmailMessage, EmailStatus, Suppression, SuppressionReason
from models.feedback import (
    FINAL_STATUSES,
    Campaign,
    FeedbackSettings,
    Recipient,
    RecipientStatus,
    ThreadDirection,
    ThreadMessage,
)
from models.invitation import Invitation, PasswordReset
from models.item import Item, ItemStatus, Kind, Source
from models.item_note import ItemNote
from models.login_attempt import LoginFailure
from models.organisation import Membership, Organisation, Role, User
from models.rate_limit import RateLimitWindow
from models.redaction_policy import RedactionPolicy
from models.refresh_token import RefreshToken
from models.reply import ApprovalStatus, Reply, ReplyAction, ReplyMode, ReplyStatus
from models.sync_run import SyncRun, SyncRunStatus
from models.template import ReplyTemplate
from models.webhook import DeliveryStatus, Webhook, WebhookDelivery, WebhookEvent

__all__ = [
    "FINAL_STATUSES",
    "AccountRequest",
    "AccountRequestKind",
    "AlertPreference",
    "AnalyticsDay",
    "AnalyticsReplyTime",
    "ApiKey",
    "ApprovalStatus",
    "AuditEvent",
    "Base",
    "Campaign",
    "CapabilityState",
    "Checkpoint",
    "Connection",
    "ConnectionStatus",
    "DeliveryStatus",
    "EmailMessage",
    "EmailStatus",
    "FeedbackSettings",
    "Invitation",
    "Item",
    "ItemNote",
    "ItemStatus",
    "Kind",
    "Location",
    "LoginFailure",
    "Membership",
    "OAuthState",
    "Organisation",
    "PasswordReset",
    "Provider",
    "RateLimitWindow",
    "Recipient",
    "RecipientStatus",
    "RedactionPolicy",
    "RefreshToken",
    "Reply",
    "ReplyAction",
    "ReplyMode",
    "ReplyStatus",
    "ReplyTemplate",
    "Role",
    "Scope",
    "SignupRequest",
    "Source",
    "Suppression",
    "SuppressionReason",
    "SyncRun",
    "SyncRunStatus",
    "ThreadDirection",
    "ThreadMessage",
    "User",
    "Webhook",
    "WebhookDelivery",
    "WebhookEvent",
]
