"""schemathesis with every check against the running service (a process on the real broker): the
OpenAPI document says exactly what the service answers, and no input gets a 5xx."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from iprwatch.stack.stack import Endpoints
from services.ingest.adapters.tokens import TokenStore
from shared.settings import KafkaSettings
from tests.integration.ingest.conftest import ingest_process

pytestmark = pytest.mark.integration
EXAMPLES_PER_OPERATION = 100

# Every check is on, with two deliberate exceptions:
# - positive_data_acceptance (excluded on the command line): the contract has rules JSON Schema
#   cannot state, so a schema-valid event may rightly be refused with 422: `time` not in the
#   future (the bound moves with the clock), and a transfer's `from_district` differing from its
#   `district`.
# - negative_data_rejection also expects 413: more events than `maxItems` (10,000) is "content
#   too large", the status the document gives for it, not 422.
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
"""


@pytest.mark.parametrize(
    "phases",
    [
        "examples,fuzzing",  # some 130 cases, in `make test`
        # the coverage phase adds some 7,700 boundary cases (5 minutes on a busy machine)
        pytest.param("examples,coverage,fuzzing", marks=pytest.mark.slow),
    ],
)
def test_schemathesis_finds_no_server_error_and_no_departure_from_the_document(
    infra: Endpoints, kafka_settings: KafkaSettings, tmp_path: Path, phases: str
) -> None:
    token = TokenStore(tmp_path / "tokens.json").add("schemathesis", ["*"], ["*"])
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    with ingest_process(infra, kafka_settings, tmp_path) as ingest:
        result = subprocess.run(  # noqa: S603
            [
                sys.executable, "-m", "schemathesis.cli", "--config-file", str(config),
                "run", f"{ingest.url}/openapi.json",
                "--checks", "all", "--exclude-checks", "positive_data_acceptance",
                "--phases", phases,
                "--max-examples", str(EXAMPLES_PER_OPERATION), "--seed", "20261125",
                "--header", f"Authorization: Bearer {token}",
                "--no-color",
            ],
            capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path,
        )  # fmt: skip
        server_errors = ingest.log.read_text().count('"status": 5')
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "No issues found" in output, output[-6000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    assert counts is not None, output[-3000:]
    generated, passed = map(int, counts.groups())
    assert generated == passed
    assert generated >= EXAMPLES_PER_OPERATION, output[-3000:]
    assert server_errors == 0
    print(output[output.rfind("SUMMARY") :])  # noqa: T201 - the counts, for the record
