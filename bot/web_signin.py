"""Signing in to the ward's web page from the chat: one-time links, sessions and their CSRF tokens.

No password: `/web` in a private chat gives a link (256 random bits, single use, 10 minutes, only a
hash stored). Opening it only shows a button; pressing it (a POST) spends the link and starts an
8-hour session whose cookie token is, again, stored only as a hash. Every request turns the session
back into a `Caller` with the roles the person holds now, so the access policy decides as in chat.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.access import Caller
from bot.membership import audit, caller_of, code_hash
from bot.wiring import Wiring
from storage.models import WebLink, WebSession
from storage.unit_of_work import UnitOfWork

LINK_BYTES = 32  # 256 bits: well above the 128 the page requires
LINK_VALID_FOR = timedelta(minutes=10)
SESSION_LASTS = timedelta(hours=8)
SIGN_IN_PATH = "/signin/"


class SignInRefused(StrEnum):
    """Why a sign-in link did not start a session."""

    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


class SignInError(Exception):
    """A sign-in link that cannot be used; `reason` says why."""

    def __init__(self, reason: SignInRefused) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class SignedIn:
    """A session just started: the cookie's token (shown once, never stored) and when it ends."""

    token: str
    expires_at: datetime


@dataclass(frozen=True)
class WebUser:
    """The person behind a live session, with the roles they hold now, in the session's ward."""

    caller: Caller
    ward_id: int
    session_id: int
    csrf: str


def web_base_url(wiring: Wiring) -> str:
    """Where browsers reach the page: WEB_PUBLIC_URL, else http://127.0.0.1:PORT (the port bound)."""
    settings = wiring.settings
    if settings.web_public_url:
        return settings.web_public_url
    return f"http://127.0.0.1:{wiring.web_port or settings.web_port}"


def csrf_token(token: str) -> str:
    """The session's CSRF token: derived from the cookie's secret, so it needs no storage and a page
    of another site, which cannot read the cookie, cannot know it."""
    return hmac.new(token.encode(), b"wardbot web csrf", hashlib.sha256).hexdigest()[:40]


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison of two secrets."""
    return hmac.compare_digest(given.encode(), expected.encode())


async def issue_link(uow: UnitOfWork, person_id: int, ward_id: int, *, now: datetime) -> str:
    """A fresh one-time sign-in code for this person in this ward (only its hash is stored)."""
    code = secrets.token_urlsafe(LINK_BYTES)
    await uow.web.add_link(
        WebLink(
            ward_id=ward_id,
            person_id=person_id,
            code_hash=code_hash(code),
            created_at=now,
            expires_at=now + LINK_VALID_FOR,
        )
    )
    await audit(uow, "web_link_issued", actor=person_id, ward_id=ward_id)
    return code


async def sign_in(uow: UnitOfWork, code: str, *, now: datetime) -> SignedIn:
    """Spend a sign-in code and start a session; a used, expired or unknown code raises `SignInError`."""
    link = await uow.web.link(code_hash(code.strip()))
    if link is None:
        raise SignInError(SignInRefused.UNKNOWN)
    if link.used_at is not None:
        raise SignInError(SignInRefused.USED)
    if link.expires_at <= now:
        raise SignInError(SignInRefused.EXPIRED)
    link.used_at = now
    token = secrets.token_urlsafe(LINK_BYTES)
    await uow.web.add_session(
        WebSession(
            ward_id=link.ward_id,
            person_id=link.person_id,
            token_hash=code_hash(token),
            created_at=now,
            expires_at=now + SESSION_LASTS,
        )
    )
    await audit(uow, "web_signed_in", actor=link.person_id, ward_id=link.ward_id)
    return SignedIn(token, now + SESSION_LASTS)


async def web_user(uow: UnitOfWork, token: str, *, now: datetime, default_language: str) -> WebUser | None:
    """The signed-in person of a live session, as a caller of the session's ward; None otherwise."""
    if not token:
        return None
    session = await uow.web.live_session(code_hash(token), now)
    if session is None:
        return None
    found = await uow.people.get_with_memberships(session.person_id)
    if found is None:
        return None
    person, memberships = found
    caller = await caller_of(
        uow,
        person,
        memberships=memberships,
        default_language=default_language,
        default_ward_id=session.ward_id,
    )
    if caller.ward_id != session.ward_id:
        return None  # moved to another ward since signing in: sign in again there
    return WebUser(caller=caller, ward_id=session.ward_id, session_id=session.id, csrf=csrf_token(token))


async def sign_out(uow: UnitOfWork, token: str, *, now: datetime) -> None:
    """End the session of this token (nothing happens for an unknown one)."""
    session = await uow.web.live_session(code_hash(token), now)
    if session is None:
        return
    session.ended_at = now
    await audit(uow, "web_signed_out", actor=session.person_id, ward_id=session.ward_id)
