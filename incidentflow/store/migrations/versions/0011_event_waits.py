"""The ``waitForEvent`` step: ``event_waits`` (what a queued execution waits for, keyed
for the index rule), ``event_wait_paths`` (which event paths a canvas's waits are keyed
on) and ``event_wait_offers`` (events offered to a wait, evaluated by its worker).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def _cascade(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [target], ondelete="CASCADE",
                                   name=op.f(f"fk_{table}_{column}"))


def upgrade() -> None:
    op.create_table(
        "event_waits",
        sa.Column("execution_id", sa.String(length=40), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("canvas", sa.String(length=200), nullable=False),
        sa.Column("node", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("match", sa.Text(), nullable=False),
        sa.Column("match_path", sa.String(length=500), nullable=False),
        sa.Column("match_key", sa.String(length=500), nullable=True),
        sa.Column("began_at", TIMESTAMP, nullable=False),
        sa.Column("timeout_at", TIMESTAMP, nullable=False),
        _cascade("event_waits", "execution_id", "executions.id"),
        _cascade("event_waits", "run_id", "runs.id"),
        sa.PrimaryKeyConstraint("execution_id", name=op.f("pk_event_waits")),
    )
    op.create_index("ix_event_waits_canvas_event_type_match_path_match_key", "event_waits",
                    ["canvas", "event_type", "match_path", "match_key"])
    op.create_index("ix_event_waits_run_id", "event_waits", ["run_id"])
    op.create_table(
        "event_wait_paths",
        sa.Column("canvas", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("match_path", sa.String(length=500), nullable=False),
        _cascade("event_wait_paths", "canvas", "canvases.name"),
        sa.PrimaryKeyConstraint("canvas", "event_type", "match_path",
                                name=op.f("pk_event_wait_paths")),
    )
    op.create_table(
        "event_wait_offers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("execution_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=200), nullable=False),
        sa.Column("timestamp", sa.String(length=40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("arrived_at", TIMESTAMP, nullable=False),
        _cascade("event_wait_offers", "execution_id", "event_waits.execution_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_wait_offers")),
    )
    op.create_index("ix_event_wait_offers_execution_id_id", "event_wait_offers",
                    ["execution_id", "id"])


def downgrade() -> None:
    op.drop_table("event_wait_offers")
    op.drop_table("event_wait_paths")
    op.drop_index("ix_event_waits_run_id", table_name="event_waits")
    op.drop_index("ix_event_waits_canvas_event_type_match_path_match_key",
                  table_name="event_waits")
    op.drop_table("event_waits")
