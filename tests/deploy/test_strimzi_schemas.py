"""The hand-written Strimzi schemas name exactly the properties of Strimzi's own model classes.

No registry serves Strimzi's CRDs (deploy/kubernetes/tools/strimzi-schemas/README.md), but
Maven Central serves its API model, `io.strimzi:api`: each spec class lists its JSON properties
in a `@JsonPropertyOrder` annotation, which is what the CRD generator turns into the CRD's
properties. This test reads those annotations from the class files (no JVM needed) and compares
them with the schemas kubeconform uses, so a field the schema lacks, or one Strimzi does not
have, fails here.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from iprwatch.stack import system
from iprwatch.stack.home import REPO_ROOT

TOOLS = REPO_ROOT / "deploy" / "kubernetes" / "tools"
SCHEMAS = TOOLS / "strimzi-schemas" / "kafka.strimzi.io"
MODEL = "io/strimzi/api/kafka/model/"
PROPERTY_ORDER = "Lcom/fasterxml/jackson/annotation/JsonPropertyOrder;"


def _element_value(data: bytes, at: int, pool: dict[int, Any]) -> tuple[Any, int]:
    tag = chr(data[at])
    at += 1
    if tag in "BCDFIJSZsc":
        return pool.get(struct.unpack_from(">H", data, at)[0]), at + 2
    if tag == "e":
        return None, at + 4
    if tag == "@":
        _, at = _annotation(data, at, pool)
        return None, at
    if tag == "[":
        (count,) = struct.unpack_from(">H", data, at)
        at += 2
        items = []
        for _ in range(count):
            item, at = _element_value(data, at, pool)
            items.append(item)
        return items, at
    raise ValueError(f"unknown element_value tag {tag!r}")


def _annotation(data: bytes, at: int, pool: dict[int, Any]) -> tuple[dict[str, Any], int]:
    type_index, pairs = struct.unpack_from(">HH", data, at)
    at += 4
    values: dict[str, Any] = {"@type": pool[type_index]}
    for _ in range(pairs):
        (name_index,) = struct.unpack_from(">H", data, at)
        value, at = _element_value(data, at + 2, pool)
        values[pool[name_index]] = value
    return values, at


def class_annotations(data: bytes) -> list[dict[str, Any]]:
    """The runtime-visible annotations of a class file (JVM spec, chapter 4)."""
    (count,) = struct.unpack_from(">H", data, 8)
    pool: dict[int, Any] = {}
    at, index = 10, 1
    sizes = {3: 4, 4: 4, 5: 8, 6: 8, 7: 2, 8: 2, 9: 4, 10: 4, 11: 4, 12: 4, 15: 3, 16: 2,
             17: 4, 18: 4, 19: 2, 20: 2}  # fmt: skip
    while index < count:
        tag = data[at]
        if tag == 1:
            (length,) = struct.unpack_from(">H", data, at + 1)
            pool[index] = data[at + 3 : at + 3 + length].decode("utf-8", "replace")
            at += 3 + length
        else:
            at += 1 + sizes[tag]
        index += 2 if tag in (5, 6) else 1
    at += 6
    (interfaces,) = struct.unpack_from(">H", data, at)
    at += 2 + 2 * interfaces
    for _ in range(2):  # fields, then methods: skip them with their attributes
        (members,) = struct.unpack_from(">H", data, at)
        at += 2
        for _ in range(members):
            (attributes,) = struct.unpack_from(">H", data, at + 6)
            at += 8
            for _ in range(attributes):
                (length,) = struct.unpack_from(">I", data, at + 2)
                at += 6 + length
    (attributes,) = struct.unpack_from(">H", data, at)
    at += 2
    found: list[dict[str, Any]] = []
    for _ in range(attributes):
        name_index, length = struct.unpack_from(">HI", data, at)
        body = at + 6
        if pool.get(name_index) == "RuntimeVisibleAnnotations":
            (number,) = struct.unpack_from(">H", data, body)
            cursor = body + 2
            for _ in range(number):
                annotation, cursor = _annotation(data, cursor, pool)
                found.append(annotation)
        at = body + length
    return found


@cache
def strimzi_jar() -> Path:
    system.ensure([system.JAVA, system.MAVEN], say=print)
    done = subprocess.run(  # noqa: S603
        [sys.executable, str(TOOLS / "install.py"), "strimzi-api-jar"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip())


def properties_of(model_class: str) -> set[str]:
    with zipfile.ZipFile(strimzi_jar()) as jar:
        data = jar.read(f"{MODEL}{model_class}.class")
    [order] = [a for a in class_annotations(data) if a["@type"] == PROPERTY_ORDER]
    return set(order["value"])


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{name}_v1beta2.json").read_text())
    return loaded


def at(node: dict[str, Any], *path: str) -> set[str]:
    for step in path:
        node = node["items"] if step == "[]" else node["properties"][step]
    return set(node["properties"])


@pytest.mark.parametrize(
    ("model_class", "schema_name", "path"),
    [
        ("topic/KafkaTopicSpec", "kafkatopic", ("spec",)),
        ("nodepool/KafkaNodePoolSpec", "kafkanodepool", ("spec",)),
        ("common/JvmOptions", "kafkanodepool", ("spec", "jvmOptions")),
        ("kafka/KafkaSpec", "kafka", ("spec",)),
        ("kafka/KafkaClusterSpec", "kafka", ("spec", "kafka")),
        ("kafka/listener/GenericKafkaListener", "kafka", ("spec", "kafka", "listeners", "[]")),
        ("kafka/entityoperator/EntityOperatorSpec", "kafka", ("spec", "entityOperator")),
    ],
)
def test_schema_properties_are_the_model_class_properties(
    model_class: str, schema_name: str, path: tuple[str, ...]
) -> None:
    assert at(schema(schema_name), *path) == properties_of(model_class)


def test_storage_volumes_take_the_fields_of_strimzi_storage_classes() -> None:
    volume = at(schema("kafkanodepool"), "spec", "storage", "volumes", "[]")
    persistent = properties_of("kafka/PersistentClaimStorage")
    ephemeral = properties_of("kafka/EphemeralStorage")
    assert volume == persistent | ephemeral
    storage = at(schema("kafkanodepool"), "spec", "storage")
    assert storage == persistent | ephemeral | properties_of("kafka/JbodStorage")
