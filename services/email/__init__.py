"""E-mail: templates, back-ends (SMTP, Postmark, a local mailbox) and the outbox.

To send an e-mail from anywhere that holds a session::

    queue_email(
        session: Session,
        *,
        organisation_id: int,            # whose name, logo and colour; whose suppression list
        to: str,                         # the address (stored encrypted)
        template: str,                   # a name in services/email/templates, e.g. "notice"
        context: dict[str, Any],         # the template's variables, JSON-serialisable
        transactional: bool = True,      # False for campaign mail: an unsubscribe stops it too
        reply_to: str | None = None,
        recipient_id: int | None = None, # the feedback recipient it is for, if any
    ) -> models.EmailMessage

It records the message in the outbox (``email_messages``) and sends it through the worker
(the ``email.send`` actor) once the caller's transaction commits. The generic ``notice``
template takes ``subject``, ``body``, ``action_url`` and ``action_label`` (the last two may be
None). Every message carries ``List-Unsubscribe`` and ``List-Unsubscribe-Post`` (RFC 8058);
bounces and spam complaints stop every later message to the address, an unsubscribe stops the
non-transactional ones.
"""

from services.email.queue import queue_email

__all__ = ["queue_email"]
