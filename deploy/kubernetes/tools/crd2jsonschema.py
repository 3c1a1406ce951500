"""Turn a CustomResourceDefinition's OpenAPI v3 schemas into JSON schemas for kubeconform.

The same transformation as kubeconform's `openapi2jsonschema.py`, strict: every object that
lists its properties and does not say `x-kubernetes-preserve-unknown-fields` refuses unknown
ones; `x-kubernetes-int-or-string` becomes "integer or string". One file per served version:
`<out>/<group>/<kind>_<version>.json` (lower case), the layout of kubeconform's
`{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json` schema location.

    python deploy/kubernetes/tools/crd2jsonschema.py OUT CRD.yaml...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml


def strict(node: Any) -> Any:
    """A copy of an OpenAPI v3 schema node in kubeconform's strict JSON-schema form."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {key: strict(value) for key, value in node.items()}
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["oneOf"] = [{"type": "string"}, {"type": "integer"}]
    preserve = out.get("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in out and not preserve and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if out.get("format") == "int-or-string":
        out.pop("format")
        out.pop("type", None)
        out["oneOf"] = [{"type": "string"}, {"type": "integer"}]
    return out


def schemas_of(crd: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`{<group>/<kind>_<version>.json: schema}` for every version the CRD serves."""
    spec = crd["spec"]
    group, kind = spec["group"], spec["names"]["kind"]
    found: dict[str, dict[str, Any]] = {}
    for version in spec["versions"]:
        if not version.get("served", True):
            continue
        schema = strict(version["schema"]["openAPIV3Schema"])
        properties = schema.setdefault("properties", {})
        # apiVersion and kind must be exactly this resource's.
        properties["apiVersion"] = {"type": "string", "enum": [f"{group}/{version['name']}"]}
        properties["kind"] = {"type": "string", "enum": [kind]}
        properties.setdefault("metadata", {"type": "object"})
        schema["additionalProperties"] = False
        schema["$schema"] = "http://json-schema.org/draft-07/schema#"
        found[f"{group}/{kind.lower()}_{version['name']}.json"] = schema
    return found


def convert_crd_file(path: Path, out: Path) -> list[Path]:
    written: list[Path] = []
    for document in yaml.safe_load_all(path.read_text()):
        if not isinstance(document, dict) or document.get("kind") != "CustomResourceDefinition":
            continue
        for name, schema in schemas_of(document).items():
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(schema, indent=1, sort_keys=True))
            written.append(target)
    if not written:
        raise SystemExit(f"{path}: no CustomResourceDefinition in it")
    return written


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        sys.stderr.write(__doc__ or "")
        return 2
    out = Path(argv[0])
    for crd in argv[1:]:
        for written in convert_crd_file(Path(crd), out):
            sys.stdout.write(f"{written}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
