"""Starting, finding and stopping the stack's processes, by pid, on free loopback ports."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

LOOPBACK = "127.0.0.1"
PF_EXITING = 0x4  # /proc/<pid>/stat flags: the process is exiting


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def free_port(preferred: int | None = None, taken: set[int] | None = None) -> int:
    """`preferred` if it is free, else a port the kernel hands out."""
    taken = taken or set()
    if preferred is not None and preferred not in taken and port_is_free(preferred):
        return preferred
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((LOOPBACK, 0))
            port = int(sock.getsockname()[1])
        if port not in taken:
            return port


def port_answers(port: int, host: str = LOOPBACK) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# The processes this process started: their exit status tells why a part stopped.
_children: dict[int, subprocess.Popen[bytes]] = {}


def spawn(
    command: Sequence[str],
    log_file: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start a detached process (its own session) writing to `log_file`; return its pid."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - commands are built by the stack itself
            list(command),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    _children[process.pid] = process
    return process.pid


def exit_reason(pid: int) -> str:
    """How `pid` ended, when this process started it ("killed by SIGKILL", "exited with 1")."""
    process = _children.get(pid)
    code = process.poll() if process is not None else None
    if code is None:
        return f"not running (pid {pid} gone)"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with {code}"


def find_process(*needles: str) -> int | None:
    """The pid of a running process whose command line contains every one of `needles`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if cmdline and all(needle in cmdline for needle in needles):
            pid = int(entry.name)
            if is_alive(pid):
                return pid
    return None


def is_alive(pid: int, marker: str | None = None) -> bool:
    """True if `pid` runs and, when given, its command line contains `marker` (pid reuse)."""
    process = _children.get(pid)
    if process is not None and process.poll() is not None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        if fields[0] == "Z":
            _reap(pid)
            return False
        if int(fields[6]) & PF_EXITING:
            # killed, its memory (and command line) already gone, but its files, a listening
            # socket among them, not yet closed: it still holds its port
            return True
    except (OSError, IndexError, ValueError):
        return False
    if marker is None:
        return True
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return marker in cmdline


def _reap(pid: int) -> None:
    process = _children.get(pid)
    if process is not None:  # through Popen, which keeps the exit status for `exit_reason`
        process.poll()
        return
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def stop(pid: int, marker: str | None, sig: int = signal.SIGTERM, timeout: float = 30.0) -> bool:
    """Signal `pid` and wait for it to exit, killing it after `timeout`. True if it was running."""
    if not is_alive(pid, marker):
        return False
    os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if not is_alive(pid):
            return True
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    while is_alive(pid):
        _reap(pid)
        time.sleep(0.05)
    return True


def wait_until(
    check: Callable[[], bool], timeout: float, what: str, log_file: Path | None = None
) -> None:
    """Poll `check()` until it is true; raise with the log's tail when `timeout` runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    tail = ""
    if log_file is not None and log_file.exists():
        tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-25:])
        tail = f"\nlast lines of {log_file}:\n{tail}"
    raise StackError(f"{what} did not come up within {timeout:.0f}s{tail}")


class StackError(RuntimeError):
    """A part of the local stack could not be set up or started; the message says why."""
