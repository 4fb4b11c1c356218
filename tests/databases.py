"""The database a test runs on: a fresh copy of a database migrated once per test session.

SQLite by default; `WARDBOT_TEST_DATABASE=postgresql` runs the same tests on the PostgreSQL server
at 127.0.0.1:5432 (or `WARDBOT_TEST_POSTGRES`), each test in a database of its own, copied from a
migrated template and dropped at the end of the session.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from storage.engine import create_engine
from storage.migrate import upgrade

BACKEND = os.environ.get("WARDBOT_TEST_DATABASE", "sqlite").strip().lower()
SERVER = os.environ.get("WARDBOT_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432").rstrip("/")
POSTGRES = BACKEND in ("postgresql", "postgres", "pg")
SESSION = uuid.uuid4().hex[:8]
TEMPLATE = f"wardbot_tpl_{SESSION}"

T = TypeVar("T")
_lock = threading.Lock()
_template_file: Path | None = None
_created: list[str] = []
_by_folder: dict[tuple[Path, str], str] = {}
_postgres_up: bool | None = None
template_folder: Path | None = None  # set once per session by tests/conftest.py


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even inside a running event loop (a thread)."""
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(work))
        except BaseException as error:  # handed to the caller
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


async def _admin(*statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(SERVER.replace("postgresql+asyncpg", "postgresql") + "/postgres")
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def _sqlite_template(folder: Path) -> Path:
    global _template_file
    with _lock:
        if _template_file is None or not _template_file.exists():
            path = folder / "template.sqlite3"
            _run(_migrate(f"sqlite+aiosqlite:///{path}"))
            _template_file = path
        return _template_file


def _postgres_template() -> str:
    with _lock:
        if TEMPLATE not in _created:
            _run(_admin(f'CREATE DATABASE "{TEMPLATE}"'))
            _created.append(TEMPLATE)
            _run(_migrate(f"{SERVER}/{TEMPLATE}"))
        return TEMPLATE


def postgres_available() -> bool:
    """Whether the PostgreSQL server the tests use answers."""
    global _postgres_up
    if _postgres_up is None:
        try:
            _run(_admin("SELECT 1"))
            _postgres_up = True
        except (OSError, ImportError, Exception):
            _postgres_up = False
    return _postgres_up


def postgres_database_url(folder: Path, name: str = "workers") -> str:
    """A migrated, empty PostgreSQL database for one test, whatever the session's backend."""
    return fresh_database_url(folder, name, postgres=True)


def fresh_database_url(folder: Path, name: str = "ward", *, postgres: bool = POSTGRES) -> str:
    """A migrated, empty database for one test (the same one for the same folder and name)."""
    known = _by_folder.get((folder, name))
    if known is not None:
        return known
    if not postgres:
        path = folder / f"{name}.sqlite3"
        shutil.copyfile(_sqlite_template(template_folder or folder), path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        database = f"wardbot_t_{SESSION}_{uuid.uuid4().hex[:10]}"
        _run(_admin(f'CREATE DATABASE "{database}" TEMPLATE "{_postgres_template()}"'))
        _created.append(database)
        url = f"{SERVER}/{database}"
    _by_folder[(folder, name)] = url
    return url


def drop_created() -> None:
    """At the end of the session: every database made for it goes (PostgreSQL)."""
    if _created:
        _run(_admin(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in reversed(_created))))
        _created.clear()
