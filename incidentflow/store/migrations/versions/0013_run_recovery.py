"""Runs at scale and their recovery: each attempt of an execution kept
(``execution_attempts``), when the current attempt started, which run a replay
repeats (``runs.replay_of``) and which bulk replay started it (``runs.replay_batch``),
and the indexes the filtered run list and the canvas's 24-hour chart read.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
ID = sa.String(length=40)


def upgrade() -> None:
    op.add_column("executions", sa.Column("attempt_started_at", TIMESTAMP, nullable=True))
    op.add_column("runs", sa.Column("replay_of", ID, nullable=True))
    op.add_column("runs", sa.Column("replay_batch", ID, nullable=True))
    op.create_index(op.f("ix_runs_replay_of"), "runs", ["replay_of"])
    op.create_index(op.f("ix_runs_replay_batch"), "runs", ["replay_batch"])
    op.create_index(op.f("ix_runs_canvas_state_id"), "runs", ["canvas", "state", "id"])
    op.create_index(op.f("ix_runs_canvas_created_at"), "runs", ["canvas", "created_at"])
    op.create_table(
        "execution_attempts",
        sa.Column("execution_id", ID, nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_details", sa.JSON(), nullable=True),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("ended_at", TIMESTAMP, nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(["execution_id"], ["executions.id"], ondelete="CASCADE",
                                name=op.f("fk_execution_attempts_execution_id")),
        sa.PrimaryKeyConstraint("execution_id", "attempt", name=op.f("pk_execution_attempts")),
    )
    op.create_index(op.f("ix_execution_attempts_run_id"), "execution_attempts", ["run_id"])


def downgrade() -> None:
    op.drop_table("execution_attempts")
    op.drop_index(op.f("ix_runs_canvas_created_at"), table_name="runs")
    op.drop_index(op.f("ix_runs_canvas_state_id"), table_name="runs")
    op.drop_index(op.f("ix_runs_replay_batch"), table_name="runs")
    op.drop_index(op.f("ix_runs_replay_of"), table_name="runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("replay_batch")
        batch.drop_column("replay_of")
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("attempt_started_at")
