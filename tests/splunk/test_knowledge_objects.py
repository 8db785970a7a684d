"""Static checks of the app's knowledge objects: collections, lookups, macros, saved searches.

No SPL can run here, so the searches are checked by reading them: every macro, lookup, collection
and command a search names exists, `$token$`s are fields the search emits, the dispatch window
covers the correlation window, and the rendered prefilter is the engine's declaration.
They read the confs in package/default (what the build copies into the app).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from mobile_ingress.engine.findings import FIELDS
from mobile_ingress.engine.lookups import COLUMNS
from mobile_ingress.normalize.attribution import COLUMNS as ATTRIBUTION_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "package" / "default"
LOOKUPS = ROOT / "package" / "lookups"


def read_conf(path: Path) -> dict[str, dict[str, str]]:
    """Stanzas of a .conf file: `#` comments, `key = value`, a trailing `\\` continues a line."""
    stanzas: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            name = stripped[1:-1]
            assert name not in stanzas, f"{path.name}: stanza [{name}] twice"
            current = stanzas[name] = {}
            continue
        assert current is not None, f"{path.name}: key outside a stanza: {line!r}"
        while line.endswith("\\") and i < len(lines):
            line = line[:-1] + "\n" + lines[i]
            i += 1
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not key = value: {line!r}"
        key = key.strip()
        assert key not in current, f"{path.name}: {key} twice in a stanza"
        current[key] = value.strip()
    return stanzas


def fields_list(stanza: dict[str, str]) -> list[str]:
    return [name.strip() for name in stanza["fields_list"].split(",")]


def test_every_contract_lookup_has_a_csv_and_a_kv_definition() -> None:
    transforms = read_conf(DEFAULT / "transforms.conf")
    for name, columns in COLUMNS.items():
        full = "mobile_ingress_" + name
        assert transforms[full]["filename"] == full + ".csv"
        kv = transforms[full + "_kv"]
        assert kv["external_type"] == "kvstore"
        assert kv["collection"] == full
        listed = [column for column in fields_list(kv) if column not in ("_key", "disabled")]
        # columns the builders keep beyond the contract's: when an inventory last reported each
        # app; a span's MAC and why it names no device (engine/lookups.py)
        bookkeeping = {
            "managed_apps": ["last_seen"],
            "device_inventory": [c for c in ATTRIBUTION_COLUMNS if c not in columns],
        }.get(name, [])
        assert listed == [*columns, *bookkeeping], full
    assert transforms["mobile_ingress_findings"]["collection"] == "mobile_ingress_findings"


def test_every_collection_a_lookup_names_exists_with_its_fields() -> None:
    transforms = read_conf(DEFAULT / "transforms.conf")
    collections = read_conf(DEFAULT / "collections.conf")
    for name, stanza in transforms.items():
        assert name.startswith("mobile_ingress_")
        if "collection" in stanza:
            collection = stanza["collection"]
            assert collection in collections, f"{name}: collection {collection} missing"
            declared = {key[len("field.") :] for key in collections[collection] if key.startswith("field.")}
            assert set(fields_list(stanza)) - {"_key"} <= declared, name
    assert set(collections) == {"mobile_ingress_" + name for name in COLUMNS} | {"mobile_ingress_findings"}


def test_every_lookup_file_exists() -> None:
    transforms = read_conf(DEFAULT / "transforms.conf")
    for name, stanza in transforms.items():
        if "filename" in stanza:
            assert (LOOKUPS / stanza["filename"]).is_file(), name


def test_the_findings_store_looks_up_an_accelerated_field() -> None:
    """Each run of the correlation looks every finding up by finding_id: without an index on it the
    KV store scans the whole collection per result."""
    import re as _re

    store = read_conf(DEFAULT / "macros.conf")["mobile_ingress_findings_store"]["definition"]
    looked_up = _re.match(r"lookup mobile_ingress_findings (\w+) OUTPUT", store)
    assert looked_up is not None
    accelerated = [
        json.loads(value)
        for key, value in read_conf(DEFAULT / "collections.conf")["mobile_ingress_findings"].items()
        if key.startswith("accelerated_fields.")
    ]
    assert {looked_up.group(1): 1} in accelerated


def test_findings_store_holds_every_finding_field() -> None:
    transforms = read_conf(DEFAULT / "transforms.conf")
    assert fields_list(transforms["mobile_ingress_findings"]) == ["_key", *FIELDS, "src", "dvc"]


def test_scalar_macros_equal_the_engine_defaults() -> None:
    from dataclasses import fields

    from mobile_ingress.engine.settings import Settings, parse_setting

    macros = read_conf(DEFAULT / "macros.conf")
    defaults = Settings()
    for item in fields(Settings):
        stanza = macros["mobile_ingress_" + item.name]
        assert "args" not in stanza
        assert parse_setting(item.name, stanza["definition"]) == getattr(defaults, item.name), item.name


def test_data_macros_constrain_index_and_sourcetype() -> None:
    macros = read_conf(DEFAULT / "macros.conf")
    for name in ("mobile_ingress_edr", "mobile_ingress_flow", "mobile_ingress_mdm"):
        definition = macros[name]["definition"]
        assert definition.startswith("(") and definition.endswith(")"), name
        assert "index=" in definition and "sourcetype=" in definition, name


def test_every_macro_is_prefixed() -> None:
    assert all(name.startswith("mobile_ingress_") for name in read_conf(DEFAULT / "macros.conf"))


# ------------------------------------------------------------------------ saved searches (static)

# Deliberate: the prefilter's SPL is imported from package/bin as the search command imports it there.
sys.path.insert(0, str(ROOT / "package" / "bin"))
import render_detections  # noqa: E402  (tools/, pytest's pythonpath)
from mobile_ingress_splunk.prefilter_spl import VENDOR_RETRIEVAL, glob_to_wildcard, prefilter_spl  # noqa: E402

from mobile_ingress.engine.findings import LIST_FIELDS  # noqa: E402

FINDING_FIELDS = frozenset(FIELDS) | {"src", "dvc"}
# The display fields `mobile_ingress_notable_fields` adds for the notable (single-valued, always set).
DISPLAY_FIELDS = frozenset({"app_label", "stages_text", "context_text"})
# Finding fields that can be empty (a retrieval-only finding has no file; a flow no user or URL):
# a notable token naming one would print `$field$` (ES leaves a missing field's token as it is).
OPTIONAL_FINDING_FIELDS = frozenset(
    {"user", "app_id", "dest_ip", "url", "bytes_in", "file_path", "file_hash", "file_type", "risk_class",
     "delta_seconds"}
)
# Splunk's own search commands the app's searches may use (Search Reference), plus commands.conf.
# (tests/lint checks every command and option against Splunk's own searchbnf.conf.)
_BUILTINS = """search where eval lookup inputlookup outputlookup stats eventstats streamstats tstats table
fields rename sort dedup fillnull append appendpipe return head tail rex convert bin makemv mvexpand spath
multisearch"""
BUILTIN_COMMANDS = frozenset(_BUILTINS.split())
MACRO = re.compile(r"`([^`(]+)(?:\(([^`]*)\))?`")
TOKEN = re.compile(r"\$([A-Za-z_][A-Za-z0-9_.]*)\$")


def saved() -> dict[str, dict[str, str]]:
    return read_conf(DEFAULT / "savedsearches.conf")


def expand(spl: str, macros: dict[str, dict[str, str]], depth: int = 0) -> str:
    """SPL with every macro expanded; a missing macro (or wrong argument count) fails."""
    assert depth < 10, "macro recursion"

    def one(match: re.Match[str]) -> str:
        name, args = match.group(1), match.group(2)
        count = len(args.split(",")) if args is not None else 0
        stanza_name = f"{name}({count})" if count else name
        assert stanza_name in macros, f"macro `{stanza_name}` is not in macros.conf"
        return expand(macros[stanza_name]["definition"], macros, depth + 1)

    return MACRO.sub(one, spl)


def unquoted(spl: str) -> str:
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', spl)


def commands_of(spl: str) -> list[tuple[str, list[str]]]:
    """(command, arguments) of every pipeline stage, subsearches included."""
    text = unquoted(spl)
    stages = re.split(r"\||\[", text)
    out = []
    for index, stage in enumerate(stages):
        words = stage.replace("]", " ").split()
        if not words:
            continue
        if index == 0 and not text.lstrip().startswith("|"):
            out.append(("search", words))  # the implicit search of a base search
            continue
        out.append((words[0].lower(), words[1:]))
    return out


def searches_of(stanza: dict[str, str]) -> list[str]:
    spl = [stanza["search"]]
    if "action.notable.param.drilldown_searches" in stanza:
        spl += [item["search"] for item in json.loads(stanza["action.notable.param.drilldown_searches"])]
    return spl


def test_rendered_confs_are_up_to_date() -> None:
    for path, text in render_detections.rendered().items():
        stale = f"run tools/render_detections.py: {path.name} is stale"
        assert path.read_text(encoding="utf-8") == text, stale


def test_every_detection_validates_against_the_schema() -> None:
    import jsonschema
    import yaml

    schema = json.loads((ROOT / "detections" / "schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    paths = sorted((ROOT / "detections").glob("*.yml"))
    assert paths
    for path in paths:
        jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)
    ids = [yaml.safe_load(p.read_text(encoding="utf-8"))["id"] for p in paths]
    assert len(set(ids)) == len(ids)


def test_every_macro_lookup_and_command_a_search_names_exists() -> None:
    macros = read_conf(DEFAULT / "macros.conf")
    transforms = read_conf(DEFAULT / "transforms.conf")
    custom = set(read_conf(DEFAULT / "commands.conf"))
    for name, stanza in saved().items():
        for spl in searches_of(stanza):
            for command, args in commands_of(expand(spl, macros)):
                known = command in BUILTIN_COMMANDS or command in custom
                assert known, f"{name}: unknown command {command}"
                if command in ("lookup", "inputlookup", "outputlookup"):
                    table = next(a for a in args if "=" not in a)
                    assert table in transforms, f"{name}: lookup {table} is not in transforms.conf"


def correlation_detections() -> list[dict[str, Any]]:
    return [d for d in render_detections.load_detections() if d.get("kind", "correlation") == "correlation"]


def test_filter_macro_per_detection_and_findings_store() -> None:
    macros = read_conf(DEFAULT / "macros.conf")
    stanzas = saved()
    for detection in correlation_detections():
        name = detection["name"]
        assert name.startswith("mobile_ingress_")
        assert macros[f"{name}_filter"]["definition"] == "search *"
        tail = f"| `{name}_filter` | `mobile_ingress_findings_store` | `mobile_ingress_notable_fields`"
        assert stanzas[detection["label"]]["search"].endswith(tail)
    store = expand("`mobile_ingress_findings_store`", macros)
    assert "outputlookup append=true key_field=finding_id mobile_ingress_findings" in store


def test_a_correlation_search_is_named_as_es_8_lists_detections() -> None:
    """ES 8 lists only detections whose name ends in ' - Rule' (at most 99 characters)."""
    for detection in correlation_detections():
        label = detection["label"]
        assert label.endswith(" - Rule") and len(label) <= 99
        stanza = saved()[label]
        assert stanza["action.correlationsearch.label"] == label
        assert stanza["action.correlationsearch.detection_type"] == "ebd"
        metadata = json.loads(stanza["action.correlationsearch.metadata"])
        assert set(metadata) == {"detection_id", "detection_version", "publish_time", "deprecated"}
        entities = json.loads(stanza["action.notable.param._entities"])
        device = {"risk_object_field": "device_id", "risk_object_type": "system", "risk_score": 50}
        assert entities == [device]


def test_tokens_in_notable_and_risk_messages_are_single_valued_fields_every_finding_has() -> None:
    correlation = [s for s in saved().values() if "action.correlationsearch.enabled" in s]
    assert len(correlation) == 1
    always = (FINDING_FIELDS - OPTIONAL_FINDING_FIELDS - set(LIST_FIELDS)) | DISPLAY_FIELDS
    for stanza in correlation:
        for key in ("action.notable.param.rule_title", "action.notable.param.rule_description",
                    "action.risk.param._risk_message"):  # fmt: skip
            tokens = set(TOKEN.findall(stanza[key]))
            assert tokens and tokens <= always, (key, tokens - always)
        assert "$" not in stanza["action.notable.param.next_steps"]  # ES: plain text there
        for item in json.loads(stanza["action.notable.param.drilldown_searches"]):
            tokens = set(TOKEN.findall(item["name"] + item["search"]))
            assert tokens == {"finding_id"}, tokens  # single-valued; the SPL expands the rest
        risk = json.loads(stanza["action.risk.param._risk"])
        assert risk[0]["risk_object_field"] == "device_id" and risk[0]["risk_object_type"] == "system"
        threats = {item["threat_object_field"] for item in risk[1:]}
        assert threats == {"dest", "url", "file_hash", "file_path"} and threats <= FINDING_FIELDS


def test_the_display_fields_are_made_by_the_notable_fields_macro() -> None:
    definition = read_conf(DEFAULT / "macros.conf")["mobile_ingress_notable_fields"]["definition"]
    for name in DISPLAY_FIELDS:
        assert f"{name}=coalesce(" in definition, name


def test_findings_store_keeps_stages_and_context_in_contract_order() -> None:
    """The union of two sightings is put back in the contract's order (section 4), as the engine's
    own merge does, so a merged row reads the same as a finding the command line prints."""
    from mobile_ingress.engine.findings import CONTEXTS, STAGES

    store = expand("`mobile_ingress_findings_store`", read_conf(DEFAULT / "macros.conf"))
    for field, order in (("stages", STAGES), ("context", CONTEXTS)):
        union = store.index(f"{field}=mvdedup(mvappend({field}, prev_{field}))")
        reorder = f"{field}=mvappend(" + ", ".join(f'mvfilter({field}=="{v}")' for v in order) + ")"
        assert reorder in store and store.index(reorder) > union, field


def test_risk_is_scored_by_the_findings_risk_score_field() -> None:
    """ES's risk action takes a result's `risk_score` field over the static score: the field must
    survive to the end of the search, after the findings store merged it with earlier sightings."""
    import yaml

    macros = read_conf(DEFAULT / "macros.conf")
    store = expand("`mobile_ingress_findings_store`", macros)
    kept_to_the_end = store.rsplit("|", 2)
    assert "risk_score=max(" in store
    assert not any("risk_score" in stage and "fields -" in stage for stage in kept_to_the_end)
    for path in sorted((ROOT / "detections").glob("*.yml")):
        detection = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "risk" in detection:
            assert detection["risk"]["score_field"] == "risk_score", path.name
            assert 0 < detection["risk"]["default_score"] <= 100, path.name


def test_es_annotations_name_the_technique_and_analytics() -> None:
    analytics = set()
    for stanza in saved().values():
        if "action.correlationsearch.enabled" not in stanza:
            continue
        annotations = json.loads(stanza["action.correlationsearch.annotations"])
        assert annotations["mitre_attack"] == ["T1544"]
        assert annotations["detection_strategy"] == ["DET0718"]
        analytics.update(annotations["analytic"])
        assert stanza["action.notable.param.security_domain"] == "endpoint"
        for option in ("time_window", "ingress_bytes_threshold", "foreground_state_required", "clock_skew"):
            assert f"{option}=`mobile_ingress_{option}`" in stanza["search"]
    assert analytics == {"AN1848", "AN1849"}


def test_the_correlation_runs_once_for_every_analytic() -> None:
    """One run of ingresscorrelate over the window raises the findings of both analytics: no
    search repeats the correlation to keep one analytic's rows."""
    macros = read_conf(DEFAULT / "macros.conf")
    runs = [n for n, stanza in saved().items() if "ingresscorrelate" in expand(stanza["search"], macros)]
    assert len(runs) == 1, runs
    assert "analytic_id=" not in saved()[runs[0]]["search"]


UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def relative_seconds(text: str) -> tuple[int, int]:
    """(offset before now, snap unit) of `-45m@m` / `now`."""
    if text == "now":
        return 0, 0
    match = re.fullmatch(r"-(\d+)([smhd])(?:@([smhd]))?", text)
    assert match, text
    return int(match.group(1)) * UNITS[match.group(2)], UNITS[match.group(3)] if match.group(3) else 0


def cron_interval(cron: str) -> int:
    minute, hour = cron.split()[:2]
    if minute.startswith("*/") and hour == "*":
        return int(minute[2:]) * 60
    if minute.isdigit() and hour == "*":
        return 3600
    if minute.isdigit() and hour.startswith("*/"):
        return int(hour[2:]) * 3600
    if minute.isdigit() and hour.isdigit():
        return 86400
    raise AssertionError(f"cron {cron!r}: interval not understood")


def test_dispatch_window_covers_correlation_window_skew_interval_and_ingest_lag() -> None:
    """earliest >= time_window + clock_skew + interval + max(latest with its snap, ingest lag):
    a chain whose last event is indexed the ingest lag after its time is whole in one run
    (mobile_ingress_splunk/setup_window.py)."""
    from mobile_ingress.engine.settings import parse_setting

    macros = read_conf(DEFAULT / "macros.conf")
    window = float(parse_setting("time_window", macros["mobile_ingress_time_window"]["definition"]))  # type: ignore[arg-type]
    skew = float(parse_setting("clock_skew", macros["mobile_ingress_clock_skew"]["definition"]))  # type: ignore[arg-type]
    lag = float(macros["mobile_ingress_ingest_lag_seconds"]["definition"])
    assert lag >= 3600 + 300, "the Android Management API is pulled hourly"
    checked = 0
    for name, stanza in saved().items():
        if "action.correlationsearch.enabled" not in stanza:
            continue
        earliest, _ = relative_seconds(stanza["dispatch.earliest_time"])
        latest, snap_l = relative_seconds(stanza["dispatch.latest_time"])
        assert latest > 0, f"{name}: no ingest lag"
        need = window + skew + cron_interval(stanza["cron_schedule"]) + max(latest + snap_l, lag)
        assert earliest >= need, f"{name}: dispatch earliest {earliest}s < {need}s"
        checked += 1
    assert checked


def test_prefilter_macro_is_rendered_at_search_time_from_the_lookups_in_force() -> None:
    macros = read_conf(DEFAULT / "macros.conf")
    assert macros["mobile_ingress_prefilter"]["definition"] == "[| ingressprefilter]"
    assert "ingressprefilter" in read_conf(DEFAULT / "commands.conf")
    correlation = expand("`mobile_ingress_correlation_events`", macros)
    assert "[| ingressprefilter]" in correlation


def test_the_prefilter_rendering_is_the_engine_declaration() -> None:
    description = render_detections_shipped_prefilter()
    definition = prefilter_spl(description)
    assert f"activity IN ({', '.join(description['always_kept_activities'])})" in definition
    for name in description["context_fields"]:
        assert f"{name}=*" in definition
    for platform, by_field in description["file_create_risk_patterns"].items():
        clause = definition[definition.index(f"(platform={platform} ") :]
        for field_name, patterns in by_field.items():
            for pattern in patterns:
                wildcard = glob_to_wildcard(field_name, pattern)
                if wildcard is not None:
                    assert f'"{wildcard}"' in clause.split("(platform=")[1], (platform, pattern)
    assert definition.endswith(f" OR activity=retrieval OR {VENDOR_RETRIEVAL})")


def render_detections_shipped_prefilter() -> dict[str, Any]:
    """`Prefilter.describe()` over the shipped lookups and the default settings."""
    from mobile_ingress.engine.lookups import LOOKUP_NAMES, Lookups, csv_file_source, lookup_name
    from mobile_ingress.engine.prefilter import Prefilter
    from mobile_ingress.engine.rules import Rules
    from mobile_ingress.engine.settings import Settings

    sources = {name: [csv_file_source(str(LOOKUPS / f"{lookup_name(name)}.csv"))] for name in LOOKUP_NAMES}
    return Prefilter.build(Rules(Lookups.load(sources), Settings())).describe()


def test_the_correlation_passes_the_warmup_gate_and_baselines_merge_into_the_baseline() -> None:
    macros = read_conf(DEFAULT / "macros.conf")
    kinds: dict[str, int] = {}
    for detection in render_detections.load_detections():
        kind = detection.get("kind", "correlation")
        kinds[kind] = kinds.get(kind, 0) + 1
        stanza = saved()[render_detections.stanza_name(detection)]
        if kind == "correlation":
            assert "warmup_days=`mobile_ingress_baseline_warmup_days`" in stanza["search"]
        elif kind == "baseline":
            expanded = expand(stanza["search"], macros)
            end = "| outputlookup override_if_empty=false mobile_ingress_destination_baseline_kv"
            assert expanded.endswith(end), detection["name"]
            assert "inputlookup append=true mobile_ingress_destination_baseline_kv" in expanded
            assert "action.notable" not in stanza and "action.risk" not in stanza
    assert kinds == {"correlation": 1, "baseline": 2, "lookup_builder": 2, "maintenance": 1}
    assert int(macros["mobile_ingress_baseline_warmup_days"]["definition"]) >= 0
    assert int(macros["mobile_ingress_baseline_forget_days"]["definition"]) > 0


def test_the_initial_baseline_runs_once_by_hand() -> None:
    """It used to be scheduled weekly while documented as run once: each run reset the history."""
    stanza = saved()["mobile_ingress_destination_baseline_initial"]
    assert stanza["enableSched"] == "0" and "cron_schedule" not in stanza


# -------------------------------------------- the rendered prefilter is never tighter than the engine


def spl_like(pattern: str, value: str) -> bool:
    """SPL search wildcard semantics: `*` matches anything (`/` included), case-insensitive."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL) is not None


def spl_keeps(record: dict[str, object], description: dict[str, Any]) -> bool:
    """What `mobile_ingress_prefilter` keeps, evaluated clause by clause as Splunk would."""
    present = {k: str(v) for k, v in record.items() if v is not None and str(v) != ""}
    activity = present.get("activity", "").lower()
    if activity in description["always_kept_activities"] or activity == "retrieval":
        return True
    if any(name in present for name in description["context_fields"]):
        return True
    if activity != "file_create":
        return False
    for platform, by_field in description["file_create_risk_patterns"].items():
        if platform != "*" and present.get("platform", "").lower() != platform:
            continue
        if "file_name" in by_field and "file_name" not in present:
            return True
        for field_name, patterns in by_field.items():
            value = present.get(field_name)
            if value is None:
                continue
            for pattern in patterns:
                wildcard = glob_to_wildcard(field_name, pattern)
                if wildcard is None:
                    if value.startswith(".") or not spl_like("*.*", value):
                        return True
                elif spl_like(wildcard, value):
                    return True
    return False


CRAFTED: list[dict[str, object]] = [
    {
        "activity": "file_create",
        "platform": "Android",
        "file_path": "/sdcard/Download/X.APK",
        "app_id": "a.b",
    },
    {
        "activity": "file_create",
        "platform": "android",
        "file_path": "/data/user/0/a.b/cache/p",
        "file_name": "p",
        "file_size": 90000,
        "app_id": "a.b",
    },
    {
        "activity": "file_create",
        "platform": "android",
        "file_path": "/data/data/a.b/files/u.bin",
        "file_name": "u.bin",
        "file_type": "application/vnd.android.package-archive; charset=binary",
        "app_id": "a.b",
    },
    {
        "activity": "file_create",
        "platform": "ios",
        "app_id": "com.x",
        "file_path": "file:///var/mobile/Containers/Data/Application/U/Library/x.framework/x",
    },
    {
        "activity": "file_create",
        "platform": "ios",
        "app_id": "com.x",
        "file_name": ".hidden",
        "file_path": "/private/var/mobile/Containers/Data/Application/U/tmp/.hidden",
        "file_size": 10**6,
    },
    {
        "activity": "file_create",
        "platform": "ios",
        "app_id": "com.x",
        "file_type": "Mach-O 64-bit arm64",
        "file_path": "/private/var/mobile/Containers/Data/Application/U/tmp/blob.dat",
    },
    {
        "activity": "file_create",
        "platform": "android",
        "app_id": "a.b",
        "file_name": "notes.txt",
        "file_path": "/data/data/a.b/files/notes.txt",
        "file_type": "text/plain",
    },
]


def test_rendered_prefilter_keeps_every_event_the_engine_keeps(events: list[dict[str, object]]) -> None:
    from mobile_ingress.engine.errors import InvalidEvent
    from mobile_ingress.engine.events import normalize_record
    from mobile_ingress.engine.lookups import LOOKUP_NAMES, Lookups, csv_file_source, lookup_name
    from mobile_ingress.engine.prefilter import Prefilter
    from mobile_ingress.engine.rules import Rules
    from mobile_ingress.engine.settings import Settings

    sources = {name: [csv_file_source(str(LOOKUPS / f"{lookup_name(name)}.csv"))] for name in LOOKUP_NAMES}
    lookups = Lookups.load(sources)
    prefilter = Prefilter.build(Rules(lookups, Settings()))
    description = prefilter.describe()
    kept = dropped = 0
    for index, record in enumerate([*events, *CRAFTED]):
        record = {"_time": 1_700_000_000 + index, "device_id": "d1", **record}
        try:
            event, _ = normalize_record(record, lookups)
        except InvalidEvent:
            continue
        if prefilter.matters(event):
            kept += 1
            assert spl_keeps(record, description), record
        else:
            dropped += 1
    assert kept and dropped
    # Not vacuous: the rendered filter does drop a file_create that matches no risk pattern.
    assert not spl_keeps(CRAFTED[-1], description)


def test_the_built_app_ships_these_confs_and_lookups() -> None:
    """The checks above read package/; the build copies them unchanged (run `make package` first)."""
    built = ROOT / "output" / "TA-mobile-ingress"
    assert built.is_dir(), "the built app is missing: run `make package inspect` first"
    for name in ("collections.conf", "transforms.conf", "macros.conf", "savedsearches.conf", "commands.conf"):
        assert (built / "default" / name).read_bytes() == (DEFAULT / name).read_bytes(), name
    for path in LOOKUPS.glob("*.csv"):
        assert (built / "lookups" / path.name).read_bytes() == path.read_bytes(), path.name
