"""Clinic mode: photo bytes in the database (``analyzer.history.photos``).

A content-addressed ``photo`` table (``bytea`` on PostgreSQL). It is created on SQLite
too, so both schemas stay one, but only PostgreSQL keeps photos in it
(``photos.photo_store_for``); SQLite keeps the photo folder.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "photo",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("suffix", sa.String(10), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("photo")
