"""Typed Slack identifiers and the payloads Borker puts into buttons and modals."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from borker.errors import BorkerError


class ActionId(StrEnum):
    APPROVE = "item_approve"
    REJECT = "item_reject"
    EDIT = "item_edit"
    CANCEL = "item_cancel"
    REGENERATE = "item_regenerate"
    VIEW_IN_POSTIZ = "item_view_in_postiz"
    VIEW_LIVE = "item_view_live"


class CallbackId(StrEnum):
    EDIT_DRAFT = "edit_draft"


class BlockId(StrEnum):
    EDIT_TEXT = "edit_text"
    ITEM_ACTIONS = "item_actions"


class ItemRef(BaseModel):
    """A button value or modal ``private_metadata``: the item id and the version it showed.

    The version lets a click on an outdated message be recognised as stale.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int = Field(ge=1, le=2**31 - 1)
    v: int = Field(ge=1, le=2**31 - 1)

    def dump(self) -> str:
        return self.model_dump_json()

    @classmethod
    def parse(cls, raw: str | None) -> "ItemRef":
        try:
            return cls.model_validate_json(raw or "")
        except ValidationError:
            raise BorkerError(
                "This button is not one Borker can read (it may come from an older version): "
                "use `/borker queue` to find the item."
            ) from None
