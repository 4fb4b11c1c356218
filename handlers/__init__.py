"""Single-step commands, one module per feature; importing the package registers them all."""

from __future__ import annotations

from handlers import (
    assessment,
    campaigns,
    cancel,
    chats,
    fallback,
    follow,
    groups,
    help,
    language,
    privacy,
    province,
    reports,
    staff,
    standings,
    start,
)

FEATURES = (
    start,
    help,
    language,
    cancel,
    groups,
    staff,
    chats,
    follow,
    reports,
    standings,
    campaigns,
    assessment,
    province,
    privacy,
    fallback,
)
