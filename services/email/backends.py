"""Where a composed message goes: an SMTP server, Postmark's API, or a local mailbox folder.

Every back-end raises ``TransientError`` (try again later) or ``PermanentError`` (this message
can never be delivered), with messages written here: a server's own text may quote the address.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import threading
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import requests

from core.settings import Settings, get_settings


class TransientError(Exception):
    pass


class PermanentError(Exception):
    pass


class Backend(Protocol):
    def send(self, message: EmailMessage, *, tag: str, box: str = "") -> str | None:
        """Deliver the message; returns the provider's id for it, if it has one. ``box`` names
        whose message it is (``mailbox_box``); only the mailbox back-end files by it."""


def mailbox_box(*, organisation_id: int, personal: bool, to_index: str) -> str:
    """The mailbox folder of a message: its organisation's, or its addressee's own."""
    return f"person-{to_index}" if personal else f"organisation-{organisation_id}"


class MailboxBackend:
    """The embedded default: one ``.eml`` file a message, for the demo's mailbox page, in a
    folder per organisation and one per addressee for personal messages, so that a reader is
    only ever shown the folders that are theirs."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @staticmethod
    def file_name(message_id: str) -> str:
        return f"{message_id.strip('<>').split('@')[0]}.eml"

    def path_for(self, message_id: str) -> Path:
        """Where the copy of a message is, in whichever box it was filed."""
        name = self.file_name(message_id)
        found = sorted(self.folder.glob(f"*/{name}"))
        return found[0] if found else self.folder / name

    def send(self, message: EmailMessage, *, tag: str, box: str = "") -> str | None:
        if not box or "/" in box or box.startswith("."):
            raise PermanentError("a mailbox message needs the box it belongs to")
        folder = self.folder / box
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / self.file_name(message["Message-ID"])
        partial = path.with_suffix(".part")
        # Written aside and renamed, so a reader never sees half a message.
        partial.write_bytes(message.as_bytes())
        partial.rename(path)
        return None

    def forget(self, message_id: str) -> bool:
        """Delete the copy of one message (a data-subject erasure); False if there was none."""
        path = self.path_for(message_id)
        existed = path.exists()
        path.unlink(missing_ok=True)
        return existed


class SmtpBackend:
    """One connection per worker thread, kept open between messages and reopened when lost."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._local = threading.local()

    def send(self, message: EmailMessage, *, tag: str, box: str = "") -> str | None:
        for attempt in (1, 2):
            smtp = self._connection()
            try:
                smtp.send_message(message)
                return None
            except smtplib.SMTPServerDisconnected:
                # A kept-alive connection the server has since closed: reopen it once.
                self._drop()
                if attempt == 2:
                    raise TransientError("the SMTP server closed the connection") from None
            except smtplib.SMTPRecipientsRefused as exc:
                codes = sorted({code for code, _ in exc.recipients.values()})
                raise _by_code(codes[0], "the SMTP server refused the recipient") from None
            except smtplib.SMTPResponseException as exc:
                self._drop()
                raise _by_code(exc.smtp_code, "the SMTP server refused the message") from None
            except (smtplib.SMTPException, OSError) as exc:
                self._drop()
                raise TransientError(f"SMTP failure ({type(exc).__name__})") from None
        raise AssertionError("unreachable")

    def _connection(self) -> smtplib.SMTP:
        smtp = getattr(self._local, "smtp", None)
        if smtp is None:
            try:
                smtp = self._open()
            except smtplib.SMTPAuthenticationError:
                raise TransientError("SMTP authentication failed; check the credentials") from None
            except (smtplib.SMTPException, OSError) as exc:
                raise TransientError(
                    f"cannot reach the SMTP server ({type(exc).__name__})"
                ) from None
            self._local.smtp = smtp
        return smtp

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.smtp_security == "tls":
            smtp = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds, context=context
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
            if s.smtp_security == "starttls":
                smtp.starttls(context=context)
        if s.smtp_username:
            smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
        return smtp

    def _drop(self) -> None:
        smtp = getattr(self._local, "smtp", None)
        self._local.smtp = None
        if smtp is not None:
            with contextlib.suppress(OSError):
                smtp.close()

    def close(self) -> None:
        smtp = getattr(self._local, "smtp", None)
        if smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()
        self._local.smtp = None


def _by_code(code: int, message: str) -> Exception:
    if 500 <= code < 600:
        return PermanentError(f"{message} (SMTP {code})")
    return TransientError(f"{message} (SMTP {code})")


class PostmarkBackend:
    """Postmark's send API through the ``postmarker`` client."""

    def __init__(self, settings: Settings) -> None:
        from postmarker.core import PostmarkClient

        self.stream = settings.postmark_message_stream
        self.client = PostmarkClient(
            server_token=settings.postmark_token.get_secret_value(),
            timeout=settings.smtp_timeout_seconds,
            root_api_url=settings.postmark_api_url,
        )

    def send(self, message: EmailMessage, *, tag: str, box: str = "") -> str | None:
        from postmarker.exceptions import ClientError

        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        skipped = {"subject", "from", "to", "reply-to", "content-type", "mime-version"}
        headers = {k: str(v) for k, v in message.items() if k.lower() not in skipped}
        try:
            answer = self.client.emails.send(
                From=str(message["From"]),
                To=str(message["To"]),
                Subject=str(message["Subject"]),
                TextBody=text.get_content() if text else None,
                HtmlBody=html.get_content() if html else None,
                ReplyTo=str(message["Reply-To"]) if message["Reply-To"] else None,
                Headers=headers,
                Tag=tag,
                MessageStream=self.stream,
                TrackLinks="None",
            )
        except ClientError as exc:
            # postmarker raises this for any answer with a JSON body, outages included.
            cause = exc.__cause__
            status = getattr(getattr(cause, "response", None), "status_code", 0) or 0
            if status == 429 or status >= 500:
                raise TransientError(f"Postmark answered HTTP {status}") from None
            # 406: the address is inactive at Postmark (bounced or complained before).
            raise PermanentError(f"Postmark refused the message (error {exc.error_code})") from None
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            raise TransientError(f"Postmark answered HTTP {status}") from None
        except requests.RequestException as exc:
            raise TransientError(f"cannot reach Postmark ({type(exc).__name__})") from None
        return str(answer.get("MessageID") or "") or None


_current: tuple[Settings, Backend] | None = None
_lock = threading.Lock()


def get_backend() -> Backend:
    """The configured back-end, made again when the settings change (tests, the demo)."""
    global _current
    settings = get_settings()
    with _lock:
        if _current is None or _current[0] is not settings:
            _current = (settings, _make(settings))
        return _current[1]


def _make(settings: Settings) -> Backend:
    if settings.email_backend == "smtp":
        return SmtpBackend(settings)
    if settings.email_backend == "postmark":
        return PostmarkBackend(settings)
    return MailboxBackend(settings.mailbox_path)
