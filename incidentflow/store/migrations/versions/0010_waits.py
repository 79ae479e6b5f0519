"""Waiting steps: ``waits`` (one row per execution of an ``approval`` or another
waiting kind: what it waits for, until when, and how it was settled, once).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
OPEN = sa.text("settled_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "waits",
        sa.Column("execution_id", sa.String(length=40), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("canvas", sa.String(length=200), nullable=False),
        sa.Column("node", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("began_at", TIMESTAMP, nullable=False),
        sa.Column("until", TIMESTAMP, nullable=True),
        sa.Column("settled_at", TIMESTAMP, nullable=True),
        sa.Column("outcome", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["execution_id"], ["executions.id"], ondelete="CASCADE",
                                name=op.f("fk_waits_execution_id")),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE",
                                name=op.f("fk_waits_run_id")),
        sa.PrimaryKeyConstraint("execution_id", name=op.f("pk_waits")),
    )
    op.create_index(op.f("ix_waits_run_id_node"), "waits", ["run_id", "node"])
    op.create_index("ix_waits_open", "waits", ["kind", "began_at"],
                    sqlite_where=OPEN, postgresql_where=OPEN)
    op.create_index("ix_waits_open_key", "waits", ["kind", "canvas", "key"],
                    sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index("ix_waits_open_key", table_name="waits")
    op.drop_index("ix_waits_open", table_name="waits")
    op.drop_index(op.f("ix_waits_run_id_node"), table_name="waits")
    op.drop_table("waits")
