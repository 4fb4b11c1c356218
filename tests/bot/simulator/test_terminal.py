"""The demo a ward officer tries first: a terminal chat with the real bot, no token, no network."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.bot.test_cli import env  # noqa: F401  (the clean-environment fixture)

SCRIPT = "\n".join(
    [
        "1",  # be the ward staff member
        "/start",
        "/language",
        ":2",  # English
        "/help",
        ":who",
        "3",  # be the resident
        ":sticker",
        ":quit",
    ]
)


def test_demo_runs_the_real_bot_from_the_terminal(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    env.pop("DATABASE_URL")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        input=SCRIPT + "\n",
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Xin chào Nguyễn Thị Hoa!" in out
    assert "[2] 🇬🇧 English" in out
    assert "I will speak English with you from now on." in out
    assert "/language — Choose your language" in out
    assert "Tôi chỉ đọc được tin nhắn chữ." in out
    assert (tmp_path / "data" / "demo.sqlite3").exists()
