"""Captures keep how they were taken (camera, distance, pose, light, expression state) and
a face-recognition embedding for the same-person check.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("capture", sa.Column("conditions", sa.JSON, nullable=True))
    op.add_column("capture", sa.Column("identity", sa.LargeBinary, nullable=True))
    op.add_column(
        "capture",
        sa.Column("identity_confirmed", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("capture") as batch:
        batch.drop_column("identity_confirmed")
        batch.drop_column("identity")
        batch.drop_column("conditions")
