"""Reply templates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Id, Input, Name, SafeText

TemplateBody = Annotated[
    SafeText,
    Field(
        min_length=1,
        max_length=8000,
        description="Jinja2 text with `{{ reviewer_first_name }}`, `{{ reviewer_name }}`, "
        "`{{ location_name }}`, `{{ organisation_name }}` and `{{ rating }}`.",
    ),
]


class TemplateIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Thanks",
                    "body": "Thank you, {{ reviewer_first_name }}! See you at {{ location_name }}.",
                }
            ]
        }
    )

    name: Name
    body: TemplateBody


class TemplatePatch(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Warm thanks"}]})

    name: Name | None = None
    body: TemplateBody | None = None


class TemplateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    body: str
    created_at: datetime
    updated_at: datetime


class TemplateList(BaseModel):
    templates: list[TemplateOut]
    variables: dict[str, str] = Field(description="What a template may use.")


class RenderIn(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"item_id": 1}]})

    item_id: Id


class RenderOut(BaseModel):
    text: str
