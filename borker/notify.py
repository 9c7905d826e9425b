"""The interface through which the core notifies the front end of changes.

The core never imports Slack code; the Slack front end implements ``Notifier``.
"""

from __future__ import annotations

from typing import Protocol


class Notifier(Protocol):
    def item_changed(self, item_id: int) -> None:
        """Re-render the item's review message (or post it, if it has none yet)."""

    def announce(self, text: str) -> None:
        """Post a plain notice to the review channel, e.g. a platform that has no Postiz channel."""


class NullNotifier:
    """A notifier that drops every notification, for the CLI and for jobs without a front end."""

    def item_changed(self, item_id: int) -> None:
        return None

    def announce(self, text: str) -> None:
        return None
