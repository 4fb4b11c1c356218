"""Logging that never shows a secret: tokens, webhook secrets and one-time codes are masked in every line.

Libraries log what they send (python-telegram-bot's debug lines carry message texts, and an invite
link is a text); a filter on the handlers masks them at any verbosity, tracebacks included.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

# One-time codes travel as deep links (start=CODE), as typed commands (/start CODE) and as sign-in links.
CODE_PATTERNS = (
    (re.compile(r"(start=)[A-Za-z0-9_-]{6,}"), r"\1<code>"),
    (re.compile(r"(/start\s+)[A-Za-z0-9_-]{6,}"), r"\1<code>"),
    (re.compile(r"(/web/[a-z-]*/?)[A-Za-z0-9_-]{16,}"), r"\1<code>"),
    (re.compile(r"(/signin/)[A-Za-z0-9_-]{16,}"), r"\1<code>"),
)
QUIET_LIBRARIES = ("httpx", "httpcore", "alembic.runtime.plugins", "matplotlib", "apscheduler")


class Redactor(logging.Filter):
    """Masks the given secrets and every one-time code in a record's message and traceback."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<secret>")
        for pattern, replacement in CODE_PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def configure(verbose: bool) -> None:
    """Log lines with time, level and source; chatty libraries only from warnings on."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    protect(())


def protect(secrets: Iterable[str]) -> None:
    """Mask `secrets` (and one-time codes) in everything the root logger's handlers write."""
    redactor = Redactor(secrets)
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, Redactor)]:
            handler.removeFilter(old)
        handler.addFilter(redactor)
