"""People, sessions and captures.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("affected_side", sa.String(5), nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "session",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "person_id", sa.Integer, sa.ForeignKey("person.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.UniqueConstraint("person_id", "day", name="one_session_per_day"),
    )
    op.create_index("ix_session_person_id", "session", ["person_id"])
    op.create_table(
        "capture",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "session_id",
            sa.Integer,
            sa.ForeignKey("session.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "person_id", sa.Integer, sa.ForeignKey("person.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("taken_at", sa.DateTime, nullable=False),
        sa.Column("expression", sa.String(40), nullable=False),
        sa.Column("source_name", sa.String(500), nullable=False),
        sa.Column("photo_sha256", sa.String(64), nullable=False),
        sa.Column("photo_path", sa.String(200), nullable=True),
        sa.Column("mirrored", sa.Boolean, nullable=False),
        sa.Column("image_width", sa.Integer, nullable=False),
        sa.Column("image_height", sa.Integer, nullable=False),
        sa.Column("landmarks", sa.LargeBinary, nullable=False),
        sa.Column("user_mm_per_px", sa.Float, nullable=True),
        sa.Column("scale_mm_per_px", sa.Float, nullable=False),
        sa.Column("yaw_deg", sa.Float, nullable=False),
        sa.Column("pitch_deg", sa.Float, nullable=False),
        sa.Column("roll_deg", sa.Float, nullable=False),
        sa.Column("quality", sa.JSON, nullable=False),
        sa.Column("quality_status", sa.String(4), nullable=False),
        sa.Column("accepted", sa.Boolean, nullable=False),
        sa.Column("measures", sa.JSON, nullable=False),
        sa.Column("analyzer_version", sa.String(20), nullable=False),
        sa.UniqueConstraint("person_id", "photo_sha256", name="one_copy_of_a_photo"),
    )
    op.create_index("ix_capture_session_id", "capture", ["session_id"])
    op.create_index("ix_capture_person_id", "capture", ["person_id"])


def downgrade() -> None:
    op.drop_table("capture")
    op.drop_table("session")
    op.drop_table("person")
