"""A real PostgreSQL server for the tests, started on loopback in a temporary folder.

Debian's ``postgresql`` package provides the server binaries (``make test`` installs it when
missing). Run as root, the server runs as the ``postgres`` user, as PostgreSQL requires.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path:
        return path
    raise RuntimeError(
        f"PostgreSQL's {name} was not found: install Debian's postgresql package "
        "(make test does this when run as root)."
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """initdb + pg_ctl start on 127.0.0.1; ``url(name)`` creates and returns a database."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="analyzer-pg-"))
        self.port = _free_port()
        self.as_postgres = os.geteuid() == 0
        self.data = self.folder / "data"
        if self.as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(
            _bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder}"
        )
        self._run(
            _bin("pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.folder / "log"),
            "-w",
            "start",
        )
        self._count = 0

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def url(self) -> str:
        """A fresh, empty database."""
        import psycopg

        self._count += 1
        name = f"test_{os.getpid()}_{self._count}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def app_url(self) -> tuple[str, str]:
        """A fresh database owned by a login role of its own, as the README's recipe makes it:
        (the app's URL, the administrator's URL of the same database)."""
        import psycopg

        admin = self.url()
        name = admin.rsplit("/", 1)[1]
        role = f"app_{name}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE ROLE "{role}" LOGIN')
            connection.execute(f'ALTER DATABASE "{name}" OWNER TO "{role}"')
        return admin.replace("postgres@", f"{role}@", 1), admin

    def run_sql(self, url: str, lines: list[str]) -> None:
        """Run SQL lines as the administrator; a role that exists already (one cluster holds
        every test's databases) is passed over."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname={name}", autocommit=True
        ) as connection:
            for line in lines:
                for statement in filter(None, (s.strip() for s in line.split(";"))):
                    try:
                        connection.execute(statement)
                    except psycopg.errors.DuplicateObject:
                        if not statement.startswith("CREATE ROLE"):
                            raise

    def stop(self) -> None:
        try:
            self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            time.sleep(0.1)
            shutil.rmtree(self.folder, ignore_errors=True)
