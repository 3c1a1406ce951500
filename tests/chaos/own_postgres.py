"""A PostgreSQL cluster of one test's own, so that the test may restart it brutally."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from iprwatch.stack import postgres
from iprwatch.stack.processes import free_port


@dataclass(frozen=True)
class OwnPostgres:
    folder: Path
    port: int

    @property
    def dsn(self) -> str:
        return postgres.dsn(self.port)

    def pg_ctl(self, *args: str) -> None:
        data = postgres.cluster_folder(self.folder) / "data"
        command = postgres._as_postgres_user(  # noqa: SLF001 - the stack's own helpers
            [postgres._bin("pg_ctl"), "-D", str(data), *args]  # noqa: SLF001
        )
        subprocess.run(command, capture_output=True, check=True, timeout=120)  # noqa: S603

    def restart_immediately(self) -> None:
        """`pg_ctl restart -m immediate`: no checkpoint, every connection cut (a crash)."""
        self.pg_ctl("-m", "immediate", "-w", "-t", "60", "restart")


@contextmanager
def own_postgres(folder: Path) -> Iterator[OwnPostgres]:
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    postgres.start(folder, port, folder / "postgres.log")
    postgres.create_database(port)
    cluster = OwnPostgres(folder, port)
    try:
        yield cluster
    finally:
        try:
            cluster.pg_ctl("-m", "immediate", "-w", "stop")
        finally:
            postgres.remove_cluster(folder)
