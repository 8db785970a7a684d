"""Rebuild the vendor specification excerpts in this folder from the vendors' published files.

    python tests/data/vendor/extract.py --google DIR --graph-v1 FILE --graph-beta-types FILE --jamf FILE

- `--google DIR`: google-api-python-client's `googleapiclient/discovery_cache/documents` (the wheel
  on PyPI holds it): `androidmanagement.v1.json` and `pubsub.v1.json`;
- `--graph-v1 FILE`: microsoftgraph/msgraph-metadata `clean_v10_metadata/cleanMetadata.xml`;
- `--graph-beta-types FILE`: the same repository's `schemas/type-mappings/beta-entity-types.json`;
- `--jamf FILE`: a Jamf Pro OpenAPI document (`/api/schema` of an instance), YAML or JSON.

Each excerpt keeps only what the add-on's inputs read and the stand-ins serve (the schemas reachable
from the responses, descriptions dropped), so the files stay small; README.md gives the sources,
versions and licences. Run it only to refresh the excerpts: the tests read the excerpts."""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
EDM = "http://docs.oasis-open.org/odata/ns/edm"

# The responses the inputs read, as the root schemas of each excerpt.
GOOGLE_ROOTS = {
    "androidmanagement.v1": ("ListDevicesResponse", "ListPoliciesResponse", "Device", "BatchUsageLogEvents"),
    "pubsub.v1": ("PullResponse", "AcknowledgeRequest", "PullRequest"),
}
# Graph v1.0 entity types the Intune input lists, and every type derived from them (a list may
# return any derived type, named by its @odata.type).
GRAPH_ROOTS = (
    "managedDevice",
    "detectedApp",
    "mobileApp",
    "mobileAppAssignment",
    "mobileAppCategory",
    "auditEvent",
)
GRAPH_BETA_TYPES = ("entity", "mobileApp", "androidManagedStoreApp")
# The type-mappings file names properties without their types: these come from the beta reference
# pages (learn.microsoft.com/graph/api/resources/intune-apps-androidmanagedstoreapp?view=graph-rest-beta
# and intune-apps-mobileapp?view=graph-rest-beta), for the properties a record may carry.
GRAPH_BETA_PROPERTY_TYPES = {
    "id": "Edm.String",
    "displayName": "Edm.String",
    "description": "Edm.String",
    "publisher": "Edm.String",
    "createdDateTime": "Edm.DateTimeOffset",
    "lastModifiedDateTime": "Edm.DateTimeOffset",
    "isFeatured": "Edm.Boolean",
    "privacyInformationUrl": "Edm.String",
    "informationUrl": "Edm.String",
    "owner": "Edm.String",
    "developer": "Edm.String",
    "notes": "Edm.String",
    "uploadState": "Edm.Int32",
    "publishingState": "Edm.String",
    "isAssigned": "Edm.Boolean",
    "roleScopeTagIds": "Collection(Edm.String)",
    "dependentAppCount": "Edm.Int32",
    "supersedingAppCount": "Edm.Int32",
    "supersededAppCount": "Edm.Int32",
    "packageId": "Edm.String",
    "appIdentifier": "Edm.String",
    "usedLicenseCount": "Edm.Int32",
    "totalLicenseCount": "Edm.Int32",
    "appStoreUrl": "Edm.String",
    "isPrivate": "Edm.Boolean",
    "isSystemApp": "Edm.Boolean",
    "supportsOemConfig": "Edm.Boolean",
}
JAMF_ROOTS = ("MobileDeviceInventorySearchResults", "MobileDeviceSection")
# Keys of a discovery or OpenAPI schema that carry no structure.
_PROSE = {"description", "enumDescriptions", "example", "examples", "title"}


def strip(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k not in _PROSE}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def refs(node: Any, prefix: str = "") -> Iterable[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref[len(prefix) :] if prefix and ref.startswith(prefix) else ref
        for value in node.values():
            yield from refs(value, prefix)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value, prefix)


def closure(schemas: dict[str, Any], roots: Iterable[str], prefix: str = "") -> dict[str, Any]:
    seen: dict[str, Any] = {}
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen[name] = schemas[name]
        stack.extend(refs(schemas[name], prefix))
    return {name: strip(seen[name]) for name in sorted(seen)}


def google(folder: Path) -> None:
    for api, roots in GOOGLE_ROOTS.items():
        document = json.loads((folder / f"{api}.json").read_text(encoding="utf-8"))
        excerpt = {
            "source": f"googleapiclient/discovery_cache/documents/{api}.json",
            "id": document["id"],
            "revision": document["revision"],
            "schemas": closure(document["schemas"], roots),
        }
        write(HERE / "google" / f"{api}.schemas.json", excerpt)


def _local(name: str) -> str:
    """`graph.managedDevice` or `Collection(graph.x)` -> `managedDevice` (Edm types: None)."""
    inner = name[len("Collection(") : -1] if name.startswith("Collection(") else name
    return inner.rsplit(".", 1)[1] if inner.startswith(("graph.", "microsoft.graph.")) else ""


def graph_v1(path: Path) -> None:
    schema = ET.parse(path).getroot().find(f".//{{{EDM}}}Schema")
    assert schema is not None
    types = {
        el.get("Name", ""): el
        for el in schema
        if el.tag in (f"{{{EDM}}}EntityType", f"{{{EDM}}}ComplexType", f"{{{EDM}}}EnumType")
    }
    derived: dict[str, list[str]] = {}
    for name, el in types.items():
        base = el.get("BaseType")
        if base:
            derived.setdefault(_local(base), []).append(name)
    keep: set[str] = set()
    # (type, whether its derived types come too): a value typed X may be any type derived from X,
    # but a base type reached through BaseType does not bring its other derived types (`entity`).
    stack = [(name, True) for name in GRAPH_ROOTS]
    while stack:
        name, with_derived = stack.pop()
        if not name or (name in keep and not with_derived):
            continue
        first = name not in keep
        keep.add(name)
        el = types[name]
        if with_derived:
            stack.extend((d, True) for d in derived.get(name, []) if d not in keep)
        if not first:
            continue
        if el.get("BaseType"):
            stack.append((_local(el.get("BaseType", "")), False))
        for prop in el.findall(f"{{{EDM}}}Property"):
            stack.append((_local(prop.get("Type", "")), True))
    out = ET.Element(f"{{{EDM}}}Schema", {"Namespace": "microsoft.graph", "Alias": "graph"})
    for name in sorted(keep):
        el = types[name]
        # Navigation properties other than the ones the input expands are not served.
        for nav in list(el.findall(f"{{{EDM}}}NavigationProperty")):
            if nav.get("Name") not in ("assignments", "categories", "managedDevices"):
                el.remove(nav)
        out.append(el)
    ET.register_namespace("", EDM)
    ET.indent(out)
    target = HERE / "microsoft" / "graph-v1.0-intune.csdl.xml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(ET.tostring(out, encoding="utf-8", xml_declaration=True) + b"\n")


def graph_beta(path: Path) -> None:
    entities = json.loads(path.read_text(encoding="utf-8"))["microsoft.graph"]
    excerpt = {
        "source": "microsoftgraph/msgraph-metadata schemas/type-mappings/beta-entity-types.json",
        "types": {name: entities[name] for name in GRAPH_BETA_TYPES},
        "property_types": GRAPH_BETA_PROPERTY_TYPES,
    }
    write(HERE / "microsoft" / "graph-beta-androidManagedStoreApp.json", excerpt)


def jamf(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml"):
        import yaml

        document = yaml.safe_load(text)
    else:
        document = json.loads(text)
    detail = document["paths"]["/v2/mobile-devices/detail"]["get"]
    excerpt = {
        "source": "Jamf Pro OpenAPI document, /api/schema",
        "path": "/v2/mobile-devices/detail",
        "parameters": strip(detail["parameters"]),
        "schemas": closure(document["components"]["schemas"], JAMF_ROOTS, "#/components/schemas/"),
    }
    write(HERE / "jamf" / "mobile-devices-detail.openapi.json", excerpt)


def write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True, default=str) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--google", type=Path)
    parser.add_argument("--graph-v1", type=Path)
    parser.add_argument("--graph-beta-types", type=Path)
    parser.add_argument("--jamf", type=Path)
    args = parser.parse_args()
    if args.google:
        google(args.google)
    if args.graph_v1:
        graph_v1(args.graph_v1)
    if args.graph_beta_types:
        graph_beta(args.graph_beta_types)
    if args.jamf:
        jamf(args.jamf)


if __name__ == "__main__":
    main()
