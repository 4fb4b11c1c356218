"""Single-step commands, one module per feature; `register` adds them all to an application."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, BaseHandler

import conversations
from handlers import (
    campaigns,
    cancel,
    chats,
    fallback,
    follow,
    groups,
    help,
    language,
    reports,
    standings,
    start,
)

FEATURES = (start, help, language, cancel, groups, chats, follow, reports, standings, campaigns)
FALLBACK_GROUP = 100


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add every feature's handlers; the fallback goes last so it only sees what nobody took."""
    feature_handlers: list[BaseHandler[Any, Any, Any]] = []
    for feature in FEATURES:
        feature_handlers.extend(feature.HANDLERS)
    application.add_handlers(feature_handlers)
    conversations.register(application)
    application.add_handlers(fallback.HANDLERS, group=FALLBACK_GROUP)
