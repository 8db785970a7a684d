"""Typed loader of the simulator's data files (simulate/data/).

- apps.csv: the app catalogue, one row per app and platform.
- managed_apps.csv: the MDM export the fleet's managed_apps lookup is written from.
- fleet.yaml: the app pools planted cases draw from, host lists, planted destination name parts.
- cases.yaml: moods, payload kinds with their name patterns, and the planted cases (labels).

Each file is checked entry by entry into dataclasses; a bad entry raises DataError naming the file,
the entry and the field. The simulator's logic (catalog.py, cases.py and the modules using them)
only sees these objects. The data/README.md describes the formats.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..engine.events import LOAD_METHODS, RETRIEVAL_METHODS

DATA_DIR = Path(__file__).resolve().parent / "data"

ANDROID = "android"
IOS = "ios"
PLATFORMS = (ANDROID, IOS)

APP_FEATURES = frozenset({"webview", "codepush", "media", "browser", "store", "gms", "attachments", "video"})
# The pool cases.py draws from itself (another app's baseline row, F written by another app).
REQUIRED_POOLS = ("stager",)

# Values of a chain's fields that cases.py implements (payload_path, dest_for, sizes_for, plant_chain).
WHERES = {
    ANDROID: frozenset({"files", "cache", "app_dir", "ext", "user0", "download", "sdcard", "codepush"}),
    IOS: frozenset({"files", "tmp", "docs", "support", "var", "codepush"}),
}
R_MODES = frozenset({"edr", "flow", "edr_noapp"})
F_MODES = frozenset({"app", "provider", "shared_noapp", "path_app", "other_app"})
BYTES_MODES = frozenset(
    {"normal", "unknown", "unknown_both", "summed", "exact", "below", "below_unknown", "dup", "small_file"}
)
DEST_MODES = frozenset(
    {
        "bad",
        "raw_ip",
        "lookalike_exact",
        "lookalike_boundary",
        "cidr_adjacent",
        "baselined_other_app",
        "baseline_recent",
        "allowlisted",
        "allowlisted_case_dot",
        "enterprise_catalog",
        "enterprise_cidr",
        "baselined",
        "baselined_star",
        "loopback",
    }
)
RETRIEVAL_ONLY_BYTES_MODES = frozenset({"normal", "below", "unknown"})
NEEDS = frozenset({"", "suffix_row"})


class DataError(ValueError):
    """An entry of a data file the simulator cannot use: which file, entry and field, and why."""

    def __init__(self, file: str, entry: str, field: str | None, problem: str) -> None:
        self.file = file
        self.entry = entry
        self.field = field
        self.problem = problem
        where = f"{file}: {entry}" + (f", field {field!r}" if field else "")
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class _Where:
    file: str
    entry: str

    def error(self, field: str | None, problem: str) -> DataError:
        return DataError(self.file, self.entry, field, problem)


# ---------------------------------------------------------------------------- records
@dataclass(frozen=True)
class App:
    app_id: str
    platform: str
    category: str
    hosts: tuple[str, ...]  # destinations learned in the baseline for this app
    weight: float  # how often a user opens it (relative)
    install_p: float  # probability that a device has it installed
    features: tuple[str, ...] = ()  # webview, codepush, media, browser, store, gms, attachments, video


@dataclass(frozen=True)
class ManagedApp:
    platform: str
    app_id: str
    managed: bool  # false: listed in the MDM export but not managed
    approved_roles: str  # "|"-separated; "" = managed with no approved role


@dataclass(frozen=True)
class AllowedDestination:
    destination: str
    app_id: str
    comment: str


@dataclass(frozen=True)
class Fleet:
    app_pools: Mapping[str, Mapping[str, tuple[str, ...]]]  # pool -> platform -> app ids
    shared_hosts: tuple[str, ...]
    web_sites: tuple[str, ...]
    download_sites: tuple[str, ...]
    enterprise_allowed: tuple[AllowedDestination, ...]
    enterprise_catalog_host: str
    enterprise_cidr_prefix: str
    bad_words: tuple[str, ...]
    bad_stems: tuple[str, ...]
    bad_tlds: tuple[str, ...]
    bad_ip_octets: tuple[int, ...]
    benign_ip_prefixes: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Mood:
    name: str
    app_state: str
    device_locked: bool
    recent_user_interaction: bool
    weight: float


@dataclass(frozen=True)
class NamePart:
    kind: str  # text | word | Word | hex | pick
    text: str = ""
    digits: int = 0
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class NamePattern:
    templates: tuple[tuple[NamePart, ...], ...]
    # A list in the file: every template is rendered, left to right, then one rendering is picked
    # (the order the random numbers are drawn in is part of the fleet).
    pick: bool


@dataclass(frozen=True)
class Payload:
    kind: str
    name: NamePattern
    file_type: str | None
    min_size: int
    max_size: int


@dataclass
class Chain:
    """A planted retrieval R and staged file F; cases.yaml gives the fields that differ from these."""

    kind: str = "dex"
    where: str = "files"
    app: str = "stager"  # a pool of fleet.yaml app_pools
    delta_s: float | None = None  # F - R; None = random 0.5..120 (15 %: F before R, within skew)
    mood: str | None = None  # None = drawn by weight
    load: str | None = None  # load_method
    handoff: bool = False
    unpack: bool = False  # unpack of F into target_path, then load of a member (needs load)
    repeat: bool = False
    r_mode: str = "edr"  # edr | flow | edr_noapp
    method: str = "http"
    f_mode: str = "app"  # app | provider | shared_noapp | path_app | other_app
    # normal | unknown | unknown_both | summed | exact | below | below_unknown | dup | small_file
    bytes_mode: str = "normal"
    dest_mode: str = "bad"  # see cases.dest_for()
    url_names: bool | None = None
    whole_seconds: bool = False
    rank_decoy: bool = False
    recreate: bool = False
    expected: bool = True
    clause: str = ""


@dataclass(frozen=True)
class RetrievalOnly:
    """A planted iOS retrieval-only case (AN1849): retrievals of a managed app, no file."""

    app: str  # a pool of fleet.yaml app_pools
    bytes_mode: str  # normal | below | unknown
    repeat: bool = False
    summed: bool = False


@dataclass(frozen=True)
class CaseSpec:
    label: str
    platform: str
    expected: bool
    clause: str
    plan: Chain | RetrievalOnly
    devices: int = 1
    needs: str = ""  # "suffix_row": needs a `*.suffix` allowlist row


@dataclass(frozen=True)
class CaseTable:
    moods: tuple[Mood, ...]
    words: tuple[str, ...]
    url_dirs: tuple[str, ...]
    retrieval_only_names: NamePattern
    payloads: Mapping[str, Mapping[str, Payload]]  # platform -> kind -> payload
    cases: tuple[CaseSpec, ...]


# ---------------------------------------------------------------------------- checks
_TYPE_NAMES = {
    str: "a string",
    bool: "true or false",
    int: "an integer",
    float: "a number",
    type(None): "null",
}
# The annotations of Chain and RetrievalOnly (strings under `from __future__ import annotations`).
_ANNOTATION_TYPES: dict[str, type] = {
    "str": str,
    "bool": bool,
    "float": float,
    "int": int,
    "None": type(None),
}


def _kind(value: Any) -> str:
    for t, name in _TYPE_NAMES.items():
        if type(value) is t:
            return name
    if isinstance(value, list):
        return "a list"
    return "a mapping" if isinstance(value, dict) else type(value).__name__


def _typed(value: Any, types: tuple[type, ...], where: _Where, field: str) -> Any:
    """VALUE if it is one of TYPES (an integer where a number is expected becomes a float)."""
    if isinstance(value, bool):  # bool is an int subclass; true is never a number here
        ok = bool in types
    elif isinstance(value, int) and int not in types and float in types:
        return float(value)
    else:
        ok = type(value) in types
    if not ok:
        expected = " or ".join(_TYPE_NAMES[t] for t in types)
        raise where.error(field, f"expected {expected}, got {_kind(value)} ({value!r})")
    return value


def _mapping(
    data: Any, where: _Where, required: Collection[str], optional: Collection[str]
) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise where.error(None, f"expected a mapping, got {_kind(data)}")
    known = list(required) + [k for k in optional if k not in required]
    for key in data:
        if key not in known:
            raise where.error(str(key), f"unknown field (known: {', '.join(known)})")
    for key in required:
        if key not in data:
            raise where.error(key, "missing field")
    return data


def _one_of(value: Any, allowed: Collection[Any], where: _Where, field: str) -> Any:
    if value not in allowed:
        raise where.error(field, f"{value!r} is not one of {', '.join(sorted(map(str, allowed)))}")
    return value


def _text(value: Any, where: _Where, field: str) -> str:
    s = _typed(value, (str,), where, field)
    if not s.strip():
        raise where.error(field, "empty")
    return str(s)


def _texts(value: Any, where: _Where, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise where.error(field, f"expected a non-empty list of strings, got {_kind(value)}")
    out = tuple(_text(v, where, f"{field}[{i}]") for i, v in enumerate(value))
    for i, v in enumerate(out):
        if v in out[:i]:
            raise where.error(f"{field}[{i}]", f"{v!r} is listed twice")
    return out


def _ints(value: Any, where: _Where, field: str, length: int | None = None) -> tuple[int, ...]:
    if not isinstance(value, list) or not value or (length is not None and len(value) != length):
        size = f"{length} integers" if length is not None else "a non-empty list of integers"
        raise where.error(field, f"expected {size}, got {value!r}")
    return tuple(_typed(v, (int,), where, f"{field}[{i}]") for i, v in enumerate(value))


def _pair(value: Any, where: _Where, field: str) -> tuple[int, int]:
    first, second = _ints(value, where, field, 2)
    return first, second


def _dataclass_values(
    cls: type, data: Any, where: _Where, skip: Collection[str], choices: Mapping[str, Collection[Any]]
) -> dict[str, Any]:
    """The fields of dataclass CLS given in DATA, checked against CLS's annotations and CHOICES."""
    fields = [f for f in dataclasses.fields(cls) if f.name not in skip]
    required = [
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    spec = _mapping(data, where, required, [f.name for f in fields])
    values: dict[str, Any] = {}
    for f in fields:
        if f.name not in spec:
            continue
        types = tuple(_ANNOTATION_TYPES[t.strip()] for t in str(f.type).split("|"))
        value = _typed(spec[f.name], types, where, f.name)
        if value is not None and f.name in choices:
            _one_of(value, choices[f.name], where, f.name)
        values[f.name] = value
    return values


# ---------------------------------------------------------------------------- name patterns
_TOKEN = re.compile(r"\{([^{}]*)\}")
_MAX_HEX_DIGITS = 64


def _token(token: str, where: _Where, field: str) -> NamePart:
    if token in ("word", "Word"):
        return NamePart(token)
    name, colon, arg = token.partition(":")
    if name == "hex" and colon and arg.isdigit() and 1 <= int(arg) <= _MAX_HEX_DIGITS:
        return NamePart("hex", digits=int(arg))
    if name == "pick" and colon:
        return NamePart("pick", choices=tuple(arg.split("|")))
    raise where.error(
        field, f"unknown name token {{{token}}} (known: {{word}}, {{Word}}, {{hex:1..64}}, {{pick:a|b|...}})"
    )


def _template(value: Any, where: _Where, field: str) -> tuple[NamePart, ...]:
    text = _text(value, where, field)
    parts: list[NamePart] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        if m.start() > pos:
            parts.append(NamePart("text", text[pos : m.start()]))
        parts.append(_token(m.group(1), where, field))
        pos = m.end()
    if pos < len(text):
        parts.append(NamePart("text", text[pos:]))
    if any(p.kind == "text" and ("{" in p.text or "}" in p.text) for p in parts):
        raise where.error(field, f"unbalanced brace in {text!r}")
    return tuple(parts)


def _name_pattern(value: Any, where: _Where, field: str) -> NamePattern:
    if isinstance(value, list):
        if not value:
            raise where.error(field, "expected a name pattern or a non-empty list of them")
        return NamePattern(tuple(_template(v, where, f"{field}[{i}]") for i, v in enumerate(value)), True)
    return NamePattern((_template(value, where, field),), False)


# ---------------------------------------------------------------------------- files
def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DataError(path.name, "document", None, f"not YAML ({exc})") from None


def _csv_rows(path: Path, columns: Sequence[str]) -> Iterator[tuple[_Where, dict[str, str]]]:
    """The rows of a CSV file whose header is exactly COLUMNS (in any order), with where they are."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        head = _Where(path.name, "header")
        if header is None:
            raise head.error(None, "empty file")
        for name in header:
            if name not in columns:
                raise head.error(name, f"unknown column (known: {', '.join(columns)})")
        for name in columns:
            if name not in header:
                raise head.error(name, "missing column")
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            where = _Where(path.name, f"line {line}")
            if len(row) != len(header):
                raise where.error(None, f"{len(row)} cells, the header has {len(header)}")
            cells = dict(zip(header, row))
            if cells.get("app_id"):
                where = _Where(path.name, f"line {line} ({cells['app_id']})")
            yield where, cells


def _cell_float(cells: Mapping[str, str], where: _Where, field: str, lo: float, hi: float) -> float:
    raw = _text(cells[field], where, field)
    try:
        value = float(raw)
    except ValueError:
        raise where.error(field, f"expected a number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise where.error(field, f"{value} is outside [{lo}, {hi}]")
    return value


def _cell_words(cells: Mapping[str, str], where: _Where, field: str) -> tuple[str, ...]:
    return tuple(cells[field].split())


def load_apps(path: Path = DATA_DIR / "apps.csv") -> tuple[App, ...]:
    """The app catalogue: hosts and features are space-separated lists."""
    columns = ("platform", "app_id", "category", "weight", "install_p", "hosts", "features")
    apps: list[App] = []
    seen: set[tuple[str, str]] = set()
    for where, cells in _csv_rows(path, columns):
        platform = _one_of(cells["platform"], PLATFORMS, where, "platform")
        app_id = _text(cells["app_id"], where, "app_id")
        if (platform, app_id) in seen:
            raise where.error("app_id", f"{platform} app {app_id!r} is listed twice")
        seen.add((platform, app_id))
        hosts = _cell_words(cells, where, "hosts")
        if not hosts:
            raise where.error("hosts", "empty (every app has at least one baselined host)")
        features = _cell_words(cells, where, "features")
        for feature in features:
            _one_of(feature, APP_FEATURES, where, "features")
        apps.append(
            App(
                app_id,
                platform,
                _text(cells["category"], where, "category"),
                hosts,
                _cell_float(cells, where, "weight", 0.0, 1000.0),
                _cell_float(cells, where, "install_p", 0.0, 1.0),
                features,
            )
        )
    return tuple(apps)


def _known_app(
    apps: Mapping[tuple[str, str], App], platform: str, app_id: str, where: _Where, field: str
) -> None:
    if (platform, app_id) not in apps:
        raise where.error(field, f"{platform} app {app_id!r} is not in apps.csv")


def load_managed_apps(
    apps: Mapping[tuple[str, str], App], path: Path = DATA_DIR / "managed_apps.csv"
) -> tuple[ManagedApp, ...]:
    """The MDM export, in file order (the managed_apps lookup keeps it); APPS keyed by (platform, id)."""
    rows: list[ManagedApp] = []
    seen: set[tuple[str, str]] = set()
    for where, cells in _csv_rows(path, ("platform", "app_id", "managed", "approved_roles")):
        platform = _one_of(cells["platform"], PLATFORMS, where, "platform")
        app_id = _text(cells["app_id"], where, "app_id")
        _known_app(apps, platform, app_id, where, "app_id")
        if (platform, app_id) in seen:
            raise where.error("app_id", f"{platform} app {app_id!r} is listed twice")
        seen.add((platform, app_id))
        managed = _one_of(cells["managed"], ("true", "false"), where, "managed") == "true"
        roles = cells["approved_roles"]
        if roles and not managed:
            raise where.error("approved_roles", "an unmanaged app has no approved roles")
        rows.append(ManagedApp(platform, app_id, managed, roles))
    return tuple(rows)


def load_fleet(apps: Mapping[tuple[str, str], App], path: Path = DATA_DIR / "fleet.yaml") -> Fleet:
    fields = [f.name for f in dataclasses.fields(Fleet)]
    spec = _mapping(_read_yaml(path), _Where(path.name, "document"), fields, ())

    pools_where = _Where(path.name, "app_pools")
    raw_pools = spec["app_pools"]
    if not isinstance(raw_pools, dict):
        raise pools_where.error(None, f"expected a mapping of pool: platform: apps, got {_kind(raw_pools)}")
    for name in REQUIRED_POOLS:
        if name not in raw_pools:
            raise pools_where.error(name, "missing pool (cases.py draws from it itself)")
    pools: dict[str, dict[str, tuple[str, ...]]] = {}
    for name, per_platform in raw_pools.items():
        where = _Where(path.name, f"app_pools.{name}")
        required = PLATFORMS if name in REQUIRED_POOLS else ()
        platforms = _mapping(per_platform, where, required, PLATFORMS)
        pools[str(name)] = {}
        for platform, ids in platforms.items():
            pools[str(name)][platform] = _texts(ids, where, platform)
            for i, app_id in enumerate(pools[str(name)][platform]):
                _known_app(apps, platform, app_id, where, f"{platform}[{i}]")

    allowed: list[AllowedDestination] = []
    if not isinstance(spec["enterprise_allowed"], list):
        raise _Where(path.name, "document").error("enterprise_allowed", "expected a list of rows")
    for i, row in enumerate(spec["enterprise_allowed"]):
        where = _Where(path.name, f"enterprise_allowed[{i}]")
        values = _dataclass_values(AllowedDestination, row, where, (), {})
        allowed.append(AllowedDestination(**{k: _text(v, where, k) for k, v in values.items()}))

    doc = _Where(path.name, "document")
    prefixes = spec["benign_ip_prefixes"]
    if not isinstance(prefixes, list) or not prefixes:
        raise doc.error("benign_ip_prefixes", "expected a non-empty list of [octet, octet]")
    return Fleet(
        app_pools=pools,
        shared_hosts=_texts(spec["shared_hosts"], doc, "shared_hosts"),
        web_sites=_texts(spec["web_sites"], doc, "web_sites"),
        download_sites=_texts(spec["download_sites"], doc, "download_sites"),
        enterprise_allowed=tuple(allowed),
        enterprise_catalog_host=_text(spec["enterprise_catalog_host"], doc, "enterprise_catalog_host"),
        enterprise_cidr_prefix=_text(spec["enterprise_cidr_prefix"], doc, "enterprise_cidr_prefix"),
        bad_words=_texts(spec["bad_words"], doc, "bad_words"),
        bad_stems=_texts(spec["bad_stems"], doc, "bad_stems"),
        bad_tlds=_texts(spec["bad_tlds"], doc, "bad_tlds"),
        bad_ip_octets=_ints(spec["bad_ip_octets"], doc, "bad_ip_octets"),
        benign_ip_prefixes=tuple(_pair(p, doc, f"benign_ip_prefixes[{i}]") for i, p in enumerate(prefixes)),
    )


def _moods(value: Any, path: Path) -> tuple[Mood, ...]:
    if not isinstance(value, list) or not value:
        raise _Where(path.name, "document").error("moods", "expected a non-empty list of moods")
    moods: list[Mood] = []
    for i, entry in enumerate(value):
        where = _Where(path.name, f"moods[{i}]")
        values = _dataclass_values(Mood, entry, where, (), {"app_state": ("foreground", "background")})
        mood = Mood(**values)
        if any(m.name == mood.name for m in moods):
            raise where.error("name", f"mood {mood.name!r} is listed twice")
        if mood.weight < 0:
            raise where.error("weight", f"{mood.weight} is negative")
        moods.append(mood)
    return tuple(moods)


def _payloads(value: Any, path: Path) -> dict[str, dict[str, Payload]]:
    platforms = _mapping(value, _Where(path.name, "payloads"), PLATFORMS, ())
    out: dict[str, dict[str, Payload]] = {}
    for platform, kinds in platforms.items():
        if not isinstance(kinds, dict) or not kinds:
            raise _Where(path.name, "payloads").error(platform, "expected a mapping of kind: payload")
        out[platform] = {}
        for kind, entry in kinds.items():
            where = _Where(path.name, f"payloads.{platform}.{kind}")
            spec = _mapping(entry, where, ("name", "file_type", "size"), ())
            file_type = _typed(spec["file_type"], (str, type(None)), where, "file_type")
            lo, hi = _ints(spec["size"], where, "size", 2)
            if not 0 < lo <= hi:
                raise where.error("size", f"expected 0 < min <= max, got [{lo}, {hi}]")
            out[platform][str(kind)] = Payload(
                str(kind), _name_pattern(spec["name"], where, "name"), file_type, lo, hi
            )
    return out


def _case(
    entry: Any,
    where: _Where,
    pools: Mapping[str, Mapping[str, tuple[str, ...]]],
    moods: Collection[str],
    payloads: Mapping[str, Mapping[str, Payload]],
) -> CaseSpec:
    if isinstance(entry, dict) and isinstance(entry.get("label"), str):  # name the case in every error
        where = _Where(where.file, f"{where.entry} ({entry['label']})")
    required = ("label", "platform", "expected", "clause")
    spec = _mapping(entry, where, required, ("chain", "retrieval_only", "devices", "needs"))
    label = _text(spec["label"], where, "label")
    platform = _one_of(spec["platform"], PLATFORMS, where, "platform")
    expected = _typed(spec["expected"], (bool,), where, "expected")
    clause = _text(spec["clause"], where, "clause")
    devices = _typed(spec.get("devices", 1), (int,), where, "devices")
    if devices not in (1, 2):
        raise where.error("devices", f"expected 1 or 2, got {devices}")
    needs = _one_of(_typed(spec.get("needs", ""), (str,), where, "needs"), NEEDS, where, "needs")
    if ("chain" in spec) == ("retrieval_only" in spec):
        raise where.error(None, "expected exactly one of chain and retrieval_only")
    app_pools = [name for name, per in pools.items() if platform in per]
    plan: Chain | RetrievalOnly
    if "chain" in spec:
        choices: dict[str, Collection[Any]] = {
            "kind": payloads[platform],
            "where": WHERES[platform],
            "app": app_pools,
            "mood": moods,
            "load": LOAD_METHODS,
            "r_mode": R_MODES,
            "method": RETRIEVAL_METHODS,
            "f_mode": F_MODES,
            "bytes_mode": BYTES_MODES,
            "dest_mode": DEST_MODES,
        }
        chain_where = _Where(where.file, f"{where.entry} chain")
        # expected and clause belong to the case: the chain takes them from there
        values = _dataclass_values(Chain, spec["chain"], chain_where, ("expected", "clause"), choices)
        plan = Chain(**values, expected=expected, clause=clause)
    else:
        choices = {"app": app_pools, "bytes_mode": RETRIEVAL_ONLY_BYTES_MODES}
        ronly_where = _Where(where.file, f"{where.entry} retrieval_only")
        plan = RetrievalOnly(
            **_dataclass_values(RetrievalOnly, spec["retrieval_only"], ronly_where, (), choices)
        )
    return CaseSpec(label, platform, expected, clause, plan, devices, needs)


def load_case_table(fleet: Fleet, path: Path = DATA_DIR / "cases.yaml") -> CaseTable:
    """Moods, payloads and cases; each case's app pool must exist for its platform in FLEET."""
    doc = _Where(path.name, "document")
    fields = ("moods", "words", "url_dirs", "retrieval_only_names", "payloads", "cases")
    spec = _mapping(_read_yaml(path), doc, fields, ())
    moods = _moods(spec["moods"], path)
    payloads = _payloads(spec["payloads"], path)
    if not isinstance(spec["cases"], list) or not spec["cases"]:
        raise doc.error("cases", "expected a non-empty list of cases")
    cases: list[CaseSpec] = []
    mood_names = [m.name for m in moods]
    for i, entry in enumerate(spec["cases"]):
        case = _case(entry, _Where(path.name, f"cases[{i}]"), fleet.app_pools, mood_names, payloads)
        if any(c.label == case.label for c in cases):
            raise DataError(path.name, f"cases[{i}] ({case.label})", "label", "listed twice")
        cases.append(case)
    return CaseTable(
        moods=moods,
        words=_texts(spec["words"], doc, "words"),
        url_dirs=_texts(spec["url_dirs"], doc, "url_dirs"),
        retrieval_only_names=_name_pattern(spec["retrieval_only_names"], doc, "retrieval_only_names"),
        payloads=payloads,
        cases=tuple(cases),
    )
