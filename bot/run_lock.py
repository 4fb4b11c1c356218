"""One bot per database: `wardbot run` holds this lock for its whole life, and restore needs it.

Replacing a database under a running bot would lose what the bot writes next (or corrupt the
file), so `wardbot restore` takes the same lock and refuses when it cannot. For SQLite the lock is
an exclusive `flock` on `<database file>.lock` (released by the kernel when the process ends, even
after a crash); for PostgreSQL a session-level advisory lock held on a dedicated connection
(released by the server when that connection closes).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import fcntl
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

# pg_try_advisory_lock key: "wardbot" in ASCII. Advisory locks are per database, so two wards
# on one server do not block each other.
RUN_LOCK_KEY = 0x77617264626F74

STOP_HINT = "systemctl stop wardbot, or Ctrl-C in the window running `wardbot run`"


class RunLockError(Exception):
    """The run lock could not be checked (e.g. the database server does not answer); one line."""


class RunLockBusy(RunLockError):
    """Another process holds the run lock: a bot is running (or a restore is under way)."""


def describe_database(database_url: str) -> str:
    """The database as a person recognises it, never with a password."""
    url = make_url(database_url)
    if is_sqlite(url):
        return str(sqlite_path(url))
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    return f"PostgreSQL database {url.database or '?'} on {where}"


def is_sqlite(url: URL) -> bool:
    """SQLite, whatever the driver."""
    return url.get_backend_name() == "sqlite"


def is_postgres(url: URL) -> bool:
    """PostgreSQL, whatever the driver (asyncpg in practice)."""
    return url.get_backend_name() == "postgresql"


def sqlite_path(url: URL) -> Path:
    """The database file of a SQLite URL (relative paths are relative to the working folder)."""
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise RunLockError(f"DATABASE_URL: {url.render_as_string()} is not a SQLite database file")
    return Path(url.database).expanduser()


def lock_file(database_url: str) -> Path:
    """`<database file>.lock`, next to the SQLite database."""
    path = sqlite_path(make_url(database_url))
    return path.with_name(path.name + ".lock")


def _busy(database_url: str, detail: str = "") -> RunLockBusy:
    return RunLockBusy(
        f"{describe_database(database_url)} is in use by a running wardbot{detail}; stop it first "
        f"({STOP_HINT}), then try again"
    )


@asynccontextmanager
async def hold_run_lock(database_url: str, *, shared: bool = False) -> AsyncIterator[None]:
    """Hold the run lock of `database_url` until the block ends; `RunLockBusy` when someone else has it.

    The lock is tried, never waited for: a second bot or a restore must be told at once. On
    PostgreSQL, workers sharing the database hold it `shared`; a restore needs it alone.
    """
    url = make_url(database_url)
    if is_sqlite(url):
        async with _hold_sqlite(database_url):
            yield
    elif is_postgres(url):
        async with _hold_postgres(database_url, shared=shared):
            yield
    else:
        raise RunLockError(f"DATABASE_URL: {url.get_backend_name()} databases are not supported")


@asynccontextmanager
async def _hold_sqlite(database_url: str) -> AsyncIterator[None]:
    path = lock_file(database_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor, writable = os.open(path, os.O_RDWR | os.O_CREAT, 0o644), True
    except PermissionError:  # made by another user (say, a restore run with sudo): flock needs no write
        descriptor, writable = os.open(path, os.O_RDONLY), False
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip()
            raise _busy(database_url, f" (process {holder})" if holder.isdigit() else "") from None
        if writable:  # the holder's process id, only to tell people which process to stop
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            if writable:
                with contextlib.suppress(OSError):
                    os.ftruncate(descriptor, 0)
    finally:
        os.close(descriptor)  # closing the descriptor releases the flock


@asynccontextmanager
async def _hold_postgres(database_url: str, *, shared: bool) -> AsyncIterator[None]:
    engine = create_async_engine(make_url(database_url), poolclass=NullPool)
    try:
        try:
            connection = await engine.connect()
        except (SQLAlchemyError, OSError) as error:
            raise RunLockError(
                f"cannot connect to {describe_database(database_url)}: {_reason(error)}"
            ) from None
        try:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            kind = "_shared" if shared else ""
            got = (
                await connection.execute(text(f"SELECT pg_try_advisory_lock{kind}({RUN_LOCK_KEY})"))
            ).scalar_one()
            if not got:
                raise _busy(database_url)
            try:
                yield
            finally:
                with contextlib.suppress(SQLAlchemyError, OSError):
                    await connection.execute(text(f"SELECT pg_advisory_unlock{kind}({RUN_LOCK_KEY})"))
        finally:
            with contextlib.suppress(SQLAlchemyError, OSError):
                await connection.close()
    finally:
        await engine.dispose()


def _reason(error: BaseException) -> str:
    """The driver's own message, on one line (SQLAlchemy's wrapper adds SQL and links)."""
    original = getattr(error, "orig", None) or error
    return " ".join(str(original).split()) or type(original).__name__


class ProcessRunLock:
    """The run lock held by a background thread until `release()` or the end of the process.

    `run()` is synchronous and starts event loops of its own (asyncio.run, run_polling), so the lock
    lives in a thread with its own loop; the kernel or the server frees it if the process dies.
    """

    def __init__(self, database_url: str, *, shared: bool = False) -> None:
        self._database_url, self._shared = database_url, shared
        self._held = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="wardbot-run-lock", daemon=True)

    def acquire(self) -> None:
        """Take the lock or raise `RunLockBusy` / `RunLockError`."""
        self._thread.start()
        self._held.wait()
        if self._error is not None:
            self._thread.join()
            raise self._error
        atexit.register(self.release)

    def release(self) -> None:
        """Let the lock go (at exit at the latest)."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        self._thread.join(timeout=10)

    def _main(self) -> None:
        asyncio.run(self._hold())

    async def _hold(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        try:
            async with hold_run_lock(self._database_url, shared=self._shared):
                self._held.set()
                await self._stop.wait()
        except BaseException as error:  # handed to the thread that asked for the lock
            self._error = error
        finally:
            self._held.set()


def keep_run_lock(database_url: str, *, shared: bool = False) -> ProcessRunLock:
    """Take the run lock for the rest of this process (what `wardbot run` does first)."""
    lock = ProcessRunLock(database_url, shared=shared)
    lock.acquire()
    return lock
