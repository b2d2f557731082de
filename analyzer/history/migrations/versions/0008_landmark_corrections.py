"""Landmarks corrected by hand: one row per move of a capture's point (who, when, from where
to where), beside the capture's own landmarks, which stay untouched
(``analyzer.history.corrections``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "landmark_correction",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "capture_id",
            sa.Integer,
            sa.ForeignKey("capture.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("landmark", sa.Integer, nullable=False),
        sa.Column("old_x", sa.Float, nullable=False),
        sa.Column("old_y", sa.Float, nullable=False),
        sa.Column("new_x", sa.Float, nullable=False),
        sa.Column("new_y", sa.Float, nullable=False),
        sa.Column("corrected_by", sa.String(80), nullable=False),
        sa.Column("corrected_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_landmark_correction_capture_id", "landmark_correction", ["capture_id"])


def downgrade() -> None:
    op.drop_index("ix_landmark_correction_capture_id", table_name="landmark_correction")
    op.drop_table("landmark_correction")
