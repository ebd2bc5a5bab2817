"""Writing replies into the outbox; `workers.outbox.send_reply` delivers them.

The row is written before anything is sent, and the message goes out only after the commit, so
a reply is never lost and never sent for a row that does not exist. A row's ``action`` says what
to do at the provider: post a new reply, update the posted one, or delete it.

Two kinds of provider: Google keeps one reply per review, which a write creates or replaces;
Facebook shows every comment the page wrote under an item, so the caller says whether to add
one or to edit the one the item shows (``ReplyMode``), and nothing is edited silently. Where the
organisation asks for approval, a responder's row waits in ``awaiting_approval`` and nothing is
enqueued until a manager approves it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connectors import providers
from connectors.capability import ReplyLimit as Limit
from core.errors import Conflict, Invalid
from models import (
    ApprovalStatus,
    Item,
    Kind,
    Organisation,
    Reply,
    ReplyAction,
    ReplyMode,
    ReplyStatus,
    Role,
    Source,
)
from services.inbox.inbox import get_item
from services.jobs import send_after_commit
from services.privacy.settings import check_reply_text
from services.scope import Scope, get_in_scope, in_scope

# The kinds of item a reply can be sent to, with the provider's limit: what each capability
# declares (``connectors.providers``), and plaudit's own feedback answers, whose reply is
# e-mailed to the reviewer (workers.reviewer_notice).
REPLY_LIMITS: dict[tuple[str, str], Limit] = {
    **providers.REPLY_LIMITS,
    (Source.PLAUDIT, Kind.FEEDBACK): Limit(5000, "characters"),
}
_PROVIDER_NAMES = {Source.GOOGLE: "Google", Source.FACEBOOK: "Facebook"}
_ACTIONS = {ReplyMode.ADD: ReplyAction.POST, ReplyMode.EDIT: ReplyAction.UPDATE}


def single_reply(item: Item) -> bool:
    """True where the provider keeps one reply per item (a write creates or replaces it)."""
    return (item.source, item.kind) not in providers.SEVERAL_ANSWERS


def reply_modes(item: Item) -> list[ReplyMode]:
    """What a reply to the item can do now: edit the answer it shows, add one, or both."""
    if item.deleted or (item.source, item.kind) not in REPLY_LIMITS:
        return []
    answered = item.reply_text is not None
    if single_reply(item):
        return [ReplyMode.EDIT] if answered else [ReplyMode.ADD]
    return [ReplyMode.ADD, ReplyMode.EDIT] if answered else [ReplyMode.ADD]


def action_for(item: Item, mode: ReplyMode | None) -> ReplyAction:
    """The outbox action a reply in ``mode`` stands for; refuses a mode that does not fit."""
    answered = item.reply_text is not None
    if mode is None:
        # Only an answer already shown makes a reply ambiguous: with none, adding is all it can do.
        if answered and not single_reply(item):
            raise Invalid(
                "mode_required",
                'Say whether to "add" an answer or "edit" the one the item shows',
                field="mode",
            )
        return ReplyAction.UPDATE if answered else ReplyAction.POST
    if mode == ReplyMode.ADD and answered and single_reply(item):
        provider = _PROVIDER_NAMES.get(item.source, item.source)
        raise Conflict(
            "single_reply",
            f'A {provider} {item.kind} has one reply: "edit" it (or leave mode out)',
            field="mode",
        )
    return _ACTIONS[mode]


def create_reply(
    session: Session,
    *,
    scope: Scope,
    item_id: int,
    text: str,
    idempotency_key: str,
    action: ReplyAction = ReplyAction.POST,
    mode: ReplyMode | None = None,
    confirm_personal_data: bool = False,
) -> tuple[Reply, bool]:
    """The outbox row for this reply and whether it is new (False: the key was seen before).
    Written by the person of ``scope`` (for a key: its creator), with the scope's role.

    ``action=POST`` is a reply in ``mode`` (see ``action_for``), which decides the action;
    without one, where the provider keeps one reply, it is created or replaced. ``UPDATE`` is
    an edit (``mode`` may only confirm it), ``DELETE`` a delete."""
    organisation_id = scope.organisation_id
    item = get_item(session, scope=scope, item_id=item_id)
    if action == ReplyAction.UPDATE and mode == ReplyMode.ADD:
        raise Invalid(
            "mode_mismatch", "An edit changes the answer shown; post to add one", field="mode"
        )
    # What the caller asked for; None: left to the item's state, which may have changed since.
    asked = (_ACTIONS[mode] if mode else None) if action == ReplyAction.POST else action
    existing = _by_key(session, organisation_id=organisation_id, idempotency_key=idempotency_key)
    if existing is not None:
        return _replayed(existing, item_id=item_id, text=text, action=asked), False
    if action == ReplyAction.POST:
        action = action_for(item, mode)
    check_repliable(item, text=text, action=action)
    if action != ReplyAction.DELETE:
        check_reply_text(
            session, organisation_id=organisation_id, text=text, confirmed=confirm_personal_data
        )
    waits = _needs_approval(session, organisation_id=organisation_id, role=scope.role)
    reply = Reply(
        organisation_id=organisation_id,
        item_id=item.id,
        author_user_id=scope.user_id,
        body=text,
        action=action,
        # What an edit or a delete acts on: the answer the item shows (a Facebook comment id).
        provider_reply_id=item.reply_external_id if action != ReplyAction.POST else None,
        status=ApprovalStatus.AWAITING_APPROVAL if waits else ReplyStatus.PENDING,
        attempts=0,
        idempotency_key=idempotency_key,
    )
    try:
        # A savepoint, so that losing a race for the same key leaves the session usable.
        with session.begin_nested():
            session.add(reply)
    except IntegrityError:
        winner = _by_key(session, organisation_id=organisation_id, idempotency_key=idempotency_key)
        assert winner is not None  # the unique index said it exists
        return _replayed(winner, item_id=item_id, text=text, action=action), False
    if not waits:
        send_after_commit(session, "reply.send", reply.id)
    return reply, True


def decide(
    session: Session,
    *,
    scope: Scope,
    reply_id: int,
    approve: bool,
) -> Reply:
    """A manager's answer to a reply awaiting approval: send it, or never."""
    reply = get_in_scope(session, scope, Reply, reply_id, what="Reply", for_update=True)
    if reply.status != ApprovalStatus.AWAITING_APPROVAL:
        raise Conflict("not_awaiting_approval", "This reply is not awaiting approval")
    reply.approved_by_user_id = scope.user_id
    reply.approved_at = datetime.now(UTC)
    if approve:
        # The item may have changed while the reply waited (deleted, replied elsewhere).
        item = session.get_one(Item, reply.item_id)
        check_repliable(item, text=reply.body, action=ReplyAction(reply.action))
        reply.status = ReplyStatus.PENDING
        send_after_commit(session, "reply.send", reply.id)
    else:
        reply.status = ApprovalStatus.REJECTED
    return reply


# Not yet handed to the provider: a reply in these states may be edited (if no attempt began)
# or cancelled. `sending` and `sent` are the worker's, and a cancelled reply stays cancelled.
QUEUED = frozenset(
    {
        ReplyStatus.PENDING,
        ApprovalStatus.AWAITING_APPROVAL,
        ApprovalStatus.REJECTED,
        ReplyStatus.FAILED,
    }
)
_NOT_QUEUED = {
    ReplyStatus.SENDING: ("reply_sending", "The reply is being sent; it can no longer change"),
    ReplyStatus.SENT: ("reply_sent", "The reply was sent; edit or delete it at the item"),
    ReplyStatus.CANCELLED: ("reply_cancelled", "The reply was cancelled"),
}


def editable(reply: Reply) -> bool:
    """Whether the reply's text may still change: queued, and never attempted. Once an attempt
    began its outcome may be unknown, and the next attempt reads back the text it sent to find
    it at the provider: a changed text would not be found and would be posted a second time."""
    return (
        reply.status in QUEUED
        and reply.attempt_started_at is None
        and reply.action != ReplyAction.DELETE
    )


def cancellable(reply: Reply) -> bool:
    return reply.status in QUEUED


def edit_queued(
    session: Session,
    *,
    scope: Scope,
    reply_id: int,
    text: str,
    confirm_personal_data: bool = False,
) -> Reply:
    """Change the text of a reply not yet sent. A change that the caller's role would have to
    have approved waits for approval again (an approved text is not another text); a rejected or
    failed reply edited is submitted again."""
    reply = _queued(session, scope=scope, reply_id=reply_id)
    if not editable(reply):
        if reply.action == ReplyAction.DELETE:
            raise Conflict("reply_is_delete", "A deletion has no text to edit; cancel it")
        raise Conflict(
            "reply_attempted",
            "An attempt to send this reply has begun, so its text can no longer change; "
            "cancel it and write another",
        )
    item = session.get_one(Item, reply.item_id)
    check_repliable(item, text=text, action=ReplyAction(reply.action))
    check_reply_text(
        session, organisation_id=scope.organisation_id, text=text, confirmed=confirm_personal_data
    )
    reply.body = text
    reply.last_error = None
    waits = _needs_approval(session, organisation_id=scope.organisation_id, role=scope.role)
    if reply.status == ApprovalStatus.AWAITING_APPROVAL or waits:
        # A pending row's message finds it no longer pending and leaves it.
        reply.status = ApprovalStatus.AWAITING_APPROVAL
        reply.approved_by_user_id = reply.approved_at = None
    elif reply.status != ReplyStatus.PENDING:  # rejected or failed: submitted again
        reply.status = ReplyStatus.PENDING
        send_after_commit(session, "reply.send", reply.id)
    # Still pending: its message is already on its way, and the worker reads the new text.
    return reply


def cancel_queued(session: Session, *, scope: Scope, reply_id: int) -> tuple[Reply, bool]:
    """Withdraw a reply not yet sent, and whether this call did it (False: it already was).
    A message still on its way for it finds it cancelled and sends nothing."""
    reply = _queued(session, scope=scope, reply_id=reply_id, cancelling=True)
    if reply.status == ReplyStatus.CANCELLED:
        return reply, False
    reply.status = ReplyStatus.CANCELLED
    return reply, True


def _queued(session: Session, *, scope: Scope, reply_id: int, cancelling: bool = False) -> Reply:
    """The reply, locked, if it is still queued (a 404 outside the scope, a 409 otherwise)."""
    get_in_scope(session, scope, Reply, reply_id, what="Reply")
    # The reply worker holds the row's lock while it claims it and while it sends: a row locked
    # now is being sent, and waiting for the lock would wait out a provider's call.
    reply = session.scalar(
        select(Reply)
        .where(Reply.id == reply_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if reply is None:
        raise Conflict("reply_sending", "The reply is being sent; it can no longer change")
    if reply.status in QUEUED or (cancelling and reply.status == ReplyStatus.CANCELLED):
        return reply
    code, message = _NOT_QUEUED.get(reply.status, ("reply_not_queued", "The reply is not queued"))
    raise Conflict(code, message)


def get_reply(session: Session, *, scope: Scope, reply_id: int) -> Reply:
    return get_in_scope(session, scope, Reply, reply_id, what="Reply")


def list_replies(
    session: Session,
    *,
    scope: Scope,
    status: str | None,
    before_id: int | None,
    limit: int,
) -> tuple[list[Reply], bool]:
    query = select(Reply).where(*in_scope(Reply, scope))
    if status is not None:
        query = query.where(Reply.status == status)
    if before_id is not None:
        query = query.where(Reply.id < before_id)
    rows = list(session.scalars(query.order_by(Reply.id.desc()).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def _needs_approval(session: Session, *, organisation_id: int, role: Role) -> bool:
    if role.at_least(Role.MANAGER):
        return False
    required = session.scalar(
        select(Organisation.reply_approval_required).where(Organisation.id == organisation_id)
    )
    return bool(required)


def _by_key(session: Session, *, organisation_id: int, idempotency_key: str) -> Reply | None:
    return session.scalar(
        select(Reply).where(
            Reply.organisation_id == organisation_id, Reply.idempotency_key == idempotency_key
        )
    )


def _replayed(reply: Reply, *, item_id: int, text: str, action: ReplyAction | None) -> Reply:
    # A retried request must be the same request; anything else is a client bug to surface.
    # (action None: the item decided it the first time, and may decide otherwise now.)
    changed = action is not None and reply.action != action
    if reply.item_id != item_id or reply.body != text or changed:
        raise Conflict(
            "idempotency_key_reused",
            "This Idempotency-Key was already used for a different reply",
            field="Idempotency-Key",
        )
    return reply


def check_repliable(item: Item, *, text: str, action: ReplyAction = ReplyAction.POST) -> None:
    if item.deleted:
        raise Conflict("item_deleted", "The item was deleted at the provider")
    limit = REPLY_LIMITS.get((item.source, item.kind))
    if limit is None:
        raise Conflict("not_repliable", f"A {item.source} {item.kind} cannot be replied to")
    if action != ReplyAction.POST and item.reply_text is None:
        raise Conflict(
            "no_reply",
            'The item shows no answer at the provider to edit or delete; "add" one',
            field="mode",
        )
    size = limit.measure(text)
    if size > limit.size:
        provider = _PROVIDER_NAMES.get(item.source, item.source)
        raise Invalid(
            "too_long",
            f"A {provider} reply can be at most {limit.size} {limit.unit}"
            f"{' of UTF-8 text' if limit.unit == 'bytes' else ''}; this one is {size}",
            field="text",
        )
