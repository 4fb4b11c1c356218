"""durable inbox; outbox replies and leases

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_key", sa.String(length=96), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("handled_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("platform", "update_id", name=op.f("uq_inbox_platform")),
    )
    op.create_index(op.f("ix_inbox_received_at"), "inbox", ["received_at"], unique=False)
    op.create_index(
        "ix_inbox_unhandled",
        "inbox",
        ["chat_key", "id"],
        unique=False,
        sqlite_where=sa.text("handled_at IS NULL"),
        postgresql_where=sa.text("handled_at IS NULL"),
    )
    op.drop_index("ix_processed_updates_handled_at", table_name="processed_updates")
    op.drop_table("processed_updates")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.alter_column("broadcast_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("edit_message_id", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("created_at", sa.DateTime(), nullable=False, server_default=sa.func.current_timestamp())
        )
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.alter_column("created_at", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("created_at")
        batch_op.drop_column("edit_message_id")
        batch_op.alter_column("broadcast_id", existing_type=sa.Integer(), nullable=False)
    op.create_table(
        "processed_updates",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("handled_at", sa.DateTime(), server_default=sa.func.current_timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "update_id", name=op.f("pk_processed_updates")),
    )
    op.create_index("ix_processed_updates_handled_at", "processed_updates", ["handled_at"], unique=False)
    op.drop_index("ix_inbox_unhandled", table_name="inbox")
    op.drop_index(op.f("ix_inbox_received_at"), table_name="inbox")
    op.drop_table("inbox")
