"""A PostgreSQL cluster of the stack's own, made with Debian's initdb and pg_ctl."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

from iprwatch.stack.processes import LOOPBACK, StackError, port_answers, wait_until
from iprwatch.stack.system import postgres_bindir

MARKER = "postgres"
SUPERUSER = "postgres"


def _as_postgres_user(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` system user."""
    if os.geteuid() != 0:
        return command
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise StackError(
            "running as root needs a 'postgres' user (apt-get install postgresql)"
        ) from exc
    runuser = shutil.which("runuser") or "runuser"
    return [runuser, "-u", "postgres", "--", *command]


def _bin(name: str) -> str:
    bindir = postgres_bindir()
    if bindir is None:
        raise StackError("PostgreSQL is missing: install it with apt-get install -y postgresql")
    return str(bindir / name)


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise StackError(f"{what} failed:\n{result.stdout}\n{result.stderr}")


def init_cluster(folder: Path) -> Path:
    """Create the cluster once (trust auth on loopback only); return its data directory."""
    data = folder / "data"
    if (data / "PG_VERSION").exists():
        return data
    data.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    data.chmod(0o700)
    _run(
        _as_postgres_user(
            [_bin("initdb"), "-D", str(data), "-A", "trust", "-U", SUPERUSER, "-E", "UTF8",
             "--locale=C.UTF-8", "--no-sync"]
        ),
        "initdb",
    )  # fmt: skip
    return data


def start(folder: Path, port: int, log_file: Path) -> int:
    """Start the cluster on loopback and wait until it accepts connections; return its pid."""
    data = init_cluster(folder)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.touch()
    if os.geteuid() == 0:
        shutil.chown(log_file, "postgres", "postgres")
    options = (
        f"-p {port} -c listen_addresses={LOOPBACK} -c unix_socket_directories='' "
        "-c fsync=on -c max_connections=200 -c shared_buffers=256MB"
    )
    _run(
        _as_postgres_user(
            [_bin("pg_ctl"), "-D", str(data), "-o", options, "-l", str(log_file), "-w", "-t", "60",
             "start"]
        ),
        "pg_ctl start",
    )  # fmt: skip
    wait_until(lambda: port_answers(port), 30, "PostgreSQL", log_file)
    return int((data / "postmaster.pid").read_text().splitlines()[0])


def dsn(port: int, database: str = "iprwatch") -> str:
    return f"postgresql://{SUPERUSER}@{LOOPBACK}:{port}/{database}"


def create_database(port: int, database: str = "iprwatch") -> None:
    """Create the application database if it does not exist."""
    psql = [
        _bin("psql"),
        "-h",
        LOOPBACK,
        "-p",
        str(port),
        "-U",
        SUPERUSER,
        "-d",
        "postgres",
        "-tAc",
    ]
    exists = subprocess.run(  # noqa: S603
        [*psql, f"SELECT 1 FROM pg_database WHERE datname = '{database}'"],  # noqa: S608
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if exists.stdout.strip() != "1":
        _run([*psql, f'CREATE DATABASE "{database}"'], f"creating database {database}")
