"""`iprwatch import --mapping`: each shipped mapping imports its example file (Excel, GB18030 CSV,
UTF-8 CSV) through the ingest service running as a process on the real broker, and the events
on the topic are exactly the rows' acts; a re-import is all duplicates; a dry run sends nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from iprwatch.stack.processes import LOOPBACK, free_port, stop
from iprwatch.stack.stack import Endpoints, launch_service, service_marker, wait_ready
from services.ingest.adapters.mapping_files import IMPORTS_DIR
from services.ingest.adapters.tokens import TokenStore
from services.ingest.bootstrap import import_file
from services.ingest.service.importing import ImportOptions
from services.ingest.service.sending import Summary
from shared.events import CloudEvent
from shared.settings import KafkaSettings
from tests.integration.ingest.conftest import read_topic

pytestmark = pytest.mark.integration
EXAMPLES = IMPORTS_DIR / "examples"
P = "cn.ipr."

Act = tuple[str, str | None, str, str, tuple[tuple[str, Any], ...]]


def act(event_type: str, subject: str | None, district: str, day: str, **data: Any) -> Act:
    return (P + event_type, subject, district, day, tuple(sorted(data.items())))


def act_of(event: CloudEvent) -> Act:
    data = event.data.model_dump(exclude_none=True)
    district = data.pop("district")
    return (event.type, event.subject, district, event.time.date().isoformat(),
            tuple(sorted(data.items())))  # fmt: skip


EXPECTED: dict[str, tuple[str, list[Act], dict[str, Any]]] = {
    "cnipa-patent-grants": ("cnipa-patent-grants.xlsx", [
        act("patent.invention.granted", "ZL202310123456.7", "500112", "2023-05-12",
            high_value=True),
        act("patent.invention.granted", "ZL202210987654.3", "500106", "2023-06-01",
            high_value=False),
        act("patent.invention.granted", "ZL202110555555.5", "500156", "2021-12-03",
            high_value=False),
        act("patent.invention.granted", "ZL202210666666.6", "500103", "2023-08-18",
            high_value=False),
        act("patent.invention.granted", "ZL202380012345.6", "500108", "2024-01-15",
            high_value=False),
    ], {"rows": 11, "rejected": 5, "skipped": 1, "reasons": {
        "address_ambiguous": 2, "address_outside_plan": 1, "address_not_found": 1,
        "no_date": 1}}),
    "cnipa-patent-legal-status": ("cnipa-patent-legal-status.csv", [
        act("patent.invention.lapsed", "ZL202210987654.3", "500106", "2024-03-15",
            reason="fees"),
        act("patent.invention.lapsed", "ZL202110555555.5", "500156", "2023-07-01",
            reason="fees"),
        act("patent.invention.restored", "ZL202110555555.5", "500156", "2023-09-01"),
        act("patent.invention.lapsed", "ZL201510111111.1", "500101", "2024-06-01",
            reason="expired"),
        act("patent.invention.lapsed", "ZL201810222222.2", "500103", "2023-11-20",
            reason="invalidated"),
    ], {"rows": 7, "rejected": 0, "skipped": 2, "reasons": {}}),
    "trademark-registrations": ("trademark-registrations.csv", [
        act("trademark.registered", "68123456", "500102", "2023-05-12", agricultural=True,
            geographical_indication=False),
        act("trademark.registered", "60111111", "500112", "2022-11-07", agricultural=False,
            geographical_indication=False),
        act("trademark.registered", "50222222", "500236", "2021-08-21", agricultural=True,
            geographical_indication=True),
        act("trademark.registered", "40333333", "500107", "2019-04-14", agricultural=False,
            geographical_indication=False),
        act("trademark.lapsed", "40333333", "500107", "2024-02-02"),
    ], {"rows": 6, "rejected": 2, "skipped": 0, "reasons": {
        "address_ambiguous": 1, "address_outside_plan": 1}}),
    "yearly-statistics": ("yearly-statistics.csv", [
        act("statistic.reported", None, "500103", "2023-04-26",
            indicator="patent_intensive_industries_gdp_share", period="2022", value=12.5,
            document="重庆市知识产权局 2022 年统计公报"),
        act("statistic.reported", None, "500103", "2023-04-26",
            indicator="ip_protection_satisfaction_score", period="2022", value=82.3,
            document="重庆市知识产权局 2022 年统计公报"),
        act("statistic.reported", None, "500112", "2022-12-31",
            indicator="patent_intensive_industries_gdp_share", period="2022", value=15.1),
        act("statistic.reported", None, "500105", "2024-04-25",
            indicator="ip_protection_satisfaction_score", period="2023", value=80.5,
            document="重庆市知识产权局 2023 年统计公报"),
    ], {"rows": 6, "rejected": 2, "skipped": 1, "reasons": {
        "unknown_district_name": 1, "bad_value": 1}}),
}  # fmt: skip


@pytest.fixture
def ingest_process(
    infra: Endpoints, kafka_settings: KafkaSettings, tmp_path: Path
) -> Iterator[tuple[str, str]]:
    """The ingest service as a process on this test's topic, and a token for every source."""
    port = free_port()
    tokens = tmp_path / "tokens.json"
    env = {
        **os.environ,
        **infra.service_env(),
        "IPRWATCH_KAFKA_EVENTS_TOPIC": kafka_settings.events_topic,
        "IPRWATCH_KAFKA_PARTITIONS": str(kafka_settings.partitions),
        "IPRWATCH_INGEST_PORT": str(port),
        "IPRWATCH_INGEST_TOKENS_FILE": str(tokens),
    }
    token = TokenStore(tokens).add("office-backfill", ["*"], ["*"])
    log = tmp_path / "ingest.log"
    pid = launch_service("ingest", env, log)
    url = f"http://{LOOPBACK}:{port}"
    try:
        wait_ready(url, pid, "ingest", log)
        yield url, token
    finally:
        stop(pid, service_marker("ingest"), timeout=20)


async def run(
    mapping: str, file: Path, url: str, token: str | None, tmp_path: Path, dry_run: bool = False
) -> Summary:
    options = ImportOptions(path=file, url=url, token=token, mapping=mapping, dry_run=dry_run,
                            rejected_path=tmp_path / f"{mapping}.rejected.ndjson",
                            progress=False, batch=3)  # fmt: skip
    return await import_file(options)


async def test_each_shipped_mapping_imports_its_example_exactly_and_a_reimport_is_all_duplicates(
    ingest_process: tuple[str, str], kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    url, token = ingest_process
    topic = kafka_settings.events_topic
    seen: list[tuple[str, str]] = []  # (source, id) of every record on the topic so far
    for mapping, (file, acts, counts) in EXPECTED.items():
        dry = await run(mapping, EXAMPLES / file, url, None, tmp_path, dry_run=True)
        assert dry.to_json() == {"valid": len(acts), **counts}, mapping
        assert len(await read_topic(kafka_settings, topic)) == len(seen)  # sent nothing

        first = await run(mapping, EXAMPLES / file, url, token, tmp_path)
        assert first.to_json() == {"accepted": len(acts), **counts}, mapping
        records = await read_topic(kafka_settings, topic)
        new = [r for r in records if (r.event.source, r.event.id) not in set(seen)]
        assert sorted(act_of(r.event) for r in new) == sorted(acts), mapping
        assert all(r.key == r.event.district.encode() for r in new)
        ids = sorted((r.event.source, r.event.id) for r in new)
        assert len(set(ids)) == len(acts) == len(records) - len(seen)

        again = await run(mapping, EXAMPLES / file, url, token, tmp_path)
        assert again.to_json() == first.to_json()
        records = await read_topic(kafka_settings, topic)
        assert len(records) == len(seen) + 2 * len(acts)
        every_id = {(r.event.source, r.event.id) for r in records}
        assert sorted(every_id - set(seen)) == ids  # no new id: the same acts again
        seen = [(r.event.source, r.event.id) for r in records]
