"""free answers: text answers in report values, photo answers as bounded blobs

Revision ID: 0022
Revises: 0018
Create Date: 2026-12-03 09:00:00

A text answer is kept beside the value it replaces (`report_values.text`); photos live in their own
table, linked to the report once it is submitted, so reading figures never loads a picture.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report_values", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text", sa.Text(), nullable=True))
    op.create_table(
        "report_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ward_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["residential_groups.id"],
            name=op.f("fk_report_photos_group_id_residential_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_report_photos_person_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_photos_report_id_reports"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["ward_id"], ["wards.id"], name=op.f("fk_report_photos_ward_id_wards"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_photos")),
    )
    op.create_index("ix_report_photos_group_id_month", "report_photos", ["group_id", "month"], unique=False)
    op.create_index(op.f("ix_report_photos_report_id"), "report_photos", ["report_id"], unique=False)
    op.create_index(op.f("ix_report_photos_ward_id"), "report_photos", ["ward_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_report_photos_ward_id"), table_name="report_photos")
    op.drop_index(op.f("ix_report_photos_report_id"), table_name="report_photos")
    op.drop_index("ix_report_photos_group_id_month", table_name="report_photos")
    op.drop_table("report_photos")
    with op.batch_alter_table("report_values", schema=None) as batch_op:
        batch_op.drop_column("text")
