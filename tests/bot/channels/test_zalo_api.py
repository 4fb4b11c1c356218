"""The Zalo Bot Platform client against the fake Zalo server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web

from bot.channels.zalo_api import (
    ZaloClient,
    ZaloError,
    ZaloForbidden,
    ZaloMessage,
    parse_update,
    parse_updates,
    secret_matches,
    zalo_trouble,
)
from bot.replies import split_text
from bot.retry import retry
from tests.fakes.fake_zalo_api import (
    DISPLAY_NAME,
    DOCUMENTED,
    PUBLIC_CLIENT,
    STYLES,
    WRAPPED,
    FakeZaloApi,
    ZaloStyle,
    ZaloUser,
)

LAN = ZaloUser("u-lan-1", "Nguyễn Thị Lan")
HUNG = ZaloUser("u-hung-2", "Trần Văn Hùng")


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloApi]:
    async with FakeZaloApi() as server:
        yield server


@pytest.fixture
async def client(fake: FakeZaloApi) -> AsyncIterator[ZaloClient]:
    zalo = ZaloClient(fake.token, fake.base_url)
    try:
        yield zalo
    finally:
        await zalo.close()


T = TypeVar("T")


class Delays(list[float]):
    """The delays the retry helper asked for, without waiting them out."""

    async def wait(self, delay: float) -> None:
        self.append(delay)


@pytest.fixture
def delays() -> Delays:
    return Delays()


async def with_retry(call: Callable[[], Awaitable[T]], delays: Delays, *, attempts: int = 4) -> T:
    """Zalo calls as the bot retries them (bot.retry with Zalo's classification)."""
    return await retry(call, classify=zalo_trouble, what="Zalo", attempts=attempts, sleep=delays.wait)


async def get_all(client: ZaloClient, count: int) -> list[ZaloMessage]:
    """Long-poll until `count` updates came, however many each call brought."""
    got: list[ZaloMessage] = []
    for _ in range(count):
        got.extend(await client.get_updates(timeout=1))
        if len(got) >= count:
            break
    return got


async def test_get_me(client: ZaloClient, fake: FakeZaloApi) -> None:
    me = await client.get_me()
    assert me == {
        "id": fake.bot_id,
        "account_name": f"bot.{fake.bot_id}",
        "account_type": "BASIC",
        "can_join_groups": True,
    }
    assert fake.calls[-1][0] == "getMe"


async def test_the_documented_shape_gives_one_update_per_call(client: ZaloClient, fake: FakeZaloApi) -> None:
    first = fake.push_text(LAN, "xin chào")
    fake.push_text(HUNG, "báo cáo", chat_id="g-1", group=True)
    assert "event_name" not in first and first["message"]["from"]["first_name"] == LAN.display_name

    [one] = await client.get_updates(timeout=1)
    assert (one.event, one.text, one.user_id, one.chat_id) == (
        "message.text.received",
        "xin chào",
        LAN.id,
        LAN.id,
    )
    assert one.display_name == "Nguyễn Thị Lan"
    assert one.message_id == first["message"]["message_id"]
    assert not one.is_group
    assert one.date.tzinfo is not None
    assert abs((one.date - datetime.now(UTC)).total_seconds()) < 60

    [two] = await client.get_updates(timeout=1)
    assert (two.text, two.chat_id, two.user_id, two.is_group) == ("báo cáo", "g-1", HUNG.id, True)
    assert one.update_id != two.update_id


async def test_an_empty_long_poll_gives_nothing(client: ZaloClient, fake: FakeZaloApi) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await client.get_updates(timeout=1) == []
    assert 0.8 <= loop.time() - started < 5
    assert fake.calls[-1] == ("getUpdates", {"timeout": "1"})  # documented as a string


async def test_a_long_poll_wakes_when_a_message_arrives(client: ZaloClient, fake: FakeZaloApi) -> None:
    polling = asyncio.create_task(client.get_updates(timeout=10))
    await asyncio.sleep(0.2)
    fake.push_text(LAN, "vừa tới")
    [message] = await asyncio.wait_for(polling, 5)
    assert message.text == "vừa tới"


async def test_a_redelivered_update_keeps_its_update_id(client: ZaloClient, fake: FakeZaloApi) -> None:
    update = fake.push_text(LAN, "một lần")
    fake.push_raw(update)
    first, again = await get_all(client, 2)
    assert first.update_id == again.update_id
    assert 0 <= first.update_id < 2**63


@pytest.mark.parametrize("style", STYLES.values(), ids=STYLES.keys())
async def test_every_style_reads_the_same(client: ZaloClient, fake: FakeZaloApi, style: ZaloStyle) -> None:
    """Names, pictures, result shapes and event names, whichever variant the deployment sends."""
    fake.style = style
    fake.push_text(LAN, "xin chào")
    fake.push_image(LAN, "https://photos.invalid/a.jpg", caption="rác ở ngõ 5")
    fake.push_image(HUNG, "https://photos.invalid/b.jpg", chat_id="g-1", group=True)
    fake.push_sticker(LAN)
    fake.push_unsupported(LAN)
    text, image, bare_image, sticker, unsupported = await get_all(client, 5)
    assert (text.event, text.text, text.photo_url) == ("message.text.received", "xin chào", None)
    assert (image.event, image.photo_url, image.text) == (
        "message.image.received",
        "https://photos.invalid/a.jpg",
        "rác ở ngõ 5",
    )
    assert (bare_image.event, bare_image.text, bare_image.is_group) == ("message.image.received", None, True)
    assert (sticker.event, sticker.text, sticker.photo_url) == ("message.sticker.received", None, None)
    assert (unsupported.event, unsupported.text) == ("message.unsupported.received", None)
    assert [m.display_name for m in (text, image, bare_image, sticker, unsupported)] == [
        LAN.display_name,
        LAN.display_name,
        HUNG.display_name,
        LAN.display_name,
        LAN.display_name,
    ]
    calls = [params for name, params in fake.calls if name == "getUpdates"]
    assert len(calls) == (1 if style.result_list else 5)


def test_the_presets_send_every_variant() -> None:
    styles = list(STYLES.values())
    assert {s.name_field for s in styles} == {"display_name", "name", "first_name", "first_and_last_name"}
    assert {s.photo_field for s in styles} == {"photo", "photo_url"}
    assert (
        {s.result_list for s in styles}
        == {s.event_name for s in styles}
        == {s.wrapped for s in styles}
        == {
            True,
            False,
        }
    )
    assert ZaloStyle() == DOCUMENTED and PUBLIC_CLIENT.result_list and WRAPPED.wrapped


async def test_a_list_result_yields_every_update(client: ZaloClient, fake: FakeZaloApi) -> None:
    fake.style = PUBLIC_CLIENT
    for n in range(3):
        fake.push_text(LAN, f"tin {n}")
    messages = await client.get_updates(timeout=1)
    assert [m.text for m in messages] == ["tin 0", "tin 1", "tin 2"]
    assert len({m.update_id for m in messages}) == 3
    assert [name for name, _ in fake.calls] == ["getUpdates"]


async def test_a_malformed_update_is_skipped_and_logged_once(
    client: ZaloClient, fake: FakeZaloApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.channels.zalo_api")
    broken = {
        "message": {"message_id": "m-9", "chat": {"id": "c-9"}, "from": {"name": "Bí mật"}, "text": "riêng"}
    }
    fake.push_raw(broken)
    fake.push_text(LAN, "sau đó")
    fake.push_raw(broken | {"message": broken["message"] | {"message_id": "m-10"}})
    fake.push_raw("không phải cập nhật")
    fake.push_text(LAN, "cuối cùng")
    got = [m.text for _ in range(5) for m in await client.get_updates(timeout=1)]
    assert got == ["sau đó", "cuối cùng"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "Zalo update not understood, skipped (no message.from.id); its shape: "
        "{message{chat{id}, from{name}, message_id, text}}. "
        "Later updates of this shape are skipped without this line.",
        "Zalo update not understood, skipped (not an object); its shape: str. "
        "Later updates of this shape are skipped without this line.",
    ]
    assert "Bí mật" not in caplog.text and "riêng" not in caplog.text and "m-9" not in caplog.text


def test_names_come_from_any_field_in_order() -> None:
    def name_of(sender: dict[str, Any]) -> str:
        update = {
            "message": {"message_id": "m", "chat": {"id": "c"}, "from": {"id": "u"} | sender, "text": "x"}
        }
        message = parse_update(update)
        assert message is not None
        return message.display_name

    assert name_of({"display_name": "Lan", "name": "Lan N", "first_name": "L"}) == "Lan"
    assert name_of({"display_name": "  ", "name": "Nguyễn Thị Lan"}) == "Nguyễn Thị Lan"
    assert name_of({"name": "Hùng", "first_name": "Trần"}) == "Hùng"
    assert name_of({"first_name": "Trần Văn", "last_name": "Hùng"}) == "Trần Văn Hùng"
    assert name_of({"first_name": "Hùng"}) == "Hùng"
    assert name_of({"last_name": "Hùng", "username": "hung"}) == "Hùng"
    assert name_of({"display_name": 7}) == ""


def test_a_photo_field_wins_and_its_caption_is_the_text() -> None:
    base = {"message_id": "m", "chat": {"id": "c"}, "from": {"id": "u"}}
    photo = parse_update({"message": base | {"photo": "https://p.invalid/1.jpg", "caption": "ngõ 5"}})
    assert photo is not None
    assert (photo.event, photo.photo_url, photo.text) == (
        "message.image.received",
        "https://p.invalid/1.jpg",
        "ngõ 5",
    )
    both = parse_update(
        {"message": base | {"photo": "https://p.invalid/2.jpg", "photo_url": "https://p.invalid/3.jpg"}}
    )
    assert both is not None and both.photo_url == "https://p.invalid/2.jpg" and both.text is None
    texted = parse_update(
        {"message": base | {"photo_url": "https://p.invalid/4.jpg", "text": "chữ", "caption": "phụ"}}
    )
    assert texted is not None and texted.text == "chữ"
    named = parse_update({"event_name": "message.image.received", "message": base | {"caption": "không ảnh"}})
    assert named is not None and (named.photo_url, named.text) == (None, "không ảnh")
    odd = parse_update(
        {"event_name": "message.link.received", "message": base | {"text": "x", "extra": {"a": 1}}}
    )
    assert odd is not None and odd.event == "message.link.received"  # unknown names and fields pass through


def test_parse_updates_reads_objects_lists_and_wrappers() -> None:
    def update(n: int) -> dict[str, Any]:
        return {"message": {"message_id": f"m{n}", "chat": {"id": "c"}, "from": {"id": "u"}, "text": str(n)}}

    def texts_of(payload: Any) -> list[str | None]:
        return [m.text for m in parse_updates(payload)]

    assert texts_of(update(1)) == ["1"]
    assert texts_of([update(1), update(2)]) == ["1", "2"]
    assert texts_of({"ok": True, "result": update(1)}) == ["1"]
    assert texts_of({"ok": True, "result": [update(1), {"broken": True}, update(2)]}) == ["1", "2"]
    assert (
        texts_of({"ok": True, "result": []}) == texts_of({"ok": True, "result": None}) == texts_of(None) == []
    )


def test_parse_update_accepts_both_shapes() -> None:
    update = {
        "event_name": "message.text.received",
        "message": {
            "message_id": "abc",
            "date": 1767225600000,
            "chat": {"id": "c-1", "chat_type": "PRIVATE"},
            "from": {"id": "u-1", "display_name": "Lan", "is_bot": False},
            "text": "chào",
        },
    }
    bare = parse_update(update)
    wrapped = parse_update({"ok": True, "result": update})
    listed = parse_update({"ok": True, "result": [update]})
    assert parse_updates(update) == [bare]
    assert bare is not None
    assert bare == wrapped == listed
    assert bare.date == datetime(2026, 1, 1, tzinfo=UTC)
    again = parse_update(dict(update))
    assert again is not None and again.update_id == bare.update_id
    other_event = parse_update(update | {"event_name": "message.unsupported.received"})
    assert other_event is not None and other_event.update_id != bare.update_id


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        "text",
        {"ok": False, "error_code": 408, "description": "Request timeout"},
        {"event_name": "message.text.received"},
        {"event_name": "message.text.received", "message": {"message_id": "m", "text": "x"}},
        {"message": {"message_id": "m", "chat": {"id": "c"}, "from": {}}},
    ],
)
def test_parse_update_gives_none_for_unreadable_shapes(payload: Any) -> None:
    assert parse_update(payload) is None
    assert parse_updates(payload) == []


async def test_send_message_is_recorded(client: ZaloClient, fake: FakeZaloApi) -> None:
    result = await client.send_message(LAN.id, "Cảm ơn bạn đã báo cáo.")
    assert isinstance(result["message_id"], str) and isinstance(result["date"], int)
    sent = await fake.wait_for(1, chat_id=LAN.id)
    assert (sent[0].method, sent[0].text, sent[0].message_id) == (
        "sendMessage",
        "Cảm ơn bạn đã báo cáo.",
        result["message_id"],
    )


async def test_send_photo_is_recorded(client: ZaloClient, fake: FakeZaloApi) -> None:
    await client.send_photo(LAN.id, "https://charts.invalid/standings.png", caption="Xếp hạng tháng 10")
    [sent] = fake.messages_to(LAN.id)
    assert (sent.method, sent.photo_url, sent.caption, sent.text) == (
        "sendPhoto",
        "https://charts.invalid/standings.png",
        "Xếp hạng tháng 10",
        None,
    )


async def test_429_then_502_are_retried_and_the_message_arrives_once(
    client: ZaloClient, fake: FakeZaloApi, delays: Delays
) -> None:
    fake.fail_next("sendMessage", 429, retry_after=2)
    fake.fail_next("sendMessage", 502)
    await with_retry(lambda: client.send_message(LAN.id, "một lần thôi"), delays)
    assert delays == [2.0, 1.0]
    assert [m.text for m in fake.messages_to(LAN.id)] == ["một lần thôi"]
    assert [name for name, _ in fake.calls].count("sendMessage") == 3
    assert fake.too_many_requests == 1


async def test_with_retry_gives_up_after_its_attempts(
    client: ZaloClient, fake: FakeZaloApi, delays: Delays
) -> None:
    fake.fail_next("sendMessage", 503, times=4)
    with pytest.raises(ZaloError) as raised:
        await with_retry(lambda: client.send_message(LAN.id, "không tới"), delays)
    assert raised.value.status == 503
    assert delays == [0.5, 1.0, 2.0]
    assert fake.sent == []


async def test_network_errors_are_retried(fake: FakeZaloApi, delays: Delays) -> None:
    port = int(fake.base_url.split(":")[2].split("/")[0])
    await fake.stop()
    zalo = ZaloClient("1234567890:secret-token-in-url", f"http://127.0.0.1:{port}/bot")
    try:
        with pytest.raises(aiohttp.ClientError) as raised:
            await with_retry(zalo.get_me, delays, attempts=3)
    finally:
        await zalo.close()
    assert delays == [0.5, 1.0]
    assert "secret-token-in-url" not in str(raised.value)


async def test_403_raises_forbidden_at_once(client: ZaloClient, fake: FakeZaloApi, delays: Delays) -> None:
    fake.block(LAN.id)
    with pytest.raises(ZaloForbidden) as raised:
        await with_retry(lambda: client.send_message(LAN.id, "bị chặn"), delays)
    assert raised.value.status == 403
    assert delays == []
    assert [name for name, _ in fake.calls] == ["sendMessage"]
    await client.send_message(HUNG.id, "vẫn gửi được")
    assert len(fake.sent) == 1


async def test_a_text_over_2000_characters_is_refused(
    client: ZaloClient, fake: FakeZaloApi, delays: Delays
) -> None:
    with pytest.raises(ZaloError) as raised:
        await with_retry(lambda: client.send_message(LAN.id, "a" * 2001), delays)
    assert raised.value.status == 400
    assert "too long" in raised.value.description
    assert not isinstance(raised.value, ZaloForbidden)
    assert delays == []
    await client.send_message(LAN.id, "a" * 2000)
    assert len(fake.sent) == 1


async def test_split_texts_all_arrive(client: ZaloClient, fake: FakeZaloApi) -> None:
    lines = [f"Tổ dân phố số {n:03d}: đã nộp báo cáo tháng 10, điểm {n % 10}/10." for n in range(100)]
    text = "\n".join(lines)
    assert len(text) >= 4500
    parts = split_text(text, 2000)
    assert len(parts) == 3
    assert all(0 < len(part) <= 2000 for part in parts)
    assert "\n".join(parts) == text
    assert all(part.split("\n")[0] in lines and part.split("\n")[-1] in lines for part in parts)
    for part in parts:
        await client.send_message(LAN.id, part)
    assert "\n".join(m.text or "" for m in fake.messages_to(LAN.id)) == text


def test_texts_are_split_for_zalo_at_lines_spaces_and_never_inside_a_letter() -> None:
    assert split_text("", 2000) == []
    assert split_text("\n\n  \n", 2000) == []
    assert split_text("ngắn", 2000) == ["ngắn"]
    words = " ".join(["phường"] * 1000)
    parts = split_text(words, 2000)
    assert all(0 < len(p) <= 2000 and not p.startswith(" ") and not p.endswith(" ") for p in parts)
    assert " ".join(parts) == words
    assert split_text("x" * 4500, 2000) == ["x" * 2000, "x" * 2000, "x" * 500]
    assert split_text("đầu\n\n\n" + "y" * 10, 5) == ["đầu", "yyyyy", "yyyyy"]
    # A hard cut never separates a letter from its combining accent (decomposed Vietnamese).
    decomposed = "a\u0301" * 3
    assert split_text(decomposed, 3) == ["a\u0301", "a\u0301", "a\u0301"]


async def test_webhook_mode_posts_updates_with_the_secret(client: ZaloClient, fake: FakeZaloApi) -> None:
    received: asyncio.Queue[tuple[str | None, Any]] = asyncio.Queue()

    async def hook(request: web.Request) -> web.Response:
        await received.put((request.headers.get("X-Bot-Api-Secret-Token"), await request.json()))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/zalo", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await client.set_webhook(f"http://127.0.0.1:{port}/zalo", "s3cret-s3cret")
        assert fake.webhook is not None and fake.webhook["secret_token"] == "s3cret-s3cret"
        assert (await client.get_webhook_info())["url"].endswith("/zalo")

        pushed = fake.push_text(LAN, "qua webhook")
        secret, body = await asyncio.wait_for(received.get(), 5)
        assert secret_matches(secret, "s3cret-s3cret")
        message = parse_update(body)
        assert message is not None and message.text == "qua webhook"
        assert message.message_id == pushed["message"]["message_id"]

        assert "ok" not in body  # a bare update by default

        fake.push_text(LAN, "gói lại", style=WRAPPED)
        _, wrapped = await asyncio.wait_for(received.get(), 5)
        assert wrapped["ok"] is True and wrapped["result"]["message"]["from"]["last_name"] == "Lan"
        again = parse_update(wrapped)
        assert again is not None and (again.text, again.display_name) == ("gói lại", LAN.display_name)
        await fake.wait_idle()
        assert fake.webhook_statuses == [200, 200]

        with pytest.raises(ZaloError) as raised:
            await client.get_updates(timeout=1)
        assert raised.value.status == 409

        await client.delete_webhook()
        assert fake.webhook is None
        fake.push_text(LAN, "lại long poll", style=DISPLAY_NAME)
        [polled] = await client.get_updates(timeout=1)
        assert polled.text == "lại long poll"
    finally:
        await runner.cleanup()


def test_secret_matches() -> None:
    assert secret_matches("abc-123", "abc-123")
    assert not secret_matches("abc-124", "abc-123")
    assert not secret_matches(None, "abc-123")
    assert not secret_matches("", "")
    assert not secret_matches("abc", "")
    assert secret_matches("bí mật", "bí mật")


async def test_the_token_is_never_logged(
    client: ZaloClient, fake: FakeZaloApi, caplog: pytest.LogCaptureFixture, delays: Delays
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.fail_next("sendMessage", 502)
    await client.get_me()
    await with_retry(lambda: client.send_message(LAN.id, "nhật ký"), delays)
    assert "getMe" in caplog.text
    assert fake.token not in caplog.text
    assert fake.token not in repr(client)


async def test_flood_limit_answers_429(client: ZaloClient, fake: FakeZaloApi) -> None:
    fake.enforce_limits = True
    await asyncio.gather(*(client.send_message(LAN.id, str(n)) for n in range(30)))
    with pytest.raises(ZaloError) as raised:
        await client.send_message(LAN.id, "quá nhanh")
    assert (raised.value.status, raised.value.retry_after) == (429, 1.0)


async def test_send_chat_action(client: ZaloClient, fake: FakeZaloApi) -> None:
    await client.send_chat_action(LAN.id, "typing")
    await client.send_chat_action(HUNG.id)
    assert fake.chat_actions == [(LAN.id, "typing"), (HUNG.id, "typing")]
    assert fake.calls[-1] == ("sendChatAction", {"chat_id": HUNG.id, "action": "typing"})
    assert fake.sent == []


async def test_a_wrong_token_is_refused(fake: FakeZaloApi) -> None:
    zalo = ZaloClient("1234567890:wrong-access-token-0000", fake.base_url)
    try:
        with pytest.raises(ZaloError) as raised:
            await zalo.get_me()
    finally:
        await zalo.close()
    assert raised.value.status == 401
