"""names the ward recorded: a person's name given by staff outlives the platform's, and invites carry one

Revision ID: 0021
Revises: 0017
Create Date: 2026-11-30 09:40:00

Existing people keep the platform's name (named_by_ward false), as before; names given with
`wardbot admin add --name` from now on are kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("named_by_ward", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.drop_column("name")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("named_by_ward")
