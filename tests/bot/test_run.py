"""`python -m bot run` as a process, against a Bot API-compatible server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from bench.rush import wardbot_in_process
from bot.channels.telegram import TelegramChannel
from bot.simulator import FakeBotApi, FakeUser
from bot.wiring import Wiring
from tests.databases import fresh_database_url

ROOT = Path(__file__).resolve().parents[2]


def _environment(fake: FakeBotApi, folder: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_", "WARD_", "ZALO_"))
    }
    env.update(
        {
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "DATABASE_URL": fresh_database_url(folder, "run"),
            "WARD_CONFIG": str(ROOT / "examples" / "ward.toml"),
            "HOME": str(folder),
        }
    )
    env.update(extra)
    return env


@asynccontextmanager
async def bot_process(
    env: dict[str, str], cwd: Path, *options: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *options,
        "run",
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _answer(fake: FakeBotApi, user: FakeUser, text: str, timeout: float = 30) -> str:
    since = fake.mark()
    fake.push_message(user, text)
    sent = await fake.wait_for(1, chat_id=user.id, timeout=timeout, since=since)
    return sent[-1].text or ""


async def test_run_answers_in_the_users_language_and_keeps_the_switch(
    fake_api: FakeBotApi, tmp_path: Path
) -> None:
    env = _environment(fake_api, tmp_path)
    vi_user = FakeUser(id=2001, first_name="Hoa", language_code="vi")
    no_language = FakeUser(id=2002, first_name="Tuấn")
    en_user = FakeUser(id=2003, first_name="Anna", language_code="en")

    async with bot_process(env, tmp_path):
        assert "Xin chào Hoa" in await _answer(fake_api, vi_user, "/start", timeout=60)
        assert "Xin chào Tuấn" in await _answer(fake_api, no_language, "/start")
        assert "Hello Anna" in await _answer(fake_api, en_user, "/start")
        assert "What you can do here" in await _answer(fake_api, en_user, "/help")
        assert "Những việc anh/chị có thể làm" in await _answer(fake_api, vi_user, "/help")
        await _answer(fake_api, vi_user, "/language")
        since = fake_api.mark()
        fake_api.press(vi_user, fake_api.messages_to(vi_user.id)[-1], "🇬🇧 English")
        await fake_api.wait_for(1, chat_id=vi_user.id, since=since)

    async with bot_process(env, tmp_path):
        assert "Hello Hoa" in await _answer(fake_api, vi_user, "/start", timeout=60)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_mode_refuses_requests_without_the_secret(fake_api: FakeBotApi, tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram-hook"
    env = _environment(
        fake_api,
        tmp_path,
        WEBHOOK_URL=url,
        WEBHOOK_SECRET="s3cret-for-tests",
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
    )
    user = FakeUser(id=2004, first_name="Hoa", language_code="vi")
    update = {
        "update_id": 77,
        "message": {
            "message_id": 1,
            "date": 1767225600,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            "chat": {"id": user.id, "type": "private", "first_name": "Hoa"},
            "from": {"id": user.id, "is_bot": False, "first_name": "Hoa", "language_code": "vi"},
        },
    }

    async with bot_process(env, tmp_path), aiohttp.ClientSession() as http:
        for _ in range(600):
            if fake_api.webhook is not None:
                break
            await asyncio.sleep(0.1)
        assert fake_api.webhook is not None and fake_api.webhook["url"] == url
        await asyncio.sleep(0.5)
        async with http.post(url, json=update) as refused:
            assert refused.status == 403
        async with http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as wrong:
            assert wrong.status == 403
        assert fake_api.messages_to(user.id) == []
        async with http.post(
            url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-for-tests"}
        ) as accepted:
            assert accepted.status == 200
        sent = await fake_api.wait_for(1, chat_id=user.id, timeout=30)
        assert "Xin chào Hoa" in (sent[-1].text or "")


async def test_the_token_is_never_logged(fake_api: FakeBotApi, tmp_path: Path) -> None:
    env = _environment(fake_api, tmp_path)
    user = FakeUser(id=2005, first_name="Hoa")
    async with bot_process(env, tmp_path) as process:
        await _answer(fake_api, user, "/start", timeout=60)
        process.terminate()
        output, _ = await process.communicate()
    assert output, "the bot logs its start-up"
    assert fake_api.token.split(":")[1] not in output.decode()


async def test_no_secret_and_no_invite_code_in_a_verbose_log(fake_api: FakeBotApi, tmp_path: Path) -> None:
    secret = "webhook-secret-that-must-stay-hidden"
    env = _environment(fake_api, tmp_path, WEBHOOK_SECRET=secret)
    added = await asyncio.to_thread(wardbot_in_process, "admin", "add", "1", env=env)  # set-up, in-process
    assert added.returncode == 0, added.stderr
    staff = FakeUser(id=1, first_name="Hoa", language_code="vi")
    head = FakeUser(id=2, first_name="Nam", language_code="vi")
    async with bot_process(env, tmp_path, "-v") as process:
        invite = await _answer(fake_api, staff, "/invite TDP01", timeout=60)
        code = invite.split("start=")[1].split()[0]
        await _answer(fake_api, head, f"/start {code}")
        process.terminate()
        output, _ = await process.communicate()
    log = output.decode()
    assert "DEBUG" in log, "a verbose run logs details"
    for hidden in (fake_api.token, fake_api.token.split(":")[1], secret, code):
        assert hidden not in log


async def test_a_fresh_database_prints_a_setup_link_that_makes_the_first_officer(
    fake_api: FakeBotApi, tmp_path: Path
) -> None:
    """Nobody looks up a numeric id: the link is printed where the bot runs, and masked in its log."""
    env = _environment(fake_api, tmp_path)
    hoa = FakeUser(id=2010, first_name="Hoa", language_code="vi")
    link = re.compile(r"https://t\.me/ward_test_bot\?start=([A-Za-z0-9_-]{16,})")
    seen: list[str] = []
    async with bot_process(env, tmp_path) as process:
        assert process.stdout is not None
        output = process.stdout

        async def printed_code() -> str:
            while line := (await output.readline()).decode():
                seen.append(line)
                if found := link.search(line):
                    return found.group(1)
            raise AssertionError("".join(seen))

        code = await asyncio.wait_for(printed_code(), 90)
        welcome = await _answer(fake_api, hoa, f"/start {code}")
        assert "Từ nay anh/chị là cán bộ của Phường Tràng Cát" in welcome
        assert "Đã thêm TDP07" in await _answer(fake_api, hoa, "/addgroup Tổ dân phố số 7; 120")
        process.terminate()
        rest, _ = await process.communicate()
    log = "".join(seen) + rest.decode()
    assert log.count(code) == 1, log  # printed once; the log line masks it
    assert "Phường Tràng Cát (WARD) has no ward staff yet." in log
    assert "Telegram: https://t.me/ward_test_bot?start=<code>" in log


async def test_a_token_telegram_refuses_ends_with_one_line_and_exit_2(
    fake_api: FakeBotApi, tmp_path: Path
) -> None:
    refused = "654321:REFUSED-token-that-must-not-be-printed-00"
    env = _environment(fake_api, tmp_path, TELEGRAM_BOT_TOKEN=refused)
    async with bot_process(env, tmp_path) as process:
        output, _ = await asyncio.wait_for(process.communicate(), 120)
    text = output.decode()
    assert process.returncode == 2, text
    assert "Traceback" not in text
    errors = [line for line in text.splitlines() if line.startswith("error:")]
    assert (
        errors
        == [text.strip().splitlines()[-1]]
        == [
            "error: TELEGRAM_BOT_TOKEN: Telegram refused this token. Copy it again from @BotFather "
            "(or revoke it there and use the new one)."
        ]
    )
    assert refused not in text and refused.split(":")[1] not in text


async def test_start_up_waits_out_a_bad_gateway_with_one_log_line_per_attempt(
    fake_api: FakeBotApi, wiring: Wiring, caplog: pytest.LogCaptureFixture
) -> None:
    fake_api.fail_next("getMe", 502, times=2)
    channel = TelegramChannel(
        wiring, token=fake_api.token, base_url=fake_api.base_url, base_file_url=fake_api.base_file_url
    )
    try:
        with caplog.at_level(logging.WARNING, logger="bot.retry"):
            await channel.connect()
    finally:
        await channel.close()
    assert channel.username == fake_api.bot_username
    assert [method for method, _params in fake_api.calls].count("getMe") == 3
    retries = [r.getMessage() for r in caplog.records if r.name == "bot.retry"]
    assert len(retries) == 2 and all("Connecting to Telegram (getMe) failed" in line for line in retries)


async def test_wardbot_web_serves_the_page_alone(tmp_path: Path) -> None:
    """`wardbot web` without a token: the web page on WEB_PORT, nothing of the ward without a session."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_", "WARD_", "ZALO_"))
    }
    env |= {
        "DATABASE_URL": fresh_database_url(tmp_path, "web"),
        "WARD_CONFIG": str(ROOT / "examples" / "ward.toml"),
        "HOME": str(tmp_path),
        "WEB_PORT": str(port),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "web", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        async with aiohttp.ClientSession() as http:
            for _attempt in range(300):
                try:
                    answer = await http.get(f"http://127.0.0.1:{port}/standings")
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("wardbot web did not start listening")
            assert answer.status == 401 and "/web" in await answer.text()
            style = await http.get(f"http://127.0.0.1:{port}/static/style.css")
            assert style.status == 200 and style.content_type == "text/css"
    finally:
        process.terminate()
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, output.decode()
    assert f"the web page at http://127.0.0.1:{port}" in output.decode()
