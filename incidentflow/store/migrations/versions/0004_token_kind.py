"""Token rows say what they are: "api" (a bearer token) or "session" (a browser
session's row, so a sign-out holds on every replica), instead of a name prefix.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(16), nullable=False, server_default="api")
        )
    # Rows written before this migration: sessions were known by their name.
    op.execute("UPDATE api_tokens SET kind = 'session' WHERE name LIKE 'browser session%'")


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("kind")
