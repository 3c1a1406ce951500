"""Fixtures of the observability tests: Prometheus' binaries, installed when missing."""

from __future__ import annotations

import shutil

import pytest

from iprwatch.stack import system


@pytest.fixture(scope="session")
def promtool() -> str:
    """The path of promtool (Debian's `prometheus` package), installed with apt if missing."""
    system.ensure([system.PROMETHEUS], say=print)
    found = shutil.which("promtool")
    assert found is not None, "the prometheus package is installed but promtool is missing"
    return found
