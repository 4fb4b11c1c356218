"""`wardbot` with counters, for the benchmarks: SQL statements and transactions, optionally a profile.

`python -m bench.instrumented_bot run` is `wardbot run` with SQLAlchemy event listeners on every
engine counting statements (by their text) and transactions. At exit (SIGTERM ends the bot
cleanly) the counts go to the JSON file named by BENCH_STATS, and with BENCH_PROFILE a cProfile
of the whole run goes to that file. Nothing of this is in the bot itself: the benchmark measures
the same code a ward runs.
"""

from __future__ import annotations

import cProfile
import json
import os
import sys
import time
from collections import Counter
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

statements: Counter[str] = Counter()
transactions = Counter[str]()


TRACE = os.environ.get("BENCH_TRACE")
_trace = open(TRACE, "a", encoding="utf-8") if TRACE else None  # noqa: SIM115 (open for the whole run)


timing: dict[str, float] = {}
_open: dict[int, float] = {}
_running: dict[int, float] = {}


def _statement(conn: Any, cursor: Any, text: str, params: Any, context: Any, many: bool) -> None:
    statements[" ".join(text.split())[:160]] += 1
    _running[id(conn)] = time.perf_counter()
    if _trace is not None:
        _trace.write(" ".join(text.split())[:230] + "\n")


def _after(conn: Any, cursor: Any, text: str, params: Any, context: Any, many: bool) -> None:
    started = _running.pop(id(conn), None)
    if started is not None:
        timing["statement_seconds"] = timing.get("statement_seconds", 0.0) + time.perf_counter() - started


def _begin(conn: Any) -> None:
    transactions["begin"] += 1
    _open[id(conn)] = time.perf_counter()


def _ended(conn: Any) -> None:
    started = _open.pop(id(conn), None)
    if started is not None:
        timing["transaction_seconds"] = timing.get("transaction_seconds", 0.0) + time.perf_counter() - started


def _commit(conn: Any) -> None:
    transactions["commit"] += 1
    _ended(conn)


def _rollback(conn: Any) -> None:
    transactions["rollback"] += 1
    _ended(conn)


def _write(path: str) -> None:
    data = {
        "statements": sum(statements.values()),
        "transactions": dict(transactions),
        "timing": dict(timing),
        "by_statement": statements.most_common(60),
    }
    with open(path, "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, indent=1)


async def _inline(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """aiosqlite's call, made in the event loop's thread instead of handed to the connection's thread."""
    if not self._running or not self._connection:
        raise ValueError("Connection closed")
    return fn(*args, **kwargs)


def main(argv: list[str]) -> int:
    """Run the command line with the counters on; write what they counted at the end."""
    if os.environ.get("BENCH_INLINE_SQLITE"):  # an experiment: what the thread hand-overs cost
        import sqlite3

        import aiosqlite.core

        aiosqlite.core.Connection._execute = _inline  # type: ignore[method-assign]
        connect = sqlite3.connect
        sqlite3.connect = lambda *a, **k: connect(*a, **(k | {"check_same_thread": False}))
    event.listen(Engine, "before_cursor_execute", _statement)
    event.listen(Engine, "after_cursor_execute", _after)
    event.listen(Engine, "begin", _begin)
    event.listen(Engine, "commit", _commit)
    event.listen(Engine, "rollback", _rollback)
    from bot.cli import main as cli

    profile_path = os.environ.get("BENCH_PROFILE")
    profiler = cProfile.Profile() if profile_path else None
    try:
        if profiler is not None:
            profiler.enable()
        return cli(argv)
    finally:
        if profiler is not None and profile_path:
            profiler.disable()
            profiler.dump_stats(profile_path)
        stats_path = os.environ.get("BENCH_STATS")
        if stats_path:
            _write(stats_path)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
