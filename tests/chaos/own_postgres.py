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
        place = postgres.cluster_folder(self.folder)
        command = postgres._as_postgres_user(  # noqa: SLF001 - the stack's own helpers
            [postgres._bin("pg_ctl"), "-D", str(place / "data"), *args]  # noqa: SLF001
        )
        # no pipes: a server started by pg_ctl would hold them open
        subprocess.run(  # noqa: S603
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=120
        )

    def restart_immediately(self) -> None:
        """`pg_ctl restart -m immediate`: no checkpoint, every connection cut (a crash)."""
        log = postgres.cluster_folder(self.folder) / "postgres.log"
        self.pg_ctl("-m", "immediate", "-w", "-t", "60", "-l", str(log), "restart")


@contextmanager
def own_postgres(folder: Path, port: int | None = None) -> Iterator[OwnPostgres]:
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
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
