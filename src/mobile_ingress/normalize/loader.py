"""Load and validate the mapping YAML files: every error names the file and the key."""

from __future__ import annotations

import re
from collections.abc import Mapping as MappingABC
from pathlib import Path
from typing import Any

import yaml

from .expr import (
    FIELD_NAME,
    MULTIVALUE,
    RAW_NAME,
    SPLUNK_FIELDS,
    UNARY,
    Call,
    Const,
    Expr,
    Field,
    Func,
    IfContains,
    IfPresent,
    Map,
    Raw,
    SplunkField,
    Switch,
    fields_read,
    is_multivalue,
)
from .model import (
    AlternativeTime,
    AsofJoin,
    CimEventtype,
    FieldClass,
    Join,
    JoinSource,
    MappingError,
    Output,
    SourcetypeMapping,
    TimeFormat,
    Timestamp,
)

MAPPINGS = Path(__file__).resolve().parent / "mappings"
OUTPUT_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
EVENTTYPE_NAME = re.compile(r"^mobile_ingress_[a-z0-9_]+$")
NAMESPACE = re.compile(r"^[a-z0-9]+$")
TAG = re.compile(r"^[a-z_]+$")
DEFAULT_MAX_EVENT_BYTES = 100_000

_TOP_KEYS = {
    "sourcetype",
    "title",
    "origin",
    "onboarding",
    "timestamp",
    "max_event_bytes",
    "fields",
    "join",
    "cim",
    "cim_owner",
    "asof_join",
}
_REQUIRED_TOP = ("sourcetype", "title", "origin", "onboarding", "timestamp", "fields")


class _Where:
    """The file and key path an error refers to."""

    def __init__(self, path: str, key: str = "") -> None:
        self.path = path
        self.key = key

    def __truediv__(self, part: object) -> _Where:
        sep = "" if not self.key or isinstance(part, int) else "."
        piece = f"[{part}]" if isinstance(part, int) else str(part)
        return _Where(self.path, f"{self.key}{sep}{piece}")

    def error(self, message: str) -> MappingError:
        return MappingError(f"{self.path}: {self.key or '(top)'}: {message}")


def _dict(value: object, where: _Where, allowed: set[str], required: tuple[str, ...] = ()) -> dict[str, Any]:
    if not isinstance(value, MappingABC):
        raise where.error(f"expected a mapping, got {type(value).__name__}")
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise where.error(f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")
    for key in required:
        if key not in value:
            raise where.error(f"missing key {key!r}")
    return dict(value)


def _str(value: object, where: _Where) -> str:
    if not isinstance(value, str) or not value.strip():
        raise where.error(f"expected a non-empty string, got {value!r}")
    if "\n" in value.strip() and where.key not in ("origin", "onboarding"):
        raise where.error("a line break is not allowed here")
    return value


def _field_name(value: object, where: _Where) -> str:
    name = _str(value, where)
    if not FIELD_NAME.match(name):
        raise where.error(f"{name!r} is not a Splunk JSON field name (letters, digits, _ . - @ and {{}})")
    return name


def _where_terms(value: object, where: _Where) -> tuple[tuple[str, str], ...]:
    terms = _dict(value, where, set(value) if isinstance(value, MappingABC) else set())
    out = []
    for key, term in terms.items():
        name = _field_name(key, where / str(key))
        if isinstance(term, bool) or not isinstance(term, (str, int)):
            raise (where / str(key)).error("expected a string or an integer value")
        out.append((name, str(term)))
    return tuple(out)


# ------------------------------------------------------------------------------- expressions


def parse_expr(value: object, where: _Where) -> Expr:
    """A plain string is a field; a one-key mapping is a construct (see docs/data.md)."""
    if isinstance(value, str):
        return Field(_field_name(value, where))
    if not isinstance(value, MappingABC) or len(value) != 1:
        raise where.error(
            f"expected a field name or a one-key construct ({', '.join(_CONSTRUCTS)}), got {value!r}"
        )
    ((op, arg),) = value.items()
    if op not in _CONSTRUCTS:
        raise where.error(f"unknown construct {op!r} (allowed: {', '.join(_CONSTRUCTS)})")
    inner = where / str(op)
    if op == "const":
        if isinstance(arg, bool) or not isinstance(arg, (str, int, float)):
            raise inner.error(f"a constant is a string or a number, got {arg!r}")
        if isinstance(arg, str) and (not arg or "\n" in arg):
            raise inner.error("a constant string is non-empty and on one line")
        return Const(arg)
    if op == "raw":
        if not isinstance(arg, str) or not RAW_NAME.match(arg):
            raise inner.error(f"{arg!r}: raw reads one top-level JSON key (or its array, `name{{}}`)")
        return Raw(arg)
    if op == "splunk":
        if arg not in SPLUNK_FIELDS:
            raise inner.error(f"{arg!r} is not one of {', '.join(sorted(SPLUNK_FIELDS))}")
        return SplunkField(str(arg))
    if op == "if_present":
        spec = _dict(arg, inner, {"field", "then", "else"}, ("field", "then"))
        otherwise = parse_expr(spec["else"], inner / "else") if "else" in spec else None
        return IfPresent(
            _field_name(spec["field"], inner / "field"), parse_expr(spec["then"], inner / "then"), otherwise
        )
    if op == "if_contains":
        spec = _dict(arg, inner, {"field", "value", "then", "else"}, ("field", "value", "then"))
        value = spec["value"]
        if not isinstance(value, str) or not CONTAINED_VALUE.match(value):
            raise (inner / "value").error(f"{value!r}: expected a word (letters, digits, _ and -)")
        otherwise = parse_expr(spec["else"], inner / "else") if "else" in spec else None
        then = parse_expr(spec["then"], inner / "then")
        return IfContains(_field_name(spec["field"], inner / "field"), value, then, otherwise)
    if op == "map":
        spec = _dict(arg, inner, {"of", "values", "default"}, ("of", "values"))
        values = _dict(
            spec["values"],
            inner / "values",
            set(spec["values"]) if isinstance(spec["values"], MappingABC) else set(),
        )
        if not values:
            raise (inner / "values").error("a value map needs at least one value")
        pairs = tuple(
            (_key_text(k, inner / "values"), _str(v, inner / "values" / str(k))) for k, v in values.items()
        )
        default = _str(spec["default"], inner / "default") if "default" in spec else None
        return Map(parse_expr(spec["of"], inner / "of"), pairs, default)
    if op == "switch":
        spec = _dict(arg, inner, {"of", "cases", "default"}, ("of", "cases"))
        cases = spec["cases"]
        if not isinstance(cases, MappingABC) or not cases:
            raise (inner / "cases").error("expected a non-empty mapping of value: expression")
        # A case of null gives no value (a files.log certificate is no retrieval).
        branches = tuple(
            (_key_text(k, inner / "cases"), None if e is None else parse_expr(e, inner / "cases" / str(k)))
            for k, e in cases.items()
        )
        fallback = parse_expr(spec["default"], inner / "default") if "default" in spec else None
        return Switch(parse_expr(spec["of"], inner / "of"), branches, fallback)
    func = Func(op)
    if func in UNARY:
        args: tuple[Expr, ...] = (parse_expr(arg, inner),)
    else:
        if not isinstance(arg, list) or len(arg) < 2:
            raise inner.error(f"{op} takes a list of at least two expressions")
        if func == Func.MAX and len(arg) != 2:
            raise inner.error("max takes a list of two expressions")
        args = tuple(parse_expr(a, inner / i) for i, a in enumerate(arg))
    for index, sub in enumerate(args):
        if isinstance(sub, (Field, Raw)) and is_multivalue(sub) and func not in MULTIVALUE:
            raise (inner / index if len(args) > 1 else inner).error(
                f"{sub.name!r} is multivalue: wrap it in `first` (SPL mvindex(x, 0)) or `count`"
            )
    return Call(func, args)


_CONSTRUCTS = (
    "const", "raw", "splunk", "if_present", "if_contains", "map", "switch", *(f.value for f in Func)
)  # fmt: skip
# The value `if_contains` looks for: a plain word, so the SPL regex needs no escaping.
CONTAINED_VALUE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key_text(key: object, where: _Where) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"  # YAML true/false keys stand for JSON booleans
    if isinstance(key, (str, int)):
        return str(key)
    raise where.error(f"a value-map key is a string or an integer, got {key!r}")


def _check_multivalue(expr: Expr, where: _Where) -> None:
    """Switch and map subjects, if_present branches: a `{}` field must go through `first`."""
    if isinstance(expr, (Field, Raw)) and is_multivalue(expr):
        raise where.error(f"{expr.name!r} is multivalue: wrap it in `first` (SPL mvindex(x, 0))")
    if isinstance(expr, (Map, Switch)):
        _check_multivalue(expr.of if isinstance(expr, Map) else expr.on, where)
    if isinstance(expr, Switch):
        for _, branch in expr.cases:
            if branch is not None:
                _check_multivalue(branch, where)
        if expr.default is not None:
            _check_multivalue(expr.default, where)
    if isinstance(expr, (IfPresent, IfContains)):  # the field of if_contains may be multivalue
        _check_multivalue(expr.then, where)
        if expr.otherwise is not None:
            _check_multivalue(expr.otherwise, where)
    if isinstance(expr, Call) and expr.func == Func.COALESCE:
        for arg in expr.args:
            _check_multivalue(arg, where)


# ----------------------------------------------------------------------------------- mapping


def load_mapping(path: Path) -> SourcetypeMapping:
    where = _Where(path.name)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise where.error(f"not YAML ({exc})") from None
    spec = _dict(data, where, _TOP_KEYS, _REQUIRED_TOP)
    sourcetype = _str(spec["sourcetype"], where / "sourcetype")
    expected = sourcetype.replace(":", "_") + ".yml"
    if path.name != expected:
        raise where.error(f"the file of sourcetype {sourcetype!r} must be named {expected}")

    ts = _dict(
        spec["timestamp"],
        where / "timestamp",
        {"field", "format", "time_format", "alternative"},
        ("field", "format"),
    )
    try:
        time_kind = TimeFormat(ts["format"])
    except ValueError:
        raise (where / "timestamp" / "format").error(
            f"{ts['format']!r} is not one of {', '.join(f.value for f in TimeFormat)}"
        ) from None
    if time_kind == TimeFormat.ISO8601 and "time_format" not in ts:
        raise (where / "timestamp").error("an iso8601 timestamp needs its Splunk time_format")
    time_format = _str(ts.get("time_format", "%s.%6N"), where / "timestamp" / "time_format")
    # One field, or a list: the first field present gives the time (in props, TIME_PREFIX finds
    # the first of their keys in the raw text, so list them in the order the records write them).
    stamp_fields = ts["field"] if isinstance(ts["field"], list) else [ts["field"]]
    if not stamp_fields:
        raise (where / "timestamp" / "field").error("expected a field name or a non-empty list of them")
    names = tuple(_field_name(f, where / "timestamp" / "field" / i) for i, f in enumerate(stamp_fields))
    if any("{}" in name for name in names):
        raise (where / "timestamp" / "field").error("a timestamp field cannot be multivalue")
    alternative = (
        _alternative(ts["alternative"], where / "timestamp" / "alternative") if "alternative" in ts else None
    )
    timestamp = Timestamp(names[0], time_kind, time_format, names[1:], alternative)

    max_bytes = spec.get("max_event_bytes", DEFAULT_MAX_EVENT_BYTES)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or not 1000 <= max_bytes <= 10_000_000:
        raise (where / "max_event_bytes").error(
            f"expected an integer from 1000 to 10000000, got {max_bytes!r}"
        )

    fields = spec["fields"]
    if not isinstance(fields, MappingABC) or not fields:
        raise (where / "fields").error("expected a non-empty mapping of output field: expression")
    outputs = []
    for name, value in fields.items():
        key = where / "fields" / str(name)
        if not isinstance(name, str) or not OUTPUT_NAME.match(name) or name.startswith("mobile_ingress_join"):
            raise key.error(f"{name!r} is not an output field name (lowercase letters, digits, _)")
        if name == "_time" or name in SPLUNK_FIELDS:
            raise key.error(f"{name} is Splunk's own field, not an output")
        expr = parse_expr(value, key)
        if not isinstance(expr, (Field, Raw)):  # a bare `{}` field is a multivalue output, as in Splunk
            _check_multivalue(expr, key)
        outputs.append(Output(name, expr))
    _check_aliases(outputs, where / "fields")

    output_names = {o.name for o in outputs}
    join = _join(spec["join"], where / "join", output_names) if "join" in spec else None
    asof = (
        _asof_join(spec["asof_join"], where / "asof_join", output_names) if "asof_join" in spec else None
    )
    cim = tuple(_cim(item, where / "cim" / i) for i, item in enumerate(spec.get("cim") or []))
    cim_owner = _str(spec["cim_owner"], where / "cim_owner").strip() if "cim_owner" in spec else None
    if cim_owner is not None and cim:
        raise (where / "cim").error(
            f"the CIM fields and eventtypes of {sourcetype} are {cim_owner}'s (cim_owner): drop `cim`"
        )
    return SourcetypeMapping(
        path=str(path),
        sourcetype=sourcetype,
        title=_str(spec["title"], where / "title"),
        origin=_str(spec["origin"], where / "origin").strip(),
        onboarding=_str(spec["onboarding"], where / "onboarding").strip(),
        timestamp=timestamp,
        max_event_bytes=max_bytes,
        outputs=tuple(outputs),
        join=join,
        cim=cim,
        cim_owner=cim_owner,
        asof_join=asof,
    )


def _alternative(value: object, where: _Where) -> AlternativeTime:
    spec = _dict(value, where, {"format", "time_format", "when"}, ("format", "time_format", "when"))
    try:
        kind = TimeFormat(spec["format"])
    except ValueError:
        raise (where / "format").error(
            f"{spec['format']!r} is not one of {', '.join(f.value for f in TimeFormat)}"
        ) from None
    return AlternativeTime(
        kind, _str(spec["time_format"], where / "time_format"), _str(spec["when"], where / "when")
    )


def _key_parts(value: object, where: _Where, last_may_be_multivalue: bool) -> tuple[Expr, ...]:
    if not isinstance(value, list) or not value:
        raise where.error("expected a non-empty list of expressions (joined with |)")
    parts = tuple(parse_expr(v, where / i) for i, v in enumerate(value))
    for index, part in enumerate(parts):
        if (
            last_may_be_multivalue
            and index == len(parts) - 1
            and isinstance(part, Field)
            and is_multivalue(part)
        ):
            continue
        _check_multivalue(part, where / index)
        if isinstance(part, (Field, Raw)) and is_multivalue(part):
            raise (where / index).error(f"{part.name!r} is multivalue: only the last source part may be")
    return parts


def _asof_join(value: object, where: _Where, names: set[str]) -> AsofJoin:
    spec = _dict(
        value, where, {"namespace", "key", "from", "fill", "mark"}, ("namespace", "key", "from", "fill")
    )
    namespace = _str(spec["namespace"], where / "namespace")
    if not NAMESPACE.match(namespace):
        raise (where / "namespace").error("lowercase letters and digits only")
    if "activity" not in names:
        raise where.error("only a mapping that yields an activity can join")
    source = _dict(spec["from"], where / "from", {"where", "key", "value"}, ("where", "key", "value"))
    key = _key_parts(spec["key"], where / "key", last_may_be_multivalue=False)
    source_key = _key_parts(source["key"], where / "from" / "key", last_may_be_multivalue=True)
    if len(key) != len(source_key):
        raise (where / "from" / "key").error(f"has {len(source_key)} parts, the key {len(key)}")
    fill = spec["fill"]
    if not isinstance(fill, str) or not OUTPUT_NAME.match(fill):
        raise (where / "fill").error("expected one output field name")
    marks = spec.get("mark") or {}
    mark = _dict(marks, where / "mark", set(marks) if isinstance(marks, MappingABC) else set())
    for name in mark:
        if not isinstance(name, str) or not OUTPUT_NAME.match(name):
            raise (where / "mark").error(f"{name!r} is not an output field name")
    value_expr = parse_expr(source["value"], where / "from" / "value")
    _check_multivalue(value_expr, where / "from" / "value")
    return AsofJoin(
        namespace=namespace,
        key=key,
        where=_where_terms(source["where"], where / "from" / "where"),
        source_key=source_key,
        value=value_expr,
        fill=fill,
        mark=tuple((str(k), _key_text(v, where / "mark" / str(k))) for k, v in mark.items()),
    )


def _check_aliases(outputs: list[Output], where: _Where) -> None:
    """An EVAL reads the fields before any EVAL but after FIELDALIAS: so no expression may read a
    name an alias writes (Python reads the raw event), and an alias must not overwrite a field
    another alias or EVAL of the mapping reads."""
    aliased = {o.name for o in outputs if o.field_class == FieldClass.ALIAS}
    for output in outputs:
        if output.field_class == FieldClass.EXTRACTION:
            continue
        for name in fields_read(output.expr):
            if name in aliased:
                raise (where / output.name).error(
                    f"reads {name!r}, which an alias of this mapping writes; read the raw field instead"
                )


def _join(value: object, where: _Where, names: set[str]) -> Join:
    spec = _dict(value, where, {"namespace", "key", "from", "fill"}, ("namespace", "key", "from", "fill"))
    namespace = _str(spec["namespace"], where / "namespace")
    if not NAMESPACE.match(namespace):
        raise (where / "namespace").error("lowercase letters and digits only")
    source = _dict(spec["from"], where / "from", {"sourcetype", "key", "where"}, ("sourcetype", "key"))
    fill = spec["fill"]
    if (
        not isinstance(fill, list)
        or not fill
        or not all(isinstance(f, str) and OUTPUT_NAME.match(f) for f in fill)
    ):
        raise (where / "fill").error("expected a list of output field names")
    if "activity" not in names:
        raise where.error("only a mapping that yields an activity can join")
    # The detection event has one key; its source may have several (a bare `{}` field: one
    # request's files), and is then found under each.
    key = parse_expr(spec["key"], where / "key")
    _check_multivalue(key, where / "key")
    source_key = parse_expr(source["key"], where / "from" / "key")
    if isinstance(source_key, Raw) and is_multivalue(source_key):
        # SPL namespaces each value with mvmap, which iterates a field, not an expression.
        raise (where / "from" / "key").error("a multivalue key is a `{}` field, not a raw read")
    if not is_multivalue(source_key):
        _check_multivalue(source_key, where / "from" / "key")
    return Join(
        namespace=namespace,
        key=key,
        source=JoinSource(
            sourcetype=_str(source["sourcetype"], where / "from" / "sourcetype"),
            key=source_key,
            where=_where_terms(source.get("where", {}), where / "from" / "where"),
        ),
        fill=tuple(fill),
    )


def _cim(value: object, where: _Where) -> CimEventtype:
    spec = _dict(
        value,
        where,
        {"eventtype", "data_set", "tags", "where", "gaps", "description"},
        ("eventtype", "data_set", "tags", "description"),
    )
    name = _str(spec["eventtype"], where / "eventtype")
    if not EVENTTYPE_NAME.match(name):
        raise (where / "eventtype").error(f"{name!r}: eventtypes are named mobile_ingress_<a-z0-9_>")
    data_set = _str(spec["data_set"], where / "data_set")
    if not re.match(r"^[A-Za-z_]+\.[A-Za-z_]+$", data_set):
        raise (where / "data_set").error("expected Model.Dataset, e.g. Network_Traffic.All_Traffic")
    tags = spec["tags"]
    if not isinstance(tags, list) or not tags or not all(isinstance(t, str) and TAG.match(t) for t in tags):
        raise (where / "tags").error("expected a list of lowercase tags")
    gaps_spec = spec.get("gaps") or {}
    gaps = _dict(gaps_spec, where / "gaps", set(gaps_spec) if isinstance(gaps_spec, MappingABC) else set())
    return CimEventtype(
        name=name,
        data_set=data_set,
        tags=tuple(tags),
        where=_where_terms(spec.get("where", {}), where / "where"),
        gaps=tuple((str(k), _str(v, where / "gaps" / str(k))) for k, v in gaps.items()),
        description=_str(spec["description"], where / "description"),
    )


def load_mappings(folder: Path = MAPPINGS) -> dict[str, SourcetypeMapping]:
    """Every mapping in FOLDER by sourcetype, checked against each other (joins, eventtypes)."""
    mappings: dict[str, SourcetypeMapping] = {}
    for path in sorted(folder.glob("*.yml")):
        mapping = load_mapping(path)
        if mapping.sourcetype in mappings:
            raise MappingError(f"{path.name}: sourcetype: {mapping.sourcetype!r} is mapped twice")
        mappings[mapping.sourcetype] = mapping
    eventtypes: dict[str, str] = {}
    join_sources: dict[str, str] = {}
    for mapping in mappings.values():
        name = Path(mapping.path).name
        for item in mapping.cim:
            if item.name in eventtypes:
                raise MappingError(f"{name}: cim: eventtype {item.name!r} also in {eventtypes[item.name]}")
            eventtypes[item.name] = name
        if mapping.join is None:
            continue
        source = mapping.join.source.sourcetype
        if source in join_sources:
            raise MappingError(
                f"{name}: join.from.sourcetype: {source!r} already feeds {join_sources[source]}"
            )
        join_sources[source] = name
        other = mappings.get(source)
        if other is None:
            raise MappingError(
                f"{name}: join.from.sourcetype: {mapping.join.source.sourcetype!r} is not mapped"
            )
        for field_name in mapping.join.fill:
            if other.output(field_name) is None:
                raise MappingError(f"{name}: join.fill: {other.sourcetype} has no output {field_name!r}")
    return mappings
