"""What the rush benchmarks share: a watched fake Bot API, bots run as processes, figures and tables.

The benchmarks are black boxes: the bot runs as `python -m bot run` (or the echo bot) in its own
process against the fake Bot API served by the benchmark's process on 127.0.0.1, exactly as a
ward runs it, and only what reaches the fake counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import math
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.simulator import FakeBotApi, SentMessage

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0


class WatchedBotApi(FakeBotApi):
    """The fake Bot API with a waiter per chat: a simulated person waits for the bot's next message."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.by_chat: defaultdict[int, list[SentMessage]] = defaultdict(list)
        self._waiters: dict[int, asyncio.Future[SentMessage]] = {}
        self.polled = asyncio.Event()
        self._methods["getUpdates"] = self._watched_get_updates

    async def _watched_get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.polled.set()
        return await self._get_updates(params)

    async def message(self, chat_id: int, index: int) -> SentMessage:
        """The `index`-th message (from 0) the bot sent to `chat_id`, once it is there."""
        while len(self.by_chat[chat_id]) <= index:
            future = self._waiters.get(chat_id)
            if future is None or future.done():
                future = self._waiters[chat_id] = asyncio.get_running_loop().create_future()
            await future
        return self.by_chat[chat_id][index]

    def _record(self, method: str, chat_id: int, params: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        message = super()._record(method, chat_id, params, **kwargs)
        sent = self.sent[-1]
        self.by_chat[chat_id].append(sent)
        waiter = self._waiters.pop(chat_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(sent)
        return message


@dataclass
class BotProcess:
    """A bot running as a child process, with its log file."""

    process: subprocess.Popen[bytes]
    log: Path

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, as systemd stops the bot; SIGKILL when it does not end in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def kill(self) -> None:
        """kill -9: no chance to finish anything."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def bot_environment(fake: FakeBotApi, folder: Path, **extra: str) -> dict[str, str]:
    """The environment of a bot process: the fake's URL and token, nothing from the caller's .env."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "WEBHOOK_", "WARD_", "ZALO_", "DATABASE_", "BENCH_"))
    }
    env |= {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "HOME": str(folder),
        "PYTHONPATH": str(ROOT),
        **extra,
    }
    return env


def start_process(
    module: str, args: Sequence[str], env: dict[str, str], folder: Path, name: str
) -> BotProcess:
    """`python -m module args` in `folder`, its output to `folder/name.log`."""
    log = folder / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args], env=env, cwd=folder, stdout=out, stderr=subprocess.STDOUT
        )
    return BotProcess(process, log)


@dataclass(frozen=True)
class CliResult:
    """What a `wardbot` command printed and how it ended."""

    returncode: int
    stdout: str
    stderr: str


def wardbot_in_process(*args: str, env: dict[str, str], answer: str = "") -> CliResult:
    """`wardbot ARGS` (the console script's main) with exactly the environment `env`, from the folder
    `env["HOME"]`, in this process: starting Python for a set-up command costs a second or two and
    shows nothing more. `answer` is what is typed at its question, if it asks one. It changes the
    process's environment, folder and standard streams while it runs: one at a time, and not inside a
    running event loop's thread (the command runs its own)."""
    from bot.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    handlers, level, folder = list(root.handlers), root.level, os.getcwd()
    saved_env, saved_stdin = dict(os.environ), sys.stdin
    os.environ.clear()
    os.environ.update(env)
    sys.stdin = io.StringIO(answer)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            os.chdir(env["HOME"])
            try:
                code = main(list(args))
            except SystemExit as exit:
                code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 2)
    finally:
        os.chdir(folder)
        os.environ.clear()
        os.environ.update(saved_env)
        sys.stdin = saved_stdin
        root.handlers[:] = handlers
        root.setLevel(level)
    return CliResult(code, stdout.getvalue(), stderr.getvalue())


def run_cli(args: Sequence[str], env: dict[str, str], folder: Path) -> str:
    """`wardbot ARGS` (set-up before the bot starts, as a ward officer would), in this process but in
    a thread of its own (the benchmarks call it from their event loop); the bot itself runs as a process."""
    with ThreadPoolExecutor(1) as thread:
        done = thread.submit(wardbot_in_process, *args, env=env | {"HOME": str(folder)}).result()
    if done.returncode != 0:
        raise RuntimeError(f"wardbot {' '.join(args)} failed: {done.stderr}")
    return done.stdout


async def wait_polling(fake: WatchedBotApi, bot: BotProcess, timeout: float = START_TIMEOUT) -> None:
    """Until the bot asks for updates (it has started), or raise with its log when it died."""
    deadline = time.monotonic() + timeout
    while not fake.polled.is_set():
        if bot.process.poll() is not None:
            raise RuntimeError(f"the bot stopped at start:\n{bot.tail()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"the bot did not start within {timeout}s:\n{bot.tail()}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(fake.polled.wait(), 0.1)


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (share 0.95 for p95) of `values`; nan when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def load() -> str:
    """The machine's load average, for the tables' notes."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table; numbers right-aligned."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return "–" if math.isnan(value) else f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
        return str(value)

    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def read_json(path: Path) -> dict[str, Any]:
    """A stats file the instrumented bot wrote; empty when it wrote none."""
    if not path.exists():
        return {}
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded
