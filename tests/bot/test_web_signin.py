"""Sign-in links and sessions of the web page as a service: single use, ten minutes, hashes only,
forgotten once expired."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.access import Role
from bot.membership import code_hash
from bot.scheduler import Scheduler
from bot.web_signin import SignInError, SignInRefused, csrf_token, issue_link, sign_in, web_user
from bot.wiring import Wiring
from storage.models import WebLink, WebSession
from storage.unit_of_work import unit_of_work
from tests.wards import NOW, WARD


async def test_a_link_signs_in_once_within_ten_minutes_and_only_hashes_are_kept(wiring: Wiring) -> None:
    async with unit_of_work(wiring.factory) as uow:
        person = await uow.people.ensure("telegram", "9", display_name="Hoa")
        person.is_staff, person.ward_id = True, WARD
        code = await issue_link(uow, person.id, WARD, now=NOW)
        late = await issue_link(uow, person.id, WARD, now=NOW)
    assert len(code) >= 43 and code != late
    async with unit_of_work(wiring.factory) as uow:
        signed = await sign_in(uow, code, now=NOW + timedelta(minutes=9))
        with pytest.raises(SignInError) as used:
            await sign_in(uow, code, now=NOW + timedelta(minutes=9))
        assert used.value.reason is SignInRefused.USED
        with pytest.raises(SignInError) as expired:
            await sign_in(uow, late, now=NOW + timedelta(minutes=10))
        assert expired.value.reason is SignInRefused.EXPIRED
        with pytest.raises(SignInError) as unknown:
            await sign_in(uow, "x" * 43, now=NOW)
        assert unknown.value.reason is SignInRefused.UNKNOWN
        stored = [link.code_hash for link in await uow.session.scalars(select(WebLink))]
        assert code not in stored and code_hash(code) in stored
        sessions = [s.token_hash for s in await uow.session.scalars(select(WebSession))]
        assert sessions == [code_hash(signed.token)]
        user = await web_user(uow, signed.token, now=NOW + timedelta(hours=7), default_language="vi")
        assert user is not None and user.ward_id == WARD and user.csrf == csrf_token(signed.token)
        assert (
            await web_user(uow, signed.token, now=NOW + timedelta(hours=8, minutes=10), default_language="vi")
            is None
        )
        now_staff = await uow.people.get(person.id)
        assert now_staff is not None
        now_staff.is_staff = False  # removed from staff: the session shows them as what they are now
        user = await web_user(uow, signed.token, now=NOW, default_language="vi")
        assert user is not None and not user.caller.has(Role.STAFF)


async def test_expired_links_and_sessions_are_forgotten(wiring: Wiring) -> None:
    async with unit_of_work(wiring.factory) as uow:
        person = await uow.people.ensure("telegram", "9", display_name="Hoa")
        old = await issue_link(uow, person.id, WARD, now=NOW - timedelta(days=3))
        await sign_in(uow, old, now=NOW - timedelta(days=3))
        await issue_link(uow, person.id, WARD, now=NOW)
    wiring.clock = lambda: NOW
    await Scheduler(wiring, lambda: None).prune()
    async with unit_of_work(wiring.factory) as uow:
        links = list(await uow.session.scalars(select(WebLink)))
        assert len(links) == 1 and links[0].created_at == NOW
        assert list(await uow.session.scalars(select(WebSession))) == []
