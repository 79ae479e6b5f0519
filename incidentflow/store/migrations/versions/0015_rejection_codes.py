"""A rejected delivery keeps its rejection code (``deliveries.code``: no_secret,
bad_signature, stale_timestamp, ...) beside the reason text, so the delivery log and
anything else reading it classify by code, never by the wording of the reason.

Revision ID: 0015
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("code", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("code")
