"""One typed settings object, read from ``PLAUDIT_*`` environment variables.

Every field is documented in the README's configuration table. Secrets are ``SecretStr`` so that
they never end up in a repr, a log line or a Sentry event.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER = "change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLAUDIT_", extra="ignore")

    # Where things run.
    embedded: bool = Field(False, description="Use the embedded defaults (set by `plaudit demo`).")
    data_dir: Path = Field(Path(".plaudit"), description="Embedded PostgreSQL, generated keys.")
    database_url: str = Field(
        "postgresql+psycopg2://postgres@127.0.0.1:5432/plaudit", description="SQLAlchemy URL."
    )
    broker_url: str = Field(
        "redis://127.0.0.1:6379/0", description="amqp://…, redis://… or stub:// (in-process)."
    )
    broker_namespace: str = Field("plaudit", description="Queue-name prefix on a shared broker.")
    public_url: str = Field("http://127.0.0.1:8000", description="Where the API is reached.")
    api_host: str = "127.0.0.1"
    api_port: int = 8000

    # Secrets. Several encryption keys may be given: the first encrypts, all decrypt.
    encryption_keys: SecretStr = Field(
        SecretStr(PLACEHOLDER), description="Fernet keys, comma-separated."
    )
    blind_index_key: SecretStr = Field(SecretStr(PLACEHOLDER), description="HMAC key for look-ups.")
    jwt_secret: SecretStr = Field(SecretStr(PLACEHOLDER), description="Signs access tokens.")
    jwt_ttl_seconds: int = 900

    # The dashboard API: sessions, throttling, browsers, webhooks.
    refresh_token_ttl_seconds: int = Field(
        30 * 86400, description="Lifetime of a refresh token (rotated on every use)."
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated addresses or networks of the proxies whose X-Forwarded-For "
        "is believed; empty: none, not even loopback.",
    )
    login_failure_window_seconds: int = Field(
        900, ge=1, description="How long failed log-ins count towards throttling."
    )
    login_max_failures_per_account_client: int = Field(
        5,
        ge=1,
        description="Failed log-ins to one account from one client within the window before "
        "that client is refused for that account.",
    )
    login_slowdown_after_account_failures: int = Field(
        20,
        ge=1,
        description="Failed log-ins to one account, from all clients, before its log-ins are "
        "slowed down.",
    )
    login_slowdown_after_client_failures: int = Field(
        100,
        ge=1,
        description="Failed log-ins from one client, to all accounts, before its log-ins are "
        "slowed down.",
    )
    login_slowdown_max_seconds: int = Field(
        60, ge=1, description="The longest wait a slowed-down log-in is asked for."
    )
    account_emails_per_address_per_hour: int = Field(
        3,
        ge=0,
        description="Password-reset (or sign-up) e-mails to one address per hour; further "
        "requests are answered alike and send nothing.",
    )
    account_requests_per_client_per_hour: int = Field(
        20,
        ge=1,
        description="Password-reset (or sign-up) requests from one client per hour before 429.",
    )
    signup_link_ttl_seconds: int = Field(
        86400, ge=60, description="Lifetime of the link that confirms a sign-up."
    )
    password_min_score: int = Field(
        3,
        ge=0,
        le=4,
        description="Least zxcvbn score (0-4) of a new password; 3: safely unguessable.",
    )
    cors_allowed_origins: str = Field(
        "", description="Comma-separated origins allowed to call the API from a browser."
    )
    webhook_timeout_seconds: float = Field(10.0, description="Timeout of one webhook delivery.")
    webhook_retry_seconds: int = Field(
        86400, description="How long a failing webhook delivery is retried before it is dropped."
    )
    webhook_allow_private_targets: bool = Field(
        False, description="Allow webhooks to private and loopback addresses (tests, intranets)."
    )
    webhook_disable_after_failures: int = Field(
        3, description="Deliveries dropped in a row before the webhook is disabled."
    )
    inbox_search_sort_limit: int = Field(
        5000,
        ge=1,
        description="A search whose matches past a page's position are fewer than this is read"
        " from the full-text index and sorted; with as many, the inbox's order is walked.",
    )
    inbox_facets_exact_limit: int = Field(
        20000,
        ge=1,
        description="Facet counts are exact while a filter matches at most this many items;"
        " above, estimated from a sample of about as many (and marked `estimated`).",
    )

    # Providers: one base URL per real host, so that any stand-in can replace them.
    google_client_id: str = ""
    google_client_secret: SecretStr = SecretStr("")
    google_auth_uri: str = "https://accounts.google.com/o/oauth2/v2/auth"
    google_token_uri: str = "https://oauth2.googleapis.com/token"
    google_mybusiness_url: str = "https://mybusiness.googleapis.com/"
    google_account_management_url: str = "https://mybusinessaccountmanagement.googleapis.com/"
    google_business_information_url: str = "https://mybusinessbusinessinformation.googleapis.com/"
    google_qanda_url: str = "https://mybusinessqanda.googleapis.com/"
    google_notifications_url: str = "https://mybusinessnotifications.googleapis.com/"
    facebook_graph_url: str = "https://graph.facebook.com/"
    facebook_dialog_url: str = "https://www.facebook.com/"
    provider_timeout_seconds: float = 30.0
    facebook_app_id: str = Field("", description="Facebook app id (the login dialog's client).")
    facebook_app_secret: SecretStr = Field(
        SecretStr(""), description="Facebook app secret: code exchange and webhook signatures."
    )
    facebook_graph_version: str = Field(
        "v22.0", description="Graph API version every Facebook call is pinned to."
    )
    facebook_webhook_verify_token: SecretStr = Field(
        SecretStr(""), description="The token Meta echoes when verifying the webhook URL."
    )
    google_pubsub_audience: str = Field(
        "", description="Expected `aud` of Pub/Sub push tokens; empty refuses every push."
    )
    google_pubsub_jwks_url: str = Field(
        "https://www.googleapis.com/oauth2/v3/certs",
        description="Where the keys that sign Pub/Sub push tokens are published.",
    )
    google_pubsub_topic: str = Field(
        "",
        description="Pub/Sub topic (projects/…/topics/…) for review notifications; empty: none.",
    )
    google_pubsub_issuer: str = Field(
        "https://accounts.google.com", description="Expected `iss` of Pub/Sub push tokens."
    )
    google_requests_per_minute: int = Field(
        300, description="Google's per-project quota, shared by every worker process."
    )
    facebook_usage_slowdown_percent: int = Field(
        80, description="Above this Facebook usage percentage, calls are spaced out."
    )
    qanda_enabled: bool = Field(
        False, description="Sync and answer Google Q&A (Google discontinued it on 2025-11-03)."
    )
    push_sync_interval_seconds: int = Field(
        3600, description="Polling period of a connection that receives push notifications."
    )

    # Work.
    sync_interval_seconds: int = 900
    full_sync_interval_seconds: int = 86400
    sync_lease_seconds: int = 600
    # A sync that finds another run of its capability under way looks again after this, then
    # twice as long each time, up to 16 times this; it never gives up, as the run holding the
    # lock always ends.
    sync_lock_wait_seconds: float = 2.0
    scheduler_tick_seconds: float = 5.0
    reply_stuck_seconds: int = 300
    reply_max_attempts: int = 10
    # A reply Google still moderates is read again after this, then twice as long each time up
    # to the cap, for as long as Google may take (PROVIDERS.md §G.1: up to 30 days).
    reply_moderation_first_check_seconds: int = 120
    reply_moderation_max_check_seconds: int = 6 * 3600
    reply_moderation_max_days: int = 30
    # Reply posts, edits and deletes per Google location, across all workers (§G.3: "10 edits
    # a minute per profile"), spread evenly over the window.
    google_reply_writes_per_window: int = 10
    google_reply_write_window_seconds: float = 60.0
    worker_threads: int = 4

    # E-mail and feedback requests.
    email_backend: Literal["mailbox", "smtp", "postmark"] | None = Field(
        None,
        description="smtp, postmark, or mailbox (.eml files under mailbox_dir): the default only "
        "under `plaudit demo`; elsewhere it must be chosen.",
    )
    mail_from: str = Field("plaudit <no-reply@localhost>", description="From header of e-mails.")
    mailbox_dir: Path | None = Field(None, description="Mailbox folder; default data_dir/mailbox.")
    smtp_host: str = Field("127.0.0.1", description="SMTP server.")
    smtp_port: int = Field(587, description="SMTP port.")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="STARTTLS, implicit TLS, or none (loopback only)."
    )
    smtp_username: str = Field("", description="SMTP user; empty: no authentication.")
    smtp_password: SecretStr = Field(SecretStr(""), description="SMTP password.")
    smtp_timeout_seconds: float = Field(30.0, description="SMTP socket timeout.")
    postmark_token: SecretStr = Field(SecretStr(""), description="Postmark server token.")
    postmark_message_stream: str = Field("outbound", description="Postmark message stream.")
    postmark_api_url: str = Field(
        "https://api.postmarkapp.com/", description="Postmark API base URL."
    )
    email_webhook_secret: SecretStr = Field(
        SecretStr(""), description="Basic-auth password of the Postmark webhooks; empty: off."
    )
    inbound_domain: str = Field(
        "", description="Domain of signed Reply-To addresses (Postmark inbound); empty: none."
    )
    email_max_attempts: int = Field(8, description="Attempts before an e-mail is marked failed.")
    email_stuck_seconds: int = Field(300, description="An e-mail pending this long is re-sent.")
    feedback_link_ttl_days: int = Field(30, description="Lifetime of a feedback link.")
    feedback_frequency_cap_days: int = Field(
        30, description="Default: at most one request per recipient per this many days."
    )
    feedback_hourly_limit: int = Field(
        500, description="Default: feedback e-mails per organisation per hour."
    )
    feedback_max_reminders: int = Field(1, description="Default: reminders per recipient.")
    feedback_reminder_days: int = Field(3, description="Default: days between reminders.")

    # Operations.
    log_level: str = "INFO"
    sentry_dsn: SecretStr = SecretStr("")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        # A typo would otherwise silently trust nobody (or, as "*", everybody by intent only).
        for entry in (e.strip() for e in value.split(",")):
            if entry and entry != "*":
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise ValueError(
                        "PLAUDIT_TRUSTED_PROXIES must list IP addresses or networks"
                    ) from None
        return value

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        if self.email_backend is None:
            if not self.embedded:
                raise ValueError(
                    "PLAUDIT_EMAIL_BACKEND must be set (smtp or postmark; mailbox only for trials)"
                )
            self.email_backend = "mailbox"
        if self.embedded:
            return self
        for name in ("encryption_keys", "blind_index_key", "jwt_secret"):
            if getattr(self, name).get_secret_value() in ("", PLACEHOLDER):
                raise ValueError(f"PLAUDIT_{name.upper()} must be set (outside `plaudit demo`)")
        if len(self.jwt_secret.get_secret_value().encode()) < 32:
            raise ValueError("PLAUDIT_JWT_SECRET must be at least 32 bytes")
        return self

    def oauth_callback_url(self, provider: str) -> str:
        """Where a provider sends the person back after consent; the same at both ends of the
        flow, or the code exchange fails."""
        return self.public_url.rstrip("/") + f"/api/v1/connections/{provider}/callback"

    @property
    def insecure_transport(self) -> bool:
        """The OAuth libraries refuse plain http unless told; only the sandbox uses it."""
        urls = (self.google_auth_uri, self.google_token_uri, self.facebook_graph_url)
        return any(u.startswith("http://") for u in urls)

    @property
    def mailbox_on_a_server(self) -> bool:
        """The demo's mailbox chosen outside the demo: allowed, but only after a warning."""
        return self.email_backend == "mailbox" and not self.embedded

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [entry.strip() for entry in self.trusted_proxies.split(",") if entry.strip()]

    @property
    def mailbox_path(self) -> Path:
        return self.mailbox_dir or self.data_dir / "mailbox"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (after the environment changed: demo start-up, tests)."""
    get_settings.cache_clear()
