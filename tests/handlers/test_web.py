"""/web and /trangweb in chat: who gets a sign-in link to the ward's web page, and where."""

from __future__ import annotations

import pytest

from bot.logs import Redactor
from tests.bot.channels.test_web import LINK
from tests.harness import Person, RunningBot, texts
from tests.wards import appoint


@pytest.fixture
async def staff(reporting: RunningBot) -> Person:
    """Ward staff (user 1), with Nam as head of TDP01."""
    await appoint(reporting, 501, "Nam", group="TDP01")
    return reporting.person(1, "Cán bộ")


async def test_staff_and_heads_get_a_one_time_link_in_private(reporting: RunningBot, staff: Person) -> None:
    answer = texts(await staff.says("/web"))
    assert "Link đăng nhập trang web của Phường Tràng Cát." in answer
    assert "dùng được một lần, trong 10 phút" in answer
    first = LINK.search(answer)
    second = LINK.search(texts(await staff.says("/trangweb")))
    assert first is not None and second is not None and first[2] != second[2]
    assert len(first[2]) >= 43  # 256 random bits, URL-safe

    head = reporting.person(501, "Nam")
    assert LINK.search(texts(await head.says("/web"))) is not None


async def test_residents_and_group_chats_get_no_link(reporting: RunningBot, staff: Person) -> None:
    lan = reporting.person(503, "Lan")
    await lan.says("/follow TDP01")
    refused = texts(await lan.says("/web"))
    assert "dành cho tổ trưởng" in refused and "/signin/" not in refused
    in_group = staff.in_group(-100500, "Tổ 1")
    answer = texts(await in_group.says("/web"))
    assert "trò chuyện riêng" in answer and "/signin/" not in answer


def test_the_log_never_shows_a_sign_in_code() -> None:
    """Every log handler applies the Redactor: a sign-in link's code is masked like an invite's."""
    line = "sendMessage: http://127.0.0.1:8080/signin/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcdef"
    assert Redactor().redact(line) == "sendMessage: http://127.0.0.1:8080/signin/<code>"
