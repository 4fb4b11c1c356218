"""staff invites: an invite may make its opener ward (or province) staff; setup codes

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-02 09:00:00

An invite now carries its ward (group invites: their group's ward); staff and province invites have
no group, and a setup code (`setup`) is the one a ward without staff starts from.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ward_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("setup", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.alter_column("group_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_invites_ward_id_wards"), "wards", ["ward_id"], ["id"], ondelete="CASCADE"
        )
    op.execute(
        sa.text(
            "UPDATE invites SET ward_id = "
            "(SELECT ward_id FROM residential_groups WHERE residential_groups.id = invites.group_id)"
        )
    )
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.alter_column("setup", server_default=None)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM invites WHERE group_id IS NULL"))
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_invites_ward_id_wards"), type_="foreignkey")
        batch_op.alter_column("group_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("setup")
        batch_op.drop_column("ward_id")
