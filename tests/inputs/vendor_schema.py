"""The vendors' published specifications (excerpts in tests/data/vendor, see its README) as checks
of a JSON value: every key named by the schema, every value of its type and format, every enum
value one of the listed ones. Each check returns the problems it found as `path: message` lines
(an empty list: the value conforms), so a test shows every drift at once.

- Google API discovery documents (Android Management API, Pub/Sub): JSON as Google's API
  serializes protocol buffers (int64 as decimal strings, times as RFC 3339, no nulls).
- Microsoft Graph CSDL (OData v4 metadata): entity and complex types with their base types,
  derived types named by `@odata.type`, enums, nullability, Edm primitive types.
- OpenAPI 3 (Jamf Pro): `$ref`, `allOf`, `oneOf` with a discriminator, `nullable`, `required`.

Strict where the vendors are loose on purpose: a key the schema does not name is a problem (a
stand-in that invents a field would hide a mapping that reads a field the real API never sends).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

VENDOR = Path(__file__).resolve().parents[1] / "data" / "vendor"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
# RFC 3339 as the vendors write it: Graph 7 fraction digits, Google 0 to 9, Jamf 3.
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
INT64 = re.compile(r"^-?\d+$")
INT32 = (-(2**31), 2**31 - 1)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _base64(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        try:
            base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            return False
    return True


# ------------------------------------------------------------------------- Google discovery


@cache
def discovery(api: str) -> dict[str, Any]:
    """`androidmanagement.v1` or `pubsub.v1`: {schema name: schema}."""
    data = json.loads((VENDOR / "google" / f"{api}.schemas.json").read_text(encoding="utf-8"))
    return data["schemas"]  # type: ignore[no-any-return]


def check_discovery(value: Any, schema: dict[str, Any] | str, api: str, path: str = "$") -> list[str]:
    schemas = discovery(api)
    if isinstance(schema, str):
        schema = {"$ref": schema}
    if "$ref" in schema:
        ref = schema["$ref"]
        if ref not in schemas:
            return [f"{path}: schema {ref} is not in the {api} excerpt"]
        schema = schemas[ref]
    if value is None:
        return [f"{path}: null (Google's JSON omits an unset field)"]
    kind = schema.get("type")
    problems: list[str] = []
    if kind == "object" or "properties" in schema:
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {type(value).__name__}"]
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                problems += check_discovery(item, properties[key], api, f"{path}.{key}")
            elif extra is not None:
                problems += check_discovery(item, extra, api, f"{path}.{key}")
            else:
                problems.append(f"{path}: key {key!r} is not in schema {schema.get('id', '(inline)')}")
        return problems
    if kind == "array":
        if not isinstance(value, list):
            return [f"{path}: expected an array, got {type(value).__name__}"]
        for index, item in enumerate(value):
            problems += check_discovery(item, schema.get("items", {}), api, f"{path}[{index}]")
        return problems
    if kind == "string":
        return _check_string(value, schema.get("format"), schema.get("enum"), path)
    if kind == "integer":
        if not _is_int(value):
            return [f"{path}: expected an integer, got {value!r}"]
        if schema.get("format") == "int32" and not INT32[0] <= value <= INT32[1]:
            return [f"{path}: {value} does not fit int32"]
        return []
    if kind == "number":
        return (
            []
            if isinstance(value, (int, float)) and not isinstance(value, bool)
            else [f"{path}: expected a number, got {value!r}"]
        )
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: expected a boolean, got {value!r}"]
    if kind == "any":
        return []
    return [f"{path}: the excerpt has no rule for schema type {kind!r}"]


def _check_string(value: Any, fmt: str | None, enum: list[str] | None, path: str) -> list[str]:
    if not isinstance(value, str):
        return [f"{path}: expected a string, got {value!r}"]
    if enum is not None and value not in enum:
        return [f"{path}: {value!r} is not one of {enum}"]
    if fmt in ("int64", "uint64") and not INT64.match(value):
        return [f"{path}: {value!r} is not a decimal {fmt} (Google writes 64-bit integers as strings)"]
    if fmt in ("google-datetime", "date-time") and not RFC3339.match(value):
        return [f"{path}: {value!r} is not an RFC 3339 time"]
    if fmt == "byte" and not _base64(value):
        return [f"{path}: {value!r} is not base64"]
    return []


# ------------------------------------------------------------------------------- Graph CSDL


@dataclass(frozen=True)
class Prop:
    type: str
    nullable: bool


@dataclass
class StructType:
    name: str
    base: str | None
    abstract: bool
    properties: dict[str, Prop] = field(default_factory=dict)
    navigation: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Csdl:
    structs: dict[str, StructType]
    enums: dict[str, tuple[frozenset[str], bool]]  # members, is flags

    def chain(self, name: str) -> list[StructType]:
        out = []
        current: str | None = name
        while current:
            struct = self.structs[current]
            out.append(struct)
            current = struct.base
        return out

    def derives(self, name: str, base: str) -> bool:
        return any(s.name == base for s in self.chain(name))


def _local(name: str) -> str:
    return name.rsplit(".", 1)[1] if name.startswith(("graph.", "microsoft.graph.")) else name


@cache
def graph_v1() -> Csdl:
    root = ET.parse(VENDOR / "microsoft" / "graph-v1.0-intune.csdl.xml").getroot()
    structs: dict[str, StructType] = {}
    enums: dict[str, tuple[frozenset[str], bool]] = {}
    for el in root:
        name = el.get("Name", "")
        if el.tag == f"{EDM}EnumType":
            members = frozenset(m.get("Name", "") for m in el.findall(f"{EDM}Member"))
            enums[name] = (members, el.get("IsFlags") == "true")
            continue
        base = el.get("BaseType")
        struct = StructType(name, _local(base) if base else None, el.get("Abstract") == "true")
        for prop in el.findall(f"{EDM}Property"):
            struct.properties[prop.get("Name", "")] = Prop(
                prop.get("Type", ""), prop.get("Nullable") != "false"
            )
        for nav in el.findall(f"{EDM}NavigationProperty"):
            struct.navigation[nav.get("Name", "")] = nav.get("Type", "")
        structs[name] = struct
    return Csdl(structs, enums)


@cache
def graph_beta() -> dict[str, Any]:
    return json.loads(  # type: ignore[no-any-return]
        (VENDOR / "microsoft" / "graph-beta-androidManagedStoreApp.json").read_text(encoding="utf-8")
    )


def check_graph(value: Any, type_name: str, path: str = "$", model: Csdl | None = None) -> list[str]:
    """VALUE as an instance of the v1.0 entity or complex type TYPE_NAME (or a type derived from
    it, named by `@odata.type`)."""
    model = model or graph_v1()
    if not isinstance(value, dict):
        return [f"{path}: expected an object of {type_name}, got {type(value).__name__}"]
    actual = type_name
    declared = value.get("@odata.type")
    if declared is not None:
        named = str(declared).lstrip("#")
        actual = _local(named)
        if actual not in model.structs:
            return [f"{path}: @odata.type {declared!r} is not a v1.0 type (beta only, or unknown)"]
        if not model.derives(actual, type_name):
            return [f"{path}: @odata.type {declared!r} is not {type_name} or derived from it"]
    if model.structs[actual].abstract:
        return [f"{path}: {actual} is abstract: the record must name its type in @odata.type"]
    properties: dict[str, Prop] = {}
    navigation: dict[str, str] = {}
    for struct in model.chain(actual):
        properties.update(struct.properties)
        navigation.update(struct.navigation)
    problems: list[str] = []
    for key, item in value.items():
        where = f"{path}.{key}"
        if key.startswith("@odata.") or "@odata." in key:
            continue  # control information (type, context, nextLink, count)
        if key in properties:
            problems += _check_edm(item, properties[key], where, model)
        elif key in navigation:
            problems += _check_edm(item, Prop(navigation[key], True), where, model)
        else:
            problems.append(f"{path}: key {key!r} is not a property of {actual} in Graph v1.0")
    return problems


def _check_edm(value: Any, prop: Prop, path: str, model: Csdl) -> list[str]:
    if value is None:
        return [] if prop.nullable else [f"{path}: null, but the property is Nullable=false"]
    kind = prop.type
    if kind.startswith("Collection("):
        if not isinstance(value, list):
            return [f"{path}: expected an array ({kind}), got {type(value).__name__}"]
        inner = Prop(kind[len("Collection(") : -1], False)
        out: list[str] = []
        for index, item in enumerate(value):
            out += _check_edm(item, inner, f"{path}[{index}]", model)
        return out
    if kind.startswith("Edm."):
        return _check_primitive(value, kind, path)
    name = _local(kind)
    if name in model.enums:
        members, flags = model.enums[name]
        parts = [p.strip() for p in str(value).split(",")] if flags else [value]
        bad = [p for p in parts if p not in members]
        return [f"{path}: {value!r} is not a member of enum {name} {sorted(members)}"] if bad else []
    if name in model.structs:
        return check_graph(value, name, path, model)
    return [f"{path}: type {kind} is not in the excerpt"]


def _check_primitive(value: Any, kind: str, path: str) -> list[str]:
    ok = True
    if kind in ("Edm.String", "Edm.Binary", "Edm.Date", "Edm.TimeOfDay", "Edm.Duration"):
        ok = isinstance(value, str) and (kind != "Edm.Binary" or _base64(value))
    elif kind == "Edm.Boolean":
        ok = isinstance(value, bool)
    elif kind in ("Edm.Int32", "Edm.Int16", "Edm.Byte"):
        ok = _is_int(value) and INT32[0] <= value <= INT32[1]
    elif kind == "Edm.Int64":
        ok = _is_int(value)
    elif kind in ("Edm.Double", "Edm.Single", "Edm.Decimal"):
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool)) or value in (
            "NaN",
            "INF",
            "-INF",
        )
    elif kind == "Edm.DateTimeOffset":
        ok = isinstance(value, str) and bool(RFC3339.match(value))
    elif kind == "Edm.Guid":
        ok = isinstance(value, str) and bool(GUID.match(value))
    else:
        return [f"{path}: primitive type {kind} has no rule here"]
    return [] if ok else [f"{path}: {value!r} is not an {kind}"]


def check_graph_collection(body: Any, type_name: str) -> list[str]:
    """A Graph list page: {@odata.context, value: [TYPE_NAME ...], @odata.nextLink?}."""
    if not isinstance(body, dict):
        return [f"$: expected an object, got {type(body).__name__}"]
    problems = [
        f"$: key {k!r} is not part of an OData collection page"
        for k in body
        if k != "value" and not k.startswith("@odata.")
    ]
    if not isinstance(body.get("value"), list):
        return [*problems, "$: `value` is missing or not an array"]
    for index, item in enumerate(body["value"]):
        problems += check_graph(item, type_name, f"$.value[{index}]")
    return problems


def check_graph_beta_store_app(value: Any, path: str = "$") -> list[str]:
    """An androidManagedStoreApp from Graph beta: property names from the beta type mappings,
    types where the beta reference gives them; assignments and categories as in v1.0."""
    beta = graph_beta()
    names = set()
    for type_info in beta["types"].values():
        names.update(type_info["properties"])
    types: dict[str, str] = beta["property_types"]
    if not isinstance(value, dict):
        return [f"{path}: expected an object, got {type(value).__name__}"]
    if value.get("@odata.type") != "#microsoft.graph.androidManagedStoreApp":
        return [
            f"{path}: @odata.type {value.get('@odata.type')!r} is not #microsoft.graph.androidManagedStoreApp"
        ]
    problems: list[str] = []
    for key, item in value.items():
        where = f"{path}.{key}"
        if key.startswith("@odata."):
            continue
        if key in ("assignments", "categories"):
            element = "mobileAppAssignment" if key == "assignments" else "mobileAppCategory"
            problems += _check_edm(item, Prop(f"Collection(graph.{element})", True), where, graph_v1())
        elif key not in names:
            problems.append(f"{path}: key {key!r} is not a property of androidManagedStoreApp in Graph beta")
        elif key in types:
            problems += _check_edm(item, Prop(types[key], True), where, graph_v1())
    return problems


# ---------------------------------------------------------------------------- OpenAPI (Jamf)


@cache
def jamf_openapi() -> dict[str, Any]:
    return json.loads(  # type: ignore[no-any-return]
        (VENDOR / "jamf" / "mobile-devices-detail.openapi.json").read_text(encoding="utf-8")
    )


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = jamf_openapi()["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _object_parts(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The object schemas an allOf combines (recursively), each with its own properties."""
    schema = _resolve(schema)
    if "allOf" in schema:
        return [part for sub in schema["allOf"] for part in _object_parts(sub)]
    return [schema]


def check_openapi(value: Any, schema: dict[str, Any] | str, path: str = "$") -> list[str]:
    if isinstance(schema, str):
        schema = {"$ref": f"#/components/schemas/{schema}"}
    schema = _resolve(schema)
    if value is None:
        return [] if schema.get("nullable") else [f"{path}: null, but the schema is not nullable"]
    if "oneOf" in schema:
        discriminator = schema.get("discriminator", {})
        tag = value.get(discriminator.get("propertyName", "")) if isinstance(value, dict) else None
        mapping = discriminator.get("mapping", {})
        if tag not in mapping:
            return [f"{path}: {discriminator.get('propertyName')} {tag!r} is not one of {sorted(mapping)}"]
        return check_openapi(value, {"$ref": mapping[tag]}, path)
    if "allOf" in schema or schema.get("type") == "object" or "properties" in schema:
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {type(value).__name__}"]
        properties: dict[str, Any] = {}
        required: list[str] = []
        for part in _object_parts(schema):
            properties.update(part.get("properties", {}))
            required += part.get("required", [])
        problems = [f"{path}: required key {k!r} is missing" for k in required if k not in value]
        for key, item in value.items():
            if key in properties:
                problems += check_openapi(item, properties[key], f"{path}.{key}")
            else:
                problems.append(f"{path}: key {key!r} is not in the schema")
        return problems
    kind = schema.get("type")
    if kind == "array":
        if not isinstance(value, list):
            return [f"{path}: expected an array, got {type(value).__name__}"]
        out: list[str] = []
        for index, item in enumerate(value):
            out += check_openapi(item, schema.get("items", {}), f"{path}[{index}]")
        return out
    if kind == "string":
        return _check_string(value, schema.get("format"), schema.get("enum"), path)
    if kind == "integer":
        return [] if _is_int(value) else [f"{path}: expected an integer, got {value!r}"]
    if kind == "number":
        return (
            []
            if isinstance(value, (int, float)) and not isinstance(value, bool)
            else [f"{path}: expected a number, got {value!r}"]
        )
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: expected a boolean, got {value!r}"]
    return [f"{path}: the excerpt has no rule for schema {schema}"]


def jamf_sections() -> list[str]:
    return list(jamf_openapi()["schemas"]["MobileDeviceSection"]["enum"])
