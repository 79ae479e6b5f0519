"""On Incident's catch-up poll: ``incident_changes`` (one row per node, incident and
``updated_at``: whichever of the webhook and the poll records it first starts the run)
and ``catch_up_polls`` (per node: polled since when, last poll, how many it found).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def _canvas_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["canvas"], ["canvases.name"], ondelete="CASCADE",
                                   name=op.f(f"fk_{table}_canvas"))


def upgrade() -> None:
    op.create_table(
        "incident_changes",
        sa.Column("canvas", sa.String(length=200), nullable=False),
        sa.Column("node", sa.String(length=200), nullable=False),
        sa.Column("incident_id", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=True),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        _canvas_key("incident_changes"),
        sa.PrimaryKeyConstraint("canvas", "node", "incident_id", "updated_at",
                                name=op.f("pk_incident_changes")),
    )
    op.create_index(op.f("ix_incident_changes_recorded_at"), "incident_changes",
                    ["recorded_at"])
    op.create_table(
        "catch_up_polls",
        sa.Column("canvas", sa.String(length=200), nullable=False),
        sa.Column("node", sa.String(length=200), nullable=False),
        sa.Column("since", TIMESTAMP, nullable=False),
        sa.Column("last_poll_at", TIMESTAMP, nullable=False),
        sa.Column("last_found", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _canvas_key("catch_up_polls"),
        sa.PrimaryKeyConstraint("canvas", "node", name=op.f("pk_catch_up_polls")),
    )


def downgrade() -> None:
    op.drop_table("catch_up_polls")
    op.drop_index(op.f("ix_incident_changes_recorded_at"), table_name="incident_changes")
    op.drop_table("incident_changes")
