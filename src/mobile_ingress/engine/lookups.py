"""The seven lookups (contract section 2): reading, precedence, typed rows.

For each lookup the first non-empty source is used and replaces the others (no merging). A source
is anything that yields rows as dicts: a CSV text here, a KV store collection in Splunk.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Callable

from .errors import LookupFileError
from .globs import Glob, compile_glob
from .hosts import HostPattern, normalize_host
from .settings import parse_bool
from .timeparse import parse_optional_time

ROLES = ("browser", "app_store", "update", "sync", "content_delivery", "download")
RISK_CLASSES = ("package", "executable", "library", "archive", "script", "overlay", "opaque")
RISK_FIELDS = ("file_name", "file_type", "file_path")
PLATFORMS = ("android", "ios")
NOEXT = "<noext>"

COLUMNS: dict[str, tuple[str, ...]] = {
    "allowed_apps": ("platform", "app_id", "roles", "comment"),
    "allowed_destinations": ("destination", "app_id", "comment"),
    "allowed_paths": ("platform", "app_id", "path_pattern", "comment"),
    "file_risk_patterns": ("platform", "field", "pattern", "risk_class"),
    "destination_baseline": ("app_id", "dest", "first_seen", "last_seen", "count"),
    "managed_apps": ("platform", "app_id", "managed", "approved_roles", "source"),
    "device_inventory": ("device_id", "platform", "ip", "user", "first_seen", "last_seen"),
}
LOOKUP_NAMES = tuple(COLUMNS)
# Columns of mobile_ingress_device_inventory beyond the contract's, which device attribution writes
# (docs/data.md, Device attribution) and the engine reads when present: the lease's MAC, whether
# it is a randomized MAC no MDM reports, and how many devices of the MDM that reports the MAC do.
INVENTORY_ATTRIBUTION_COLUMNS = ("mac", "mac_randomized", "mac_devices")
# Columns a row may lack (the engine does not read them for matching).
OPTIONAL_COLUMNS = frozenset({"comment", "source", "count"})
# The csv module's default cell limit (128 KiB) raised an error mid-file that dropped the rest of
# it; a lookup or input cell is bounded by the file instead (readers judge a cell's length).
csv.field_size_limit(sys.maxsize)


def lookup_name(name: str) -> str:
    """`mobile_ingress_<name>` for a short name."""
    return "mobile_ingress_" + name


@dataclass
class Row:
    values: dict[str, str]
    where: str  # "file:line" or "collection:key", for messages
    header: tuple[str, ...] | None = None  # a CSV's header as written (a KV record has none)


@dataclass
class LookupSource:
    """One place a lookup may come from. `read` returns its rows, or None when it does not exist."""

    label: str
    read: Callable[[], list[Row] | None]


def rows_from_csv(text: str, label: str) -> list[Row]:
    """Rows of a lookup CSV (byte-order mark stripped; the header is line 1)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text))
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        return []
    written = tuple(header)
    rows = []
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue
        values: dict[str, str] = {}
        for i, name in enumerate(header):
            # A repeated column keeps its first cell (the header check warns and sets the file aside).
            values.setdefault(name, record[i] if i < len(record) else "")
        rows.append(Row(values, f"{label}:{reader.line_num}", written))
    return rows


def csv_file_source(path: str) -> LookupSource:
    def read() -> list[Row] | None:
        try:
            with open(path, encoding="utf-8", newline="") as handle:
                return rows_from_csv(handle.read(), path)
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise LookupFileError(f"{path}: cannot read lookup ({exc})") from exc

    return LookupSource(path, read)


def header_problem(name: str, header: Sequence[str]) -> str | None:
    """Why a CSV header cannot be read as lookup NAME, or None. A repeated column the lookup reads
    is ambiguous; a missing one means the header line is wrong or missing (then its first data row
    was taken for the header)."""
    read = set(COLUMNS[name]) | {"disabled"}
    repeated = sorted({c for c in header if c in read and list(header).count(c) > 1})
    missing = [c for c in COLUMNS[name] if c not in header and c not in OPTIONAL_COLUMNS]
    problems = []
    if repeated:
        problems.append(f"its header repeats column(s) {', '.join(repeated)}")
    if missing:
        problems.append(
            f"its header lacks column(s) {', '.join(missing)} (first line: {','.join(header)[:120]!r}; "
            "is the header line missing?)"
        )
    return " and ".join(problems) or None


def choose_rows(
    name: str, sources: Sequence[LookupSource], warnings: list[str] | None = None
) -> tuple[str, list[Row]]:
    """The first non-empty source's rows, and its label (empty label when none has rows). A CSV
    whose header cannot be read as this lookup is set aside with a warning (into `warnings`) and
    the next source is used: its rows would otherwise change the lookup silently."""
    for source in sources:
        rows = source.read()
        if not rows:
            continue
        header = rows[0].header
        problem = header_problem(name, header) if header is not None else None
        if problem is not None:
            if warnings is not None:
                warnings.append(
                    f"{source.label}: not used for {lookup_name(name)}: {problem}; the next source is used"
                )
            continue
        return source.label, rows
    return "", []


def _active(rows: Iterable[Row], name: str, warnings: list[str]) -> list[Row]:
    needed = COLUMNS[name]
    active = []
    for row in rows:
        missing = [column for column in needed if column not in row.values and column not in OPTIONAL_COLUMNS]
        if missing:
            # One bad row is one warning, never a failed search (a schemaless KV store record).
            lacks = ", ".join(missing)
            warnings.append(f"{row.where}: {lookup_name(name)} row skipped: lacks column(s) {lacks}")
            continue
        disabled = row.values.get("disabled", "").strip()
        if disabled:
            try:
                if parse_bool(disabled):
                    continue
            except ValueError:
                warnings.append(f"{row.where}: disabled={disabled!r} is not a boolean; row kept")
        active.append(row)
    return active


def _wildcards_only(pattern: str) -> bool:
    """A glob with no literal character: it matches every value (every path, every name)."""
    return bool(pattern) and all(ch in "*?/" for ch in pattern)


def catch_all(name: str, values: Mapping[str, str]) -> str | None:
    """Why a row would cover everything (every app, every destination, every path or every file),
    with the safer alternative, or None. One rule for every allowlist tab of the setup page, which
    refuses such a row; the contract still reads one written to a CSV or the KV store by hand."""
    app = (values.get("app_id") or "").strip()
    every_app = app in ("", "*")
    if name == "allowed_apps" and every_app:
        return "app_id '*' (or empty) would allowlist every app; name the app and its roles instead"
    if name == "allowed_destinations" and every_app:
        text = (values.get("destination") or "").strip()
        try:
            pattern = HostPattern.parse(text)
        except ValueError:
            return None
        broad = pattern.kind == "any" or (pattern.network is not None and pattern.network.prefixlen == 0)
        if broad:
            return (
                f"destination {text!r} for every app would allowlist every destination; name the vendor's "
                "exact host (or *.its-own-domain) and the app that uses it"
            )
        if pattern.kind == "suffix" and "." not in pattern.host:
            return (
                f"destination {text!r} for every app would allowlist a whole top-level domain; name the "
                "vendor's exact host (or *.its-own-domain) and the app that uses it"
            )
    if name == "allowed_paths" and every_app and _wildcards_only((values.get("path_pattern") or "").strip()):
        text = (values.get("path_pattern") or "").strip()
        return (
            f"path_pattern {text!r} for every app would allowlist every path; name the cache folder "
            "(e.g. /data/data/*/cache/<library>/**) and, if you can, the app"
        )
    if name == "file_risk_patterns" and _wildcards_only((values.get("pattern") or "").strip()):
        text = (values.get("pattern") or "").strip()
        return (
            f"pattern {text!r} would make every file risky; name the extension (*.ext), the MIME type "
            "or the folder"
        )
    return None


def _cell(row: Row, column: str) -> str:
    return (row.values.get(column) or "").strip()


def _platform(row: Row) -> str:
    value = _cell(row, "platform").lower()
    if value in ("", "*"):
        return "*"
    if value not in PLATFORMS:
        raise ValueError(f"platform {value!r} is not android, ios or *")
    return value


def _any(value: str) -> str:
    return "*" if value in ("", "*") else value


@dataclass(frozen=True)
class AllowedApp:
    platform: str
    app_id: str
    where: str


@dataclass(frozen=True)
class AllowedDestination:
    pattern: HostPattern
    app_id: str
    where: str


@dataclass(frozen=True)
class AllowedPath:
    platform: str
    app_id: str
    pattern: str
    regex: Glob
    where: str


@dataclass(frozen=True)
class RiskPattern:
    platform: str
    field: str
    pattern: str
    regex: Glob | None  # None for <noext>
    risk_class: str


@dataclass(frozen=True)
class BaselineEntry:
    app_id: str
    pattern: HostPattern
    first_seen: float | None


@dataclass(frozen=True)
class ManagedApp:
    platform: str
    app_id: str
    managed: bool
    approved: bool


@dataclass(frozen=True)
class InventoryRow:
    """A device's span at an address; or a lease span no managed device is known for (empty
    `device_id`, with the lease's `mac`), which says why a flow from it stays unresolved."""

    device_id: str
    platform: str | None
    ip: str | None
    user: str
    first_seen: float | None
    last_seen: float | None
    mac: str | None = None
    mac_randomized: bool = False  # a locally administered MAC that no MDM reports
    mac_devices: int | None = None  # devices the MDM reporting `mac` has with it (2+: ambiguous)

    def covers(self, time: float) -> bool:
        return (self.first_seen is None or self.first_seen <= time) and (
            self.last_seen is None or time <= self.last_seen
        )


def _roles(text: str) -> list[str]:
    return [role.strip() for role in text.split("|") if role.strip()]


@dataclass
class Lookups:
    """All seven lookups, typed. `sources` names where each came from; `warnings` the bad rows."""

    allowed_apps: list[AllowedApp] = field(default_factory=list)
    allowed_destinations: list[AllowedDestination] = field(default_factory=list)
    allowed_paths: list[AllowedPath] = field(default_factory=list)
    risk_patterns: list[RiskPattern] = field(default_factory=list)
    baseline: list[BaselineEntry] = field(default_factory=list)
    managed_apps: dict[tuple[str, str], ManagedApp] = field(default_factory=dict)
    inventory: list[InventoryRow] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_rows(
        cls, rows: Mapping[str, Sequence[Row]], sources: Mapping[str, str] | None = None
    ) -> Lookups:
        tables = cls(sources=dict(sources or {}))
        for name in LOOKUP_NAMES:
            for row in _active(rows.get(name, ()), name, tables.warnings):
                try:
                    tables._add(name, row)
                except ValueError as exc:
                    tables.warnings.append(f"{row.where}: {lookup_name(name)} row skipped: {exc}")
        return tables

    @classmethod
    def load(cls, sources: Mapping[str, Sequence[LookupSource]]) -> Lookups:
        chosen: dict[str, Sequence[Row]] = {}
        labels: dict[str, str] = {}
        header_warnings: list[str] = []
        for name in LOOKUP_NAMES:
            labels[name], chosen[name] = choose_rows(name, sources.get(name, ()), header_warnings)
        tables = cls.from_rows(chosen, labels)
        tables.warnings[:0] = header_warnings
        return tables

    def _add(self, name: str, row: Row) -> None:
        if name == "allowed_apps":
            app = _cell(row, "app_id")
            if app in ("", "*"):
                raise ValueError("app_id is empty or '*', which would allowlist every app")
            bad = [role for role in _roles(_cell(row, "roles")) if role not in ROLES]
            if bad:
                self.warnings.append(f"{row.where}: unknown role(s) {', '.join(bad)} ignored")
            self.allowed_apps.append(AllowedApp(_platform(row), app, row.where))
        elif name == "allowed_destinations":
            pattern = HostPattern.parse(_cell(row, "destination") or "")
            if not pattern.text:
                raise ValueError("destination is empty")
            self.allowed_destinations.append(
                AllowedDestination(pattern, _any(_cell(row, "app_id")), row.where)
            )
        elif name == "allowed_paths":
            text = _cell(row, "path_pattern")
            regex = compile_glob(text, case_sensitive=True)
            self.allowed_paths.append(
                AllowedPath(_platform(row), _any(_cell(row, "app_id")), text, regex, row.where)
            )
        elif name == "file_risk_patterns":
            fieldname = _cell(row, "field").lower()
            if fieldname not in RISK_FIELDS:
                raise ValueError(f"field {fieldname!r} is not one of {', '.join(RISK_FIELDS)}")
            risk_class = _cell(row, "risk_class").lower()
            if risk_class not in RISK_CLASSES:
                raise ValueError(f"risk_class {risk_class!r} is not one of {', '.join(RISK_CLASSES)}")
            text = _cell(row, "pattern")
            if text.lower() == NOEXT:
                if fieldname != "file_name":
                    raise ValueError("<noext> applies to file_name only")
                regex = None
            else:
                regex = compile_glob(text, case_sensitive=False)
            self.risk_patterns.append(RiskPattern(_platform(row), fieldname, text, regex, risk_class))
        elif name == "destination_baseline":
            text = _cell(row, "dest")
            if not text:
                raise ValueError("dest is empty")
            # Learned data, never a pattern: `*`, `*.suffix` or a CIDR would baseline every host.
            literal = HostPattern.parse(text) if text != "*" and not text.startswith("*.") else None
            if literal is None or not literal.is_literal:
                raise ValueError(f"dest {text!r} is not an exact host name or IP (baselines are literal)")
            first_seen = parse_optional_time(_cell(row, "first_seen"))
            self.baseline.append(BaselineEntry(_any(_cell(row, "app_id")), literal, first_seen))
        elif name == "managed_apps":
            app = _cell(row, "app_id")
            if not app:
                raise ValueError("app_id is empty")
            managed = parse_bool(_cell(row, "managed") or "false")
            roles = _roles(_cell(row, "approved_roles"))
            approved = [role for role in roles if role in ROLES]
            if len(approved) < len(roles):
                unknown = ", ".join(role for role in roles if role not in ROLES)
                self.warnings.append(f"{row.where}: unknown role(s) {unknown} ignored")
            platform = _platform(row)
            self.managed_apps[(platform, app)] = ManagedApp(platform, app, managed, bool(approved))
        elif name == "device_inventory":
            device = _cell(row, "device_id")
            mac = _cell(row, "mac").lower() or None
            ip_text = _cell(row, "ip")
            if not device and not (mac and ip_text):
                # Only a lease span (an address and its MAC) may lack the device: it explains why.
                raise ValueError("device_id is empty")
            platform = _platform(row)
            ip = normalize_host(ip_text) if ip_text else None
            if ip_text and ip is None:
                raise ValueError(f"ip {ip_text!r} does not parse")
            randomized = _cell(row, "mac_randomized")
            devices = _cell(row, "mac_devices")
            if devices and not devices.isdigit():
                raise ValueError(f"mac_devices {devices!r} is not a count")
            self.inventory.append(
                InventoryRow(
                    device,
                    None if platform == "*" else platform,
                    ip,
                    _cell(row, "user"),
                    parse_optional_time(_cell(row, "first_seen")),
                    parse_optional_time(_cell(row, "last_seen")),
                    mac,
                    parse_bool(randomized) if randomized else False,
                    int(devices) if devices else None,
                )
            )

    # Questions the rules ask -------------------------------------------------------------

    def inventory_by_ip(self, ip: str) -> list[InventoryRow]:
        """Inventory rows with this address, in file order (indexed once: one lookup per flow)."""
        return self._inventory_index()[0].get(ip, [])

    def inventory_of_device(self, device_id: str) -> list[InventoryRow]:
        return self._inventory_index()[1].get(device_id, [])

    def _inventory_index(self) -> tuple[dict[str, list[InventoryRow]], dict[str, list[InventoryRow]]]:
        # Built on first use and rebuilt if rows were added since (tests build lookups row by row).
        cached = self.__dict__.get("_inventory_cache")
        if cached is not None and cached[0] == len(self.inventory):
            return cached[1], cached[2]
        by_ip: dict[str, list[InventoryRow]] = {}
        by_device: dict[str, list[InventoryRow]] = {}
        for row in self.inventory:
            if row.ip is not None:
                by_ip.setdefault(row.ip, []).append(row)
            if row.device_id:
                by_device.setdefault(row.device_id, []).append(row)
        self.__dict__["_inventory_cache"] = (len(self.inventory), by_ip, by_device)
        return by_ip, by_device

    def managed_app(self, platform: str, app_id: str | None) -> ManagedApp | None:
        if app_id is None:
            return None
        return self.managed_apps.get((platform, app_id)) or self.managed_apps.get(("*", app_id))

    def allowed_app(self, platform: str, app_id: str | None) -> AllowedApp | None:
        if app_id is None:
            return None
        for row in self.allowed_apps:
            if row.app_id == app_id and row.platform in ("*", platform):
                return row
        return None
