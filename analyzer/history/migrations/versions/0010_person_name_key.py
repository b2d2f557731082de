"""People's names unique whatever their capitals: ``person.name_key`` (the name with white
space collapsed and case folded, ``storage.name_key``) with a unique constraint, so "test user"
cannot be added beside "Test User".

A database that already holds two people whose names differ only in capitals keeps both: the
later one (by id) is renamed "<name> (2)", "(3)" … and nothing else changes; the data page
shows the new name, which can be renamed again.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def upgrade() -> None:
    # Never a batch (copy-and-drop) of ``person`` on SQLite: dropping it would delete every
    # session and capture by their ON DELETE CASCADE. A column and an index are added in place.
    op.add_column("person", sa.Column("name_key", sa.String(200), nullable=True))
    connection = op.get_bind()
    person = sa.table(
        "person",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("name_key", sa.String),
    )
    rows = connection.execute(sa.select(person.c.id, person.c.name).order_by(person.c.id)).all()
    taken = {_key(name) for _, name in rows}
    seen: set[str] = set()
    for person_id, name in rows:
        key = _key(name)
        if key in seen:  # a later person whose name differs only in capitals: keep them apart
            k = 2
            while _key(f"{name} ({k})") in taken:
                k += 1
            name = f"{name} ({k})"
            key = _key(name)
            taken.add(key)
            connection.execute(sa.update(person).where(person.c.id == person_id).values(name=name))
        seen.add(key)
        connection.execute(sa.update(person).where(person.c.id == person_id).values(name_key=key))
    op.create_index("uq_person_name_key", "person", ["name_key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_person_name_key", table_name="person")
    op.execute("ALTER TABLE person DROP COLUMN name_key")  # in place (SQLite ≥ 3.35)
