"""Clinic mode: accounts and an append-only audit trail (``analyzer.history.accounts``).

The database itself refuses to change or delete an audit row: on PostgreSQL a trigger
function raises on UPDATE, DELETE and TRUNCATE; on SQLite triggers abort UPDATE and DELETE.
A later migration must not rebuild ``audit_event`` with ``batch_alter_table`` on SQLite: the
copy would lose the triggers (create them again if it must).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

REFUSAL = "audit rows cannot be changed"

POSTGRESQL_UP = (
    f"""
    CREATE FUNCTION audit_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{REFUSAL}';
    END;
    $$
    """,
    """
    CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change()
    """,
    # A row trigger does not see TRUNCATE.
    """
    CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_change()
    """,
)
POSTGRESQL_DOWN = (
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
    "DROP FUNCTION IF EXISTS audit_event_refuse_change()",
)
SQLITE_UP = tuple(
    f"""
    CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event
    BEGIN
        SELECT RAISE(ABORT, '{REFUSAL}');
    END
    """
    for verb in ("UPDATE", "DELETE")
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
)


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
        sa.Column("role", sa.String(12), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("password_changed_at", sa.DateTime, nullable=False),
        sa.CheckConstraint("role IN ('clinician', 'viewer', 'admin')", name="account_role"),
    )
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("account_name", sa.String(80), nullable=True),
        sa.Column("os_user", sa.String(80), nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("person_ref", sa.String(40), nullable=True),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_event_at", "audit_event", ["at"])
    op.create_index("ix_audit_event_account_name", "audit_event", ["account_name"])
    op.create_index("ix_audit_event_person_ref", "audit_event", ["person_ref"])
    # Another database would have no guard: fail rather than leave the audit changeable.
    for statement in {"postgresql": POSTGRESQL_UP, "sqlite": SQLITE_UP}[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    for statement in {"postgresql": POSTGRESQL_DOWN, "sqlite": SQLITE_DOWN}[
        op.get_bind().dialect.name
    ]:
        op.execute(statement)
    op.drop_table("audit_event")
    op.drop_table("account")
