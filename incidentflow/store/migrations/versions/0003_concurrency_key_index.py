"""Index for per-key ordering: claim asks whether an earlier execution of the same
concurrency key is still queued or running.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_executions_concurrency_key_state"),
        "executions",
        ["concurrency_key", "state"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_executions_concurrency_key_state"), table_name="executions")
