"""Each capture keeps the landmarks its measures use (the model's, with the lids and brows
found in the photo itself where that fit is confident) beside the model's own, and how each
region of the face was measured.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("capture", sa.Column("refined_landmarks", sa.LargeBinary, nullable=True))
    op.add_column("capture", sa.Column("regions", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("capture") as batch:
        batch.drop_column("regions")
        batch.drop_column("refined_landmarks")
