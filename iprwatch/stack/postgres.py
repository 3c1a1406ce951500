"""A PostgreSQL cluster of the stack's own, made with Debian's initdb and pg_ctl."""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from iprwatch.stack.processes import LOOPBACK, StackError, is_alive, port_answers, wait_until
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


RELOCATED = Path("/var/tmp/iprwatch-postgres")  # noqa: S108 - owned and made 0755 here


def _postgres_can_reach(folder: Path) -> bool:
    check = _as_postgres_user(["test", "-w", str(folder)])
    return subprocess.run(check, capture_output=True, check=False).returncode == 0  # noqa: S603


def cluster_folder(folder: Path) -> Path:
    """Where the cluster lives: `folder`, unless the `postgres` user cannot reach it.

    Running as root from a checkout under a private folder (mode 700 somewhere above it), the
    unprivileged server could not open its own files; the cluster then lives in a folder of its
    own under /var/tmp, named after `folder`, and `folder/location` says where.
    """
    if os.geteuid() != 0 or _postgres_can_reach(folder):
        return folder
    digest = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    place = RELOCATED / digest
    place.mkdir(parents=True, exist_ok=True)
    for level in (RELOCATED, place):
        level.chmod(0o755)
    shutil.chown(place, "postgres", "postgres")
    (folder / "location").write_text(f"{place}\n")
    return place


def data_dir(folder: Path) -> Path:
    """The cluster's data directory, wherever `cluster_folder` put it (no side effects)."""
    location = folder / "location"
    place = Path(location.read_text().strip()) if location.exists() else folder
    return place / "data"


def running(folder: Path) -> tuple[int, int] | None:
    """(pid, port) of a server running from the stack's cluster, however it was started
    (`pg_ctl restart` by hand included): read from its `postmaster.pid`."""
    try:
        lines = (data_dir(folder) / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, IndexError, ValueError):
        return None
    return (pid, port) if is_alive(pid, MARKER) else None


def remove_cluster(folder: Path) -> None:
    """Delete a stopped cluster's files, wherever `cluster_folder` put them."""
    location = folder / "location"
    if location.exists():
        shutil.rmtree(location.read_text().strip(), ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)


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
    place = cluster_folder(folder)
    data = init_cluster(place)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    if place != folder:
        # the server writes its log where it can; the stack's log folder links to it
        server_log = place / "postgres.log"
        if log_file.is_symlink() or log_file.exists():
            log_file.unlink()
        log_file.symlink_to(server_log)
        log_file = server_log
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
