"""Secrets for canvases: named values that templates read as ``{{ secrets.NAME }}``,
stored encrypted (``SecretBox``) and never returned.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "canvas_secrets",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("value_enc", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_canvas_secrets")),
    )


def downgrade() -> None:
    op.drop_table("canvas_secrets")
