"""The one shape of a refusal by a domain service: a reason that picks the reply, details that fill it."""

from __future__ import annotations

from typing import Any


class RuleError(Exception):
    """A request a rule refuses; `reason` picks the reply, `details` fill it."""

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details
