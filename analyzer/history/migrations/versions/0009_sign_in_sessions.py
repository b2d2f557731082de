"""Clinic mode: a server-side record of each sign-in (``analyzer.history.accounts.SignIn``),
so that disabling an account, changing its password or signing out everywhere ends its open
sessions at their next message (only a hash of each session's token is stored); and the
sign-in back-off per account and client address (``LoginThrottle``), which replaces the
account lock of 0004 (``account.locked_until`` stays, unused).

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
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("account.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure_at", sa.DateTime, nullable=False),
        sa.Column("wait_until", sa.DateTime, nullable=True),
    )
    op.create_index("ix_login_throttle_account_id", "login_throttle", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_login_throttle_account_id", table_name="login_throttle")
    op.drop_table("login_throttle")
    op.drop_index("ix_sign_in_account_id", table_name="sign_in")
    op.drop_table("sign_in")
