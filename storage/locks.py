"""Locks that hold across worker processes sharing one PostgreSQL database (advisory locks).

On SQLite there is one process by construction (the database is a file on one machine), so every
lock here is a no-op there: in-process order and the write lock already give the same guarantees.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

MIGRATIONS = "wardbot:migrations"
LEADER = "wardbot:leader"


def key_of(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def is_postgres(target: AsyncSession | AsyncConnection) -> bool:
    bind = target.bind if isinstance(target, AsyncSession) else target
    return bind is not None and bind.dialect.name == "postgresql"


async def lock_for_transaction(target: AsyncSession | AsyncConnection, name: str) -> None:
    """Wait for `name` and hold it until the transaction ends (PostgreSQL; nothing on SQLite)."""
    if is_postgres(target):
        await target.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key_of(name)})


async def try_hold(connection: AsyncConnection, name: str) -> bool:
    """Take `name` for as long as this connection lives, if nobody holds it (PostgreSQL; True on SQLite)."""
    if not is_postgres(connection):
        return True
    taken = await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key_of(name)})
    await connection.commit()
    return bool(taken)
