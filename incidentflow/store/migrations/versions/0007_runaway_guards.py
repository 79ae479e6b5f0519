"""A canvas that feeds itself can be recognised and stopped: what create actions
opened (``created_objects``, the self-trigger guard), a canvas's paused state, the
events a delivery to a paused canvas carried, and two more delivery counters.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
COUNTERS = ("filtered_count", "paused_count")


def upgrade() -> None:
    op.add_column("canvases", sa.Column("paused_at", TIMESTAMP, nullable=True))
    op.add_column("deliveries", sa.Column("held_events", sa.JSON(), nullable=True))
    for counter in COUNTERS:
        op.add_column("endpoints", sa.Column(counter, sa.Integer(), nullable=False,
                                             server_default="0"))
    op.create_table(
        "created_objects",
        sa.Column("execution_id", sa.String(length=40), nullable=False),
        sa.Column("canvas", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("object_id", sa.String(length=200), nullable=True),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(["canvas"], ["canvases.name"], ondelete="CASCADE",
                                name=op.f("fk_created_objects_canvas")),
        sa.PrimaryKeyConstraint("execution_id", name=op.f("pk_created_objects")),
    )
    op.create_index(op.f("ix_created_objects_canvas_kind_object_id"), "created_objects",
                    ["canvas", "kind", "object_id"])
    op.create_index(op.f("ix_created_objects_canvas_state"), "created_objects",
                    ["canvas", "state"])
    op.create_index(op.f("ix_created_objects_started_at"), "created_objects", ["started_at"])


def downgrade() -> None:
    op.drop_table("created_objects")
    with op.batch_alter_table("endpoints") as batch:
        for counter in COUNTERS:
            batch.drop_column(counter)
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("held_events")
    with op.batch_alter_table("canvases") as batch:
        batch.drop_column("paused_at")
