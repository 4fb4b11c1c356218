"""What differs between SQLite and PostgreSQL, in one place: inserting a row that may already exist."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


def insert_or_ignore(
    session: AsyncSession, model: type[DeclarativeBase], values: Sequence[dict[str, Any]], keys: Sequence[str]
) -> Any:
    """INSERT … ON CONFLICT (keys) DO NOTHING in the session's dialect: concurrent writers (several
    workers) may insert the same row; the second does nothing instead of failing."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model).values(list(values)).on_conflict_do_nothing(index_elements=list(keys))
