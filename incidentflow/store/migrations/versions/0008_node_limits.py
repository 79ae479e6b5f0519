"""The create rate limit: a per-node row counting slots (``node_limits``), when the
rate limit admitted an execution (``executions.admitted_at``) and an index of the
executions a tripped node holds (state ``held``).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
_HELD = sa.text("state = 'held'")


def upgrade() -> None:
    op.create_table(
        "node_limits",
        sa.Column("canvas", sa.String(length=200), nullable=False),
        sa.Column("node", sa.String(length=200), nullable=False),
        sa.Column("window_start", TIMESTAMP, nullable=False),
        sa.Column("window_count", sa.Integer(), nullable=False),
        sa.Column("tripped_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(["canvas"], ["canvases.name"], ondelete="CASCADE",
                                name=op.f("fk_node_limits_canvas")),
        sa.PrimaryKeyConstraint("canvas", "node", name=op.f("pk_node_limits")),
    )
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("admitted_at", TIMESTAMP, nullable=True))
    op.create_index("ix_executions_held", "executions", ["node", "run_id"],
                    sqlite_where=_HELD, postgresql_where=_HELD)


def downgrade() -> None:
    op.drop_index("ix_executions_held", table_name="executions")
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("admitted_at")
    op.drop_table("node_limits")
