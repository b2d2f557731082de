"""A capture made from a burst of video frames keeps how many frames it averaged and each
measure's SD across them (live capture).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("capture", sa.Column("burst_size", sa.Integer, nullable=True))
    op.add_column("capture", sa.Column("burst_sd", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("capture") as batch:
        batch.drop_column("burst_sd")
        batch.drop_column("burst_size")
