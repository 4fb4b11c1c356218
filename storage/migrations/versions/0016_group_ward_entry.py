"""residential groups remember their ward-file entry

Revision ID: 0016
Revises: 0012
Create Date: 2026-12-01 08:00:00

Existing groups start without one: the next start records the ward file's entry and keeps what the
database has, so values set in chat or by CSV are not overwritten by an unchanged ward file.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("residential_groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ward_entry", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("residential_groups", schema=None) as batch_op:
        batch_op.drop_column("ward_entry")
