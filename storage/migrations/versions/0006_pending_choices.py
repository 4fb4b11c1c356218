"""pending choices

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 15:01:32.713082
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_choices",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_external_id", sa.String(length=64), nullable=False),
        sa.Column("data_json", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "chat_external_id", name=op.f("pk_pending_choices")),
    )


def downgrade() -> None:
    op.drop_table("pending_choices")
