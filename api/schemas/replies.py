"""Our outbox replies to inbox items."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from api.schemas.common import Input, SafeText
from models import ApprovalStatus, Reply, ReplyAction, ReplyMode, ReplyStatus
from services.replies import replies

# Where a reply is: waiting for a manager (approval flow), then in the outbox.
ReplyState = ApprovalStatus | ReplyStatus
# What the provider decided of a reply it received (connectors.records.ReplyState).
ModerationState = Literal["pending", "published", "rejected"]


def _not_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


class ReplyIn(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"text": "Thank you, Ada!"}]})

    # The provider's length limit depends on the item, so it is checked by the service; this
    # bound only keeps absurd bodies out.
    text: Annotated[SafeText, Field(max_length=100_000), AfterValidator(_not_blank)]
    # A reply that looks like it holds personal data is refused unless this says it is meant.
    confirm_personal_data: bool = False
    mode: ReplyMode | None = Field(
        None,
        description="Where the provider shows several answers (Facebook: the page's comments "
        "under an item), required: `add` publishes one more, `edit` changes the one the item "
        "shows (`reply.external_id`); a 409 names `mode` when the item shows none. Where the "
        "provider keeps one reply (Google, feedback) it may be left out: the reply is created "
        "or replaced; `add` on an item that has a reply is a 409, `edit` without one too. The "
        "item's `reply_modes` lists what fits now.",
    )


class ReplyEdit(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"text": "Thank you, Ada!"}]})

    text: Annotated[SafeText, Field(max_length=100_000), AfterValidator(_not_blank)]
    confirm_personal_data: bool = False


class ReplyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    item_id: int
    action: ReplyAction
    status: ReplyState
    attempts: int
    last_error: str | None
    body: str
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    approved_by_user_id: int | None
    approved_at: datetime | None
    moderation_state: ModerationState | None = Field(
        description="What the provider decided once it had the reply: `pending` until it "
        "decides (the reply is `sent` meanwhile), `rejected` (the reply is then `failed`)"
    )
    policy_violation: str | None = Field(
        description="The provider's reason for rejecting the reply, as it words it"
    )
    editable: bool = Field(
        description="Not yet sent and never attempted: `PATCH /replies/{id}` may change its text"
    )
    cancellable: bool = Field(description="Not yet sent: `POST /replies/{id}/cancel` withdraws it")

    @model_validator(mode="before")
    @classmethod
    def _states(cls, data: Any) -> Any:
        # Read off the outbox row by the service's rules, so the dashboard offers exactly what
        # the API would accept.
        if isinstance(data, Reply):
            return {
                **{name: getattr(data, name) for name in cls.model_fields if hasattr(data, name)},
                "editable": replies.editable(data),
                "cancellable": replies.cancellable(data),
            }
        return data


class ReplyEnvelope(BaseModel):
    reply: ReplyOut


class ReplyPage(BaseModel):
    replies: list[ReplyOut]
    next_cursor: str | None
