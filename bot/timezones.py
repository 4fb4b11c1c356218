"""Time zone names: only IANA names ("Asia/Ho_Chi_Minh") are accepted, with a suggestion otherwise."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SUGGESTED = "Asia/Ho_Chi_Minh"  # Vietnam's one time zone
MAX_NAME = 64


def check_timezone(name: str) -> str:
    """`name` without surrounding spaces when it is an IANA time zone; otherwise a ValueError whose text
    says what to write instead ("Hanoi", "GMT+7" and "ICT" are not IANA names)."""
    stripped = name.strip()
    shown = json.dumps(stripped[:MAX_NAME], ensure_ascii=False)
    try:
        if not stripped or len(stripped) > MAX_NAME:
            raise ValueError
        ZoneInfo(stripped)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f'unknown time zone {shown}; use an IANA name such as "{SUGGESTED}"') from None
    return stripped
