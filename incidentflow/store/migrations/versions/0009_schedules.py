"""Schedule triggers: ``schedules`` (one row per schedule node, its last fire or skip)
and ``schedule_fires`` (one row per due time that fired or was skipped; its primary key
makes each due time fire once across workers).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def _canvas_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["canvas"], ["canvases.name"], ondelete="CASCADE",
                                   name=op.f(f"fk_{table}_canvas"))


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("canvas", sa.String(length=200), nullable=False),
        sa.Column("node", sa.String(length=200), nullable=False),
        sa.Column("cron", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=100), nullable=False),
        sa.Column("catch_up_minutes", sa.Integer(), nullable=False),
        sa.Column("since", TIMESTAMP, nullable=False),
        sa.Column("last_due_at", TIMESTAMP, nullable=True),
        sa.Column("last_outcome", sa.String(length=20), nullable=True),
        sa.Column("last_run_id", sa.String(length=40), nullable=True),
        sa.Column("last_at", TIMESTAMP, nullable=True),
        _canvas_key("schedules"),
        sa.PrimaryKeyConstraint("canvas", "node", name=op.f("pk_schedules")),
    )
    op.create_table(
        "schedule_fires",
        sa.Column("canvas", sa.String(length=200), nullable=False),
        sa.Column("node", sa.String(length=200), nullable=False),
        sa.Column("due_at", TIMESTAMP, nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=True),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        _canvas_key("schedule_fires"),
        sa.PrimaryKeyConstraint("canvas", "node", "due_at", name=op.f("pk_schedule_fires")),
    )


def downgrade() -> None:
    op.drop_table("schedule_fires")
    op.drop_table("schedules")
