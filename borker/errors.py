"""Errors that carry a plain sentence for the person who triggered them.

The Slack front end shows ``str(error)`` of any ``BorkerError`` as is, so every
message names the value that was wrong and what to do about it.
"""


class BorkerError(Exception):
    """Base class of every failure Borker reports to a user."""


class ConfigurationError(BorkerError):
    """A setting is missing or invalid."""


class ItemNotFound(BorkerError):
    def __init__(self, item_id: int) -> None:
        super().__init__(f"Content item {item_id} not found: it may have been deleted.")
        self.item_id = item_id


class IllegalTransition(BorkerError):
    """A status change that the content lifecycle does not allow."""

    def __init__(self, item_id: int, current: str, requested: str) -> None:
        super().__init__(
            f"Content item {item_id} is {_label(current)}, so it cannot be {_verb(requested)}."
        )
        self.item_id = item_id
        self.current = current
        self.requested = requested


def _label(status: str) -> str:
    return status.replace("_", " ")


def _verb(action: str) -> str:
    """Turn a target status or an action into words: "approved", "moved to pending review"."""
    if action in ("approved", "rejected", "scheduled", "published", "failed", "edited", "cancelled", "regenerated"):
        return action
    return f"moved to {_label(action)}"


class DraftInvalid(BorkerError):
    """The draft text breaks a platform rule, so it cannot be approved as it is."""

    def __init__(self, item_id: int, problem: str) -> None:
        super().__init__(f"Content item {item_id} cannot be approved: {problem}. Edit the draft first.")
        self.item_id = item_id
        self.problem = problem


class GenerationFailed(BorkerError):
    """The LLM did not return a usable draft."""
