"""Clinic mode: a server-side record of each sign-in (``analyzer.history.accounts.SignIn``),
so that disabling an account, changing its password or signing out everywhere ends its open
sessions at their next message. Only a hash of each session's token is stored.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("account.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_seen_at", sa.DateTime, nullable=False),
        sa.Column("ended_at", sa.DateTime, nullable=True),
        sa.Column("end_reason", sa.String(20), nullable=True),
    )
    op.create_index("ix_sign_in_account_id", "sign_in", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_account_id", table_name="sign_in")
    op.drop_table("sign_in")
