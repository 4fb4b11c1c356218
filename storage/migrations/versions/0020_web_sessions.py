"""web page: one-time sign-in links and browser sessions

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 09:30:00

`/web` gives a one-time link (only its hash stored); signing in with it starts a session whose
cookie token is also kept only as a hash. Both belong to a ward.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table, secret in (("web_links", "code_hash"), ("web_sessions", "token_hash")):
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("ward_id", sa.Integer(), nullable=False),
            sa.Column("person_id", sa.Integer(), nullable=False),
            sa.Column(secret, sa.String(length=64), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("expires_at", sa.DateTime(), nullable=False),
            sa.Column("used_at" if table == "web_links" else "ended_at", sa.DateTime(), nullable=True),
            sa.ForeignKeyConstraint(
                ["person_id"], ["people.id"], name=op.f(f"fk_{table}_person_id_people"), ondelete="CASCADE"
            ),
            sa.ForeignKeyConstraint(
                ["ward_id"], ["wards.id"], name=op.f(f"fk_{table}_ward_id_wards"), ondelete="CASCADE"
            ),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
            sa.UniqueConstraint(secret, name=op.f(f"uq_{table}_{secret}")),
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_ward_id"), ["ward_id"], unique=False)


def downgrade() -> None:
    for table in ("web_sessions", "web_links"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_ward_id"))
        op.drop_table(table)
