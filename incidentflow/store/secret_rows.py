"""Secrets for canvases: one encrypted value per name (migration ``0006``).

Values arrive here already encrypted by ``SecretBox``; this module never sees plain
text. The table is declared on ``store.schema.metadata`` so the
migrations-match-metadata test sees it.
"""

from __future__ import annotations

import sqlalchemy as sa

from incidentflow.store.schema import NAME, UTCDateTime, metadata

canvas_secrets = sa.Table(
    "canvas_secrets",
    metadata,
    sa.Column("name", NAME, primary_key=True),
    sa.Column("value_enc", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)
