"""The database engine and session factory, with SQLite tuned for a chat workload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

BUSY_TIMEOUT_MS = 10_000
POOL_SIZE = 20  # connections a PostgreSQL worker keeps


def _is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def ensure_sqlite_folder(database_url: str) -> None:
    """Create the folder of a SQLite file so a fresh checkout starts without a manual mkdir."""
    url = make_url(database_url)
    if _is_sqlite(url) and url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _tune_sqlite(engine: AsyncEngine, *, foreign_keys: bool = True) -> None:
    """WAL, foreign keys, a busy timeout, and BEGIN IMMEDIATE so writers queue instead of failing.

    pysqlite's own transaction handling is switched off (the SQLAlchemy recipe for SQLite
    transactions) so that every unit of work takes the write lock at its start: a reader that
    later writes can then never dead-lock with another writer.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(database_url: str, *, foreign_keys: bool = True, **kwargs: Any) -> AsyncEngine:
    """An async engine for `database_url`; SQLite files get their folder and pragmas.

    `foreign_keys=False` is for migrations only: SQLite rebuilds a table to alter it, and with
    foreign keys on, dropping the old copy of a parent table would cascade into its children.
    """
    url = make_url(database_url)
    if _is_sqlite(url):
        ensure_sqlite_folder(database_url)
        kwargs.setdefault("connect_args", {"timeout": BUSY_TIMEOUT_MS / 1000})
    else:  # a worker handles up to POOL_SIZE updates at once, plus receiving, the outbox, heartbeats
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", POOL_SIZE // 2)
        kwargs.setdefault("pool_timeout", 60)
        kwargs.setdefault("pool_pre_ping", True)
    engine = create_async_engine(url, **kwargs)
    if _is_sqlite(url):
        _tune_sqlite(engine, foreign_keys=foreign_keys)
    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (replies are built after it)."""
    return async_sessionmaker(engine, expire_on_commit=False)
