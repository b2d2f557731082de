"""Expression captures keep their landmarks followed from the session's rest photo.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("capture", sa.Column("followed_landmarks", sa.LargeBinary, nullable=True))
    op.add_column("capture", sa.Column("followed_from_id", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("capture") as batch:
        batch.drop_column("followed_from_id")
        batch.drop_column("followed_landmarks")
