"""wards: groups, staff, campaigns, broadcasts and the audit log belong to a ward

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 07:00:00

Existing rows go to one ward (code WARD); at the next start it takes the ward file's code and name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    wards = op.create_table(
        "wards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wards")),
        sa.UniqueConstraint("code", name=op.f("uq_wards_code")),
    )
    connection = op.get_bind()
    if (
        connection.execute(sa.text("SELECT count(*) FROM residential_groups")).scalar()
        or connection.execute(sa.text("SELECT count(*) FROM people")).scalar()
    ):
        now = datetime.now(UTC).replace(tzinfo=None)
        op.bulk_insert(wards, [{"id": 1, "code": "WARD", "name": "", "created_at": now}])
    first_ward = sa.text("(SELECT min(id) FROM wards)")
    with op.batch_alter_table("residential_groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ward_id", sa.Integer(), nullable=True))
    op.execute(sa.update(sa.table("residential_groups", sa.column("ward_id"))).values(ward_id=first_ward))
    with op.batch_alter_table("residential_groups", schema=None) as batch_op:
        batch_op.alter_column("ward_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint("uq_residential_groups_code", type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_residential_groups_ward_id"), ["ward_id", "code"])
        batch_op.create_index(batch_op.f("ix_residential_groups_ward_id"), ["ward_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_residential_groups_ward_id_wards"),
            "wards",
            ["ward_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ward_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("is_province", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_foreign_key(
            batch_op.f("fk_people_ward_id_wards"), "wards", ["ward_id"], ["id"], ondelete="SET NULL"
        )
    op.execute(
        sa.update(sa.table("people", sa.column("ward_id"), sa.column("is_staff")))
        .where(sa.column("is_staff").is_(True))
        .values(ward_id=first_ward)
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.alter_column("is_province", server_default=None)
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ward_id", sa.Integer(), nullable=True))
    op.execute(sa.update(sa.table("campaigns", sa.column("ward_id"))).values(ward_id=first_ward))
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.alter_column("ward_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f("ix_campaigns_ward_id"), ["ward_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_campaigns_ward_id_wards"), "wards", ["ward_id"], ["id"], ondelete="CASCADE"
        )
    for table in ("broadcasts", "audit_log"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("ward_id", sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_ward_id_wards"), "wards", ["ward_id"], ["id"], ondelete="SET NULL"
            )
        op.execute(sa.update(sa.table(table, sa.column("ward_id"))).values(ward_id=first_ward))
    # Dated broadcasts are now keyed by ward as well.
    for prefix in ("standings:", "reminder:"):
        op.execute(
            sa.text(
                "UPDATE broadcasts SET key = :prefix || '1:' || substr(key, :start) WHERE key LIKE :pattern"
            ).bindparams(prefix=prefix, start=len(prefix) + 1, pattern=prefix + "%")
        )
    # Partial unique indexes, now for PostgreSQL as well (they were SQLite-only).
    op.drop_index("uq_memberships_one_head_or_deputy", table_name="memberships")
    op.create_index(
        "uq_memberships_one_head_or_deputy",
        "memberships",
        ["group_id", "role"],
        unique=True,
        sqlite_where=sa.text("role IN ('head', 'deputy')"),
        postgresql_where=sa.text("role IN ('head', 'deputy')"),
    )
    op.drop_index("uq_chats_one_per_group", table_name="chats")
    op.create_index(
        "uq_chats_one_per_group",
        "chats",
        ["group_id"],
        unique=True,
        sqlite_where=sa.text("group_id IS NOT NULL"),
        postgresql_where=sa.text("group_id IS NOT NULL"),
    )


def downgrade() -> None:
    for table in ("audit_log", "broadcasts"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_ward_id_wards"), type_="foreignkey")
            batch_op.drop_column("ward_id")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_campaigns_ward_id_wards"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_campaigns_ward_id"))
        batch_op.drop_column("ward_id")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_people_ward_id_wards"), type_="foreignkey")
        batch_op.drop_column("is_province")
        batch_op.drop_column("ward_id")
    with op.batch_alter_table("residential_groups", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_residential_groups_ward_id_wards"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_residential_groups_ward_id"))
        batch_op.drop_constraint(batch_op.f("uq_residential_groups_ward_id"), type_="unique")
        batch_op.create_unique_constraint("uq_residential_groups_code", ["code"])
        batch_op.drop_column("ward_id")
    op.drop_table("wards")
