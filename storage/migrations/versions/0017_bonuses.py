"""bonus and penalty points (điểm thưởng / điểm trừ) per group and month

Revision ID: 0017
Revises: 0020
Create Date: 2026-12-03 09:00:00

A new table only; nothing existing changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bonuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ward_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("points", sa.Double(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=True),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["residential_groups.id"],
            name=op.f("fk_bonuses_group_id_residential_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["set_by"], ["people.id"], name=op.f("fk_bonuses_set_by_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["ward_id"], ["wards.id"], name=op.f("fk_bonuses_ward_id_wards"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bonuses")),
        sa.UniqueConstraint("group_id", "month", name=op.f("uq_bonuses_group_id")),
    )
    with op.batch_alter_table("bonuses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bonuses_month"), ["month"], unique=False)
        batch_op.create_index(batch_op.f("ix_bonuses_ward_id"), ["ward_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bonuses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bonuses_ward_id"))
        batch_op.drop_index(batch_op.f("ix_bonuses_month"))
    op.drop_table("bonuses")
