"""The engine's indexes cover only the rows they serve: queued executions (claim by
due time), running ones (expired leases) and ones with a concurrency key.

Most executions are finished, and every state change used to rewrite three index
entries keyed on ``state``; finished rows now sit in none of these indexes, so a
finish touches fewer b-trees and the indexes stay small as history grows.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_QUEUED = sa.text("state = 'queued'")
_RUNNING = sa.text("state = 'running'")
_KEYED = sa.text("concurrency_key IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_executions_state_next_attempt_at", table_name="executions")
    op.drop_index("ix_executions_state_lease_expires_at", table_name="executions")
    op.drop_index("ix_executions_concurrency_key_state", table_name="executions")
    op.create_index("ix_executions_queued_due", "executions", ["next_attempt_at", "id"],
                    sqlite_where=_QUEUED, postgresql_where=_QUEUED)
    op.create_index("ix_executions_running_lease", "executions", ["lease_expires_at"],
                    sqlite_where=_RUNNING, postgresql_where=_RUNNING)
    op.create_index("ix_executions_keyed", "executions", ["concurrency_key", "state"],
                    sqlite_where=_KEYED, postgresql_where=_KEYED)


def downgrade() -> None:
    op.drop_index("ix_executions_keyed", table_name="executions")
    op.drop_index("ix_executions_running_lease", table_name="executions")
    op.drop_index("ix_executions_queued_due", table_name="executions")
    op.create_index("ix_executions_state_next_attempt_at", "executions",
                    ["state", "next_attempt_at"])
    op.create_index("ix_executions_state_lease_expires_at", "executions",
                    ["state", "lease_expires_at"])
    op.create_index("ix_executions_concurrency_key_state", "executions",
                    ["concurrency_key", "state"])
