"""Rendering a template into a MIME message with both parts and the RFC 8058 headers.

Templates live in ``templates/`` as ``<name>.subject.txt``, ``<name>.txt`` and ``<name>.html``.
HTML is autoescaped, so a name or a comment from a customer can never become markup; the plain
text part is not HTML and is left as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,  # a missing variable is a bug, not an empty string in a mail
    trim_blocks=True,
    lstrip_blocks=True,
)
DEFAULT_COLOUR = "#2f6fde"


def template_exists(name: str) -> bool:
    return (TEMPLATES / f"{name}.html").is_file() and (TEMPLATES / f"{name}.txt").is_file()


@dataclass(frozen=True)
class Branding:
    name: str
    logo_url: str | None = None
    colour: str | None = None


@dataclass(frozen=True)
class Envelope:
    """Everything about a message that is not its template."""

    sender: str
    to: str
    message_id: str
    unsubscribe_url: str
    reply_to: str | None = None


def compose(
    *, template: str, context: dict[str, Any], branding: Branding, envelope: Envelope
) -> EmailMessage:
    variables = {
        **context,
        "organisation": {
            "name": branding.name,
            "logo_url": branding.logo_url,
            "colour": branding.colour or DEFAULT_COLOUR,
        },
        "unsubscribe_url": envelope.unsubscribe_url,
    }
    subject = _env.get_template(f"{template}.subject.txt").render(variables)
    message = EmailMessage()
    # A header must be one line, whatever a variable held.
    message["Subject"] = " ".join(subject.split())
    message["From"] = envelope.sender
    message["To"] = envelope.to
    message["Message-ID"] = envelope.message_id
    message["Date"] = formatdate(usegmt=True)
    if envelope.reply_to:
        message["Reply-To"] = formataddr((branding.name, envelope.reply_to))
    message["List-Unsubscribe"] = f"<{envelope.unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(_env.get_template(f"{template}.txt").render(variables))
    message.add_alternative(_env.get_template(f"{template}.html").render(variables), subtype="html")
    return message
