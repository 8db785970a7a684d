"""Render the mappings into Splunk confs: props.conf, eventtypes.conf, tags.conf, the join and
contract-field macros, and the field tables of docs/data.md. tools/render_normalization.py writes
them; tests check the committed files are up to date.

A sourcetype whose CIM fields another add-on owns (`cim_owner`: the Splunk Add-on for Zeek, the
Suricata add-on) gets only `mobile_ingress_*` classes and fields from us: Splunk merges the props
stanzas of every app, and for one class name the app that sorts first wins, so reusing the
vendor's names (`EVAL-url`, `FIELDALIAS-...AS src`) would make either definition win depending on
the app a search runs in. The macro `mobile_ingress_contract_fields` gives the contract names back
to those events inside the correlation searches."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping as MappingABC
from pathlib import Path

from .expr import Const, Field, is_reserved, spl_field, spl_string, to_spl
from .model import (
    CONTRACT_FIELDS,
    NAMESPACE_PREFIX,
    AsofJoin,
    FieldClass,
    Join,
    JoinSource,
    Output,
    SourcetypeMapping,
)

HEADER = (
    "# rendered by tools/render_normalization.py from src/mobile_ingress/normalize/mappings — do not edit"
)
MACROS_BEGIN = "# ---- rendered by tools/render_normalization.py from the mappings — begin ----"
MACROS_END = "# ---- rendered by tools/render_normalization.py — end ----"
DOCS_BEGIN = "<!-- rendered by tools/render_normalization.py: field tables — do not edit below -->"
DOCS_END = "<!-- end of the rendered field tables -->"
JOIN_MACRO = "mobile_ingress_flow_join"
JOIN_SOURCES_MACRO = "mobile_ingress_flow_join_sources"
CONTRACT_MACRO = "mobile_ingress_contract_fields"
NORMALIZE_MACRO = "mobile_ingress_normalize"
ASOF_MACRO = "mobile_ingress_asof_join"
ASOF_TARGET = "mobile_ingress_asof_target"
ASOF_SOURCE = "mobile_ingress_asof_source"
ASOF_VALUE = "mobile_ingress_asof_value"
ASOF_KEY = "mobile_ingress_asof_key"
JOIN_TARGET = "mobile_ingress_join_target"
JOIN_SOURCE = "mobile_ingress_join_source"
JOIN_KEY = "mobile_ingress_join_key"
# The join key of an event that is neither a join target nor a source: `mvexpand` is documented
# only "for each result with the specified field", so every event gets a key to keep it.
NO_JOIN_KEY = "-"


def join_value_field(name: str) -> str:
    return f"mobile_ingress_join_{name}"


def namespaced(name: str) -> str:
    """The field a vendor-owned sourcetype's props give for contract field NAME."""
    return NAMESPACE_PREFIX + name


def vendor_owned(mappings: MappingABC[str, SourcetypeMapping]) -> list[SourcetypeMapping]:
    return [m for _, m in sorted(mappings.items()) if m.cim_owner is not None]


def _where_spl(terms: Iterable[tuple[str, str]]) -> str:
    return " AND ".join(f"{spl_field(name)}=={spl_string(value)}" for name, value in terms)


def _keyed(namespace: str, key_spl: str) -> str:
    return f"{spl_string(namespace + ':')} . {key_spl}"


def _alias_source(output: Output) -> str:
    assert isinstance(output.expr, Field)
    return output.expr.name


def props_settings(
    mapping: SourcetypeMapping, mappings: MappingABC[str, SourcetypeMapping]
) -> list[tuple[str, str]]:
    """(key, value) pairs of the sourcetype's props.conf stanza, in a stable order."""
    stamp = mapping.timestamp
    # The raw text names a nested field by its last key (`general.lastInventoryUpdateDate`).
    keys = [name.rsplit(".", 1)[-1] for name in stamp.fields]
    key = keys[0] if len(keys) == 1 else f"(?:{'|'.join(keys)})"
    prefix = f'"{key}"\\s*:\\s*' + ('"' if stamp.is_string else "")
    settings = [
        ("SHOULD_LINEMERGE", "false"),
        ("LINE_BREAKER", "([\\r\\n]+)"),
        ("TRUNCATE", str(mapping.max_event_bytes)),
        ("KV_MODE", "json"),
        ("TIME_PREFIX", prefix),
        ("TIME_FORMAT", stamp.time_format),
        ("MAX_TIMESTAMP_LOOKAHEAD", "40"),
    ]
    if not stamp.reads_zone:
        # A TIME_FORMAT without a zone (the one that reads any number of fraction digits) takes
        # the zone from TZ: these sources write UTC only (props.conf.spec, TZ).
        settings.append(("TZ", "UTC"))
    settings += _vendor_settings(mapping) if mapping.cim_owner is not None else _own_settings(mapping)
    settings += _join_settings(mapping, mappings)
    settings += _asof_settings(mapping)
    return settings


def _asof_parts(namespace: str, parts: tuple[object, ...]) -> str:
    """`"ns:" . p1 . "|" . p2 ...`: null when any part is (SPL `.` with a null is null)."""
    pieces = [to_spl(part) for part in parts]  # type: ignore[arg-type]
    return f"{spl_string(namespace + ':')} . " + ' . "|" . '.join(pieces)


def asof_source_key_spl(join: AsofJoin) -> str:
    """The source's keys: with a multivalue last part, one per value (mvmap, the field's name
    standing for each value, as for the flow join's multivalue key)."""
    keyed = _asof_parts(join.namespace, join.source_key)
    if join.multivalue:
        return f"mvmap({to_spl(join.source_key[-1])}, {keyed})"
    return keyed


def _asof_settings(mapping: SourcetypeMapping) -> list[tuple[str, str]]:
    join = mapping.asof_join
    activity = mapping.output("activity")
    if join is None or activity is None:
        return []
    condition = _where_spl(join.where)
    return [
        (
            f"EVAL-{ASOF_TARGET}",
            f"if(isnotnull({to_spl(activity.expr)}), {_asof_parts(join.namespace, join.key)}, null())",
        ),
        (f"EVAL-{ASOF_SOURCE}", f"if({condition}, {asof_source_key_spl(join)}, null())"),
        (f"EVAL-{ASOF_VALUE}", f"if({condition}, {to_spl(join.value)}, null())"),
    ]


def _own_settings(mapping: SourcetypeMapping) -> list[tuple[str, str]]:
    """Every output under its own name: the contract fields and the CIM fields."""
    settings = []
    for output in mapping.outputs:
        kind = output.field_class
        if kind == FieldClass.ALIAS:
            settings.append(
                (f"FIELDALIAS-{namespaced(output.name)}", f"{_alias_source(output)} AS {output.name}")
            )
        elif kind == FieldClass.EVAL:
            settings.append((f"EVAL-{output.name}", to_spl(output.expr)))
    return settings


def _vendor_settings(mapping: SourcetypeMapping) -> list[tuple[str, str]]:
    """Only the contract and lease fields, each as `mobile_ingress_<name>` (class and field): the
    CIM fields of the sourcetype are the vendor add-on's."""
    settings = []
    for output in mapping.namespaced_outputs:
        target = namespaced(output.name)
        expr = output.expr
        if isinstance(expr, Field) and "{}" not in expr.name and not is_reserved(expr.name):
            settings.append((f"FIELDALIAS-{target}", f"{expr.name} AS {target}"))
        else:
            settings.append((f"EVAL-{target}", to_spl(expr)))
    return settings


def source_key_spl(namespace: str, source: JoinSource) -> str:
    """The namespaced key of a join source; a multivalue key is namespaced value by value with
    mvmap, which evaluates its expression once per value of the field, the field's name standing
    for the value (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/evaluation-functions/multivalue-eval-functions)."""
    key = to_spl(source.key)
    if source.multivalue:
        return f"mvmap({key}, {_keyed(namespace, key)})"
    return _keyed(namespace, key)


def _join_settings(
    mapping: SourcetypeMapping, mappings: MappingABC[str, SourcetypeMapping]
) -> list[tuple[str, str]]:
    settings = []
    join = mapping.join
    activity = mapping.output("activity")
    if join is not None and activity is not None:
        key = _keyed(join.namespace, to_spl(join.key))
        settings.append((f"EVAL-{JOIN_TARGET}", f"if(isnotnull({to_spl(activity.expr)}), {key}, null())"))
    for other in mappings.values():
        if other.join is None or other.join.source.sourcetype != mapping.sourcetype:
            continue
        source = other.join.source
        condition = _where_spl(source.where)

        def guarded(spl: str, condition: str = condition) -> str:
            return f"if({condition}, {spl}, null())" if condition else spl

        settings.append((f"EVAL-{JOIN_SOURCE}", guarded(source_key_spl(other.join.namespace, source))))
        for name in other.join.fill:
            output = mapping.output(name)
            assert output is not None  # the loader checked it
            settings.append((f"EVAL-{join_value_field(name)}", guarded(to_spl(output.expr))))
    return settings


def render_props(mappings: MappingABC[str, SourcetypeMapping]) -> str:
    out = [
        HEADER,
        "#",
        "# One stanza per supported sourcetype: line breaking and timestamps (index time: deploy this",
        "# app to the indexers or heavy forwarders too), JSON fields at search time, and the aliases and",
        "# calculated fields that give the detection contract's fields and the CIM fields. A sourcetype",
        "# whose CIM fields a vendor add-on owns gets only mobile_ingress_* fields here (its contract",
        "# fields, which the macro mobile_ingress_contract_fields renames). See docs/data.md.",
    ]
    for sourcetype in sorted(mappings):
        mapping = mappings[sourcetype]
        out += ["", f"# {mapping.title}: {Path(mapping.path).name}"]
        if mapping.cim_owner is not None:
            out.append(f"# CIM fields and eventtypes: {mapping.cim_owner}.")
        out.append(f"[{sourcetype}]")
        out += [f"{key} = {value}" for key, value in props_settings(mapping, mappings)]
    return "\n".join(out) + "\n"


def eventtype_search(mapping: SourcetypeMapping, where: Iterable[tuple[str, str]]) -> str:
    terms = [f"sourcetype={spl_string(mapping.sourcetype)}"]
    terms += [f"{name}={spl_string(value)}" for name, value in where]
    return " ".join(terms)


def render_eventtypes(mappings: MappingABC[str, SourcetypeMapping]) -> str:
    out = [HEADER, "# CIM eventtypes of the supported sourcetypes (tags in tags.conf)."]
    for sourcetype in sorted(mappings):
        mapping = mappings[sourcetype]
        for item in mapping.cim:
            out += [
                "",
                f"[{item.name}]",
                f"search = {eventtype_search(mapping, item.where)}",
                f"description = {item.description} (CIM {item.data_set})",
            ]
    return "\n".join(out) + "\n"


def render_tags(mappings: MappingABC[str, SourcetypeMapping]) -> str:
    out = [HEADER, "# Tags that put each eventtype in its CIM data set."]
    for sourcetype in sorted(mappings):
        for item in mappings[sourcetype].cim:
            out += ["", f"[eventtype={item.name}]"]
            out += [f"{tag} = enabled" for tag in item.tags]
    return "\n".join(out) + "\n"


def joins(mappings: MappingABC[str, SourcetypeMapping]) -> list[Join]:
    return [m.join for _, m in sorted(mappings.items()) if m.join is not None]


def join_macro(mappings: MappingABC[str, SourcetypeMapping]) -> str:
    """The SPL twin of the Python join: events of one transfer share a key; a detection event
    missing a filled field takes the first value (in sort order) of its join sources; the join
    sources, which carry no activity, then leave the results.

    A source may have several keys (Zeek http.log's file ids): `mvexpand` first gives it one row
    per key, because `eventstats ... BY` a multivalue field has no per-event meaning the search
    reference documents. Events with no key get a placeholder so that `mvexpand` keeps them."""
    fill: list[str] = []
    for join in joins(mappings):
        fill += [name for name in join.fill if name not in fill]
    if not fill:
        return "search *"
    stats = ", ".join(f"values({join_value_field(n)}) AS mobile_ingress_joined_{n}" for n in fill)
    evals = ", ".join(
        f"{n}=if(isnotnull({JOIN_TARGET}) AND isnull({n}), mvindex(mobile_ingress_joined_{n}, 0), {n})"
        for n in fill
    )
    return (
        f"eval {JOIN_KEY}=coalesce({JOIN_TARGET}, {JOIN_SOURCE}, {spl_string(NO_JOIN_KEY)})"
        f" | mvexpand {JOIN_KEY}"
        f" | eventstats {stats} BY {JOIN_KEY}"
        f" | eval {evals}"
        " | where isnotnull(activity)"
        " | fields - mobile_ingress_join*"
    )


def asof_joins(mappings: MappingABC[str, SourcetypeMapping]) -> list[AsofJoin]:
    return [m.asof_join for _, m in sorted(mappings.items()) if m.asof_join is not None]


def asof_macro(mappings: MappingABC[str, SourcetypeMapping]) -> str:
    """The SPL twin of AsofIndex: each key's (time in ms, value) pairs of its sources, sorted as
    text (`values`), and for a detection event the last pair at or before it.

    Every event gets a key (a placeholder when it has none) so `mvexpand` keeps it; the sources
    (no activity) leave the results with the flow join's `where isnotnull(activity)`. Times are
    `round(_time * 1000)`: 13 digits from 2001 to 2286, so text order is time order."""
    joins = asof_joins(mappings)
    if not joins:
        return "search *"
    fills = sorted({j.fill for j in joins})
    if len(fills) != 1:
        raise ValueError("the as-of joins must fill one field")  # the loader's mappings fill dest
    fill = fills[0]
    marks: dict[str, str] = {}
    for join in joins:
        marks.update(dict(join.mark))
    pair = "mobile_ingress_asof_pair"
    pairs = "mobile_ingress_asof_pairs"
    found = "mobile_ingress_asof_found"
    before = (
        f'mvmap({pairs}, if(tonumber(mvindex(split({pairs}, "|"), 0)) <= round(_time * 1000),'
        f" {pairs}, null()))"
    )
    sets = [f'{fill}=if(isnotnull({found}), mvindex(split({found}, "|"), 1), {fill})']
    sets += [f"{name}=if(isnotnull({found}), {spl_string(value)}, {name})" for name, value in marks.items()]
    return (
        f"eval {ASOF_KEY}=coalesce({ASOF_TARGET}, {ASOF_SOURCE}, {spl_string(NO_JOIN_KEY)})"
        f" | mvexpand {ASOF_KEY}"
        f' | eval {pair}=if(isnotnull({ASOF_VALUE}), round(_time * 1000) . "|" . {ASOF_VALUE}, null())'
        f" | eventstats values({pair}) AS {pairs} BY {ASOF_KEY}"
        f" | eval {found}=if(isnotnull({ASOF_TARGET}), mvindex({before}, -1), null())"
        f" | eval {', '.join(sets)}"
        " | fields - mobile_ingress_asof*"
    )


def contract_field_names(mappings: MappingABC[str, SourcetypeMapping]) -> list[str]:
    """The contract fields any vendor-owned mapping outputs, in contract order."""
    owned = vendor_owned(mappings)
    return [name for name in CONTRACT_FIELDS if any(m.output(name) is not None for m in owned)]


def contract_macro(mappings: MappingABC[str, SourcetypeMapping]) -> str:
    """Give vendor-owned events their contract fields back from `mobile_ingress_<name>`. Every
    listed field of such an event is ours (null when our mapping gives none), so a value the
    vendor add-on sets under a contract name never reaches the engine, and `--raw` (which computes
    the contract names directly) gives the same."""
    owned = vendor_owned(mappings)
    names = contract_field_names(mappings)
    if not names:
        return "search *"
    sourcetypes = ", ".join(spl_string(m.sourcetype) for m in owned)
    assignments = ", ".join(f"{n}=if(in(sourcetype, {sourcetypes}), {namespaced(n)}, {n})" for n in names)
    return f"eval {assignments}"


def render_macros_section(mappings: MappingABC[str, SourcetypeMapping]) -> str:
    described = "; ".join(
        f"{m.sourcetype} takes {', '.join(m.join.fill)} from {m.join.source.sourcetype}"
        for _, m in sorted(mappings.items())
        if m.join is not None
    )
    by_owner: dict[str, list[str]] = {}
    for m in vendor_owned(mappings):
        by_owner.setdefault(str(m.cim_owner), []).append(m.sourcetype)
    owners = "; ".join(f"{owner}: {', '.join(sts)}" for owner, sts in by_owner.items())
    asof_described = (
        "; ".join(
            f"{m.sourcetype} takes {m.asof_join.fill} from its {_where_text(m.asof_join.where)} events"
            for _, m in sorted(mappings.items())
            if m.asof_join is not None
        )
        or "none"
    )
    return "\n".join(
        [
            MACROS_BEGIN,
            "# Normalization that props cannot do (declared in the mappings): the contract names of the",
            "# sourcetypes whose CIM fields a vendor add-on owns, and the joins of two events. The",
            "# correlation searches run `mobile_ingress_normalize` right after the base search;",
            "# `mobile-ingress --raw` does the same in Python.",
            "",
            f"[{JOIN_SOURCES_MACRO}]",
            f"definition = {sources_macro(mappings)}",
            "description = The events a join reads (they carry no activity): the correlation searches"
            " add them to the base search so the join can see them.",
            "",
            f"[{CONTRACT_MACRO}]",
            f"definition = {contract_macro(mappings)}",
            "description = Gives the events of vendor-owned sourcetypes their contract fields from the"
            f" mobile_ingress_* fields of this app's props ({owners}).",
            "",
            f"[{ASOF_MACRO}]",
            f"definition = {asof_macro(mappings)}",
            "description = Names the destination of detection events from the latest earlier event"
            f" that answered for their address: {asof_described}.",
            "",
            f"[{JOIN_MACRO}]",
            f"definition = {join_macro(mappings)}",
            "description = Fills the detection events' fields from the events of the same transfer:"
            f" {described}.",
            "",
            f"[{NORMALIZE_MACRO}]",
            f"definition = `{CONTRACT_MACRO}` | `{ASOF_MACRO}` | `{JOIN_MACRO}`",
            "description = Everything after the base search that turns raw events into contract events:"
            " the contract fields of vendor-owned sourcetypes, then the joins.",
            MACROS_END,
        ]
    )


def sources_macro(mappings: MappingABC[str, SourcetypeMapping]) -> str:
    terms = [f"{JOIN_SOURCE}=*"]
    if asof_joins(mappings):
        terms.append(f"{ASOF_SOURCE}=*")
    return "(" + " OR ".join(terms) + ")"


def _where_text(terms: Iterable[tuple[str, str]]) -> str:
    return " and ".join(f"{k}={v}" for k, v in terms)


def splice(current: str, begin: str, end: str, section: str, where_missing: str) -> str:
    """Replace the text between BEGIN and END (inclusive) with SECTION; when absent, put it
    before the line WHERE_MISSING (or at the end)."""
    if begin in current and end in current:
        head, rest = current.split(begin, 1)
        _, tail = rest.split(end, 1)
        return head + section + tail
    if where_missing and where_missing in current:
        head, tail = current.split(where_missing, 1)
        return head + section + "\n\n" + where_missing + tail
    return current.rstrip("\n") + "\n\n" + section + "\n"


# --------------------------------------------------------------------------------------- docs


def _how(output: Output) -> str:
    kind = output.field_class
    if kind == FieldClass.EXTRACTION:
        return "JSON field"
    if kind == FieldClass.ALIAS:
        return f"alias of `{_alias_source(output)}`"
    if isinstance(output.expr, Const):
        return f"constant `{output.expr.value}`"
    return f"`{to_spl(output.expr)}`".replace("|", "\\|")


def _vendor_owned_text(mapping: SourcetypeMapping) -> list[str]:
    return [
        f"CIM: the fields, eventtypes and tags of this sourcetype belong to the {mapping.cim_owner}"
        " (see Sourcetypes another add-on owns, above). This app's props give it only its contract"
        " fields (and its lease fields `ip`, `mac`, `lease_time` for device attribution), as"
        " `mobile_ingress_<name>`; the other fields below are computed by `--raw` only.",
        "",
    ]


def _vendor_overview(mappings: MappingABC[str, SourcetypeMapping]) -> list[str]:
    owned = vendor_owned(mappings)
    if not owned:
        return []
    by_owner: dict[str, list[str]] = {}
    for m in owned:
        by_owner.setdefault(str(m.cim_owner), []).append(f"`{m.sourcetype}`")
    return [
        "### Sourcetypes another add-on owns",
        "",
        *(f"- {', '.join(sts)}: {owner}." for owner, sts in by_owner.items()),
        "",
        "Splunk merges the props stanzas every app gives one sourcetype, and for one class name the"
        " app that sorts first wins, so which definition applies would depend on the app a search"
        " runs in. On these sourcetypes this app therefore defines only `mobile_ingress_*` classes"
        " and fields: each contract field the mapping gives, as `mobile_ingress_<name>`, and the"
        " join's `mobile_ingress_join_*`. Their CIM fields, eventtypes and tags (Web,"
        " Network_Traffic) are the vendor add-on's: install it for CIM. The correlation searches run"
        f" `{NORMALIZE_MACRO}` after their base search: `{CONTRACT_MACRO}` gives these events their"
        f" contract names back (every contract field listed there is this app's, null where the"
        f" mapping gives none), then `{JOIN_MACRO}` joins. A base search that filters them must"
        " use the namespaced names (`mobile_ingress_activity=retrieval`). `--raw` gives the"
        " contract names directly.",
        "",
        "Both apps also set these sourcetypes' index-time settings (line breaking, `TIME_PREFIX`,"
        " `TIME_FORMAT`). For a setting both give, the app whose folder name sorts first in ASCII"
        " order wins (`Splunk_TA_bro` and `TA-Suricata` sort before `TA-mobile-ingress`), so the"
        " vendor's value applies, merged with this app's other settings, and the two must find the"
        ' same time. TA-Suricata, for one, sets `TIME_PREFIX = timestamp":` and no `TIME_FORMAT`:'
        " merged, its prefix ends before the value's opening quote, where this app's `TIME_FORMAT`"
        " then starts. Check `_time` against `timestamp` on indexed events, or put this app's"
        " `TIME_PREFIX` in its `local/props.conf` (a local directory wins over every app's"
        " default). At search time, this app's `KV_MODE = json` applies in its own searches: if the"
        " vendor add-on extracts the sourcetype's JSON at index time (`INDEXED_EXTRACTIONS = json`),"
        " every field would be extracted twice (props.conf.spec, `KV_MODE`) and single values become"
        " multivalue; set `KV_MODE = none` for it in this app's `local/props.conf` then.",
        "",
    ]


def _tz_text(mapping: SourcetypeMapping) -> str:
    return "" if mapping.timestamp.reads_zone else ", `TZ = UTC`"


def _fraction_text(mapping: SourcetypeMapping) -> str:
    if mapping.timestamp.reads_subseconds:
        return ""
    return (
        " This format reads a time with 0, 3, 6 or 9 fraction digits alike, to the whole second;"
        " `--raw` drops the fraction too, so both give the same `_time`."
    )


def _alternative_text(mapping: SourcetypeMapping) -> list[str]:
    alt = mapping.timestamp.alternative
    if alt is None:
        return []
    stamp = mapping.timestamp
    prefix = f'"{stamp.field.rsplit(".", 1)[-1]}"\\s*:\\s*' + ('"' if alt.format.value == "iso8601" else "")
    settings = "\n".join(
        [
            "```ini",
            "# local/props.conf of this app (a local directory wins over every app's default)",
            f"[{mapping.sourcetype}]",
            f"TIME_PREFIX = {prefix}",
            f"TIME_FORMAT = {alt.time_format}",
            "MAX_TIMESTAMP_LOOKAHEAD = 40",
            "```",
        ]
    )
    return [
        f"The sensor can also write the time as {alt.format.value} ({alt.when}). `--raw` reads both"
        " forms. One `TIME_FORMAT` cannot: it is one strptime format, and `%s` (epoch) and"
        " `%Y-%m-%d...` (ISO 8601) read different text; leaving it unset for automatic recognition"
        " does not help either, because the vendor add-on's own `TIME_FORMAT` for the sourcetype"
        " sorts first and applies. For that form set:",
        "",
        settings,
        "",
    ]


def _asof_text(join: AsofJoin) -> str:
    key = ", ".join(f"`{to_spl(p)}`" for p in join.key)
    source_key = ", ".join(f"`{to_spl(p)}`" for p in join.source_key)
    marks = ", ".join(f"`{k}={v}`" for k, v in join.mark)
    return (
        f"As-of join: a detection event whose ({key}) equals the"
        f" ({source_key}) of an event with {_where_text(join.where)} (one key per value of a"
        f" multivalue part) gets `{join.fill}` = `{to_spl(join.value)}` from the latest such"
        f" event at or before it (at equal times the greatest value), with {marks} (macro"
        f" `{ASOF_MACRO}`). Splunk sees only the events of the search's time range; `--raw` sees"
        " every event of the inputs."
    )


def render_field_tables(mappings: MappingABC[str, SourcetypeMapping], contract_fields: Iterable[str]) -> str:
    contract = set(contract_fields)
    out = [DOCS_BEGIN, ""]
    out += _vendor_overview(mappings)
    for sourcetype in sorted(mappings):
        mapping = mappings[sourcetype]
        out += [
            f"### `{sourcetype}`: {mapping.title}",
            "",
            mapping.origin,
            "",
            "Onboarding (inputs.conf):",
            "",
            "```ini",
            mapping.onboarding,
            "```",
            "",
            f"Timestamp: {' else '.join(f'`{name}`' for name in mapping.timestamp.fields)}"
            f" ({mapping.timestamp.format.value},"
            f" `TIME_FORMAT = {mapping.timestamp.time_format}`{_tz_text(mapping)})."
            f"{_fraction_text(mapping)} Events longer than {mapping.max_event_bytes}"
            " bytes are truncated by Splunk and skipped by `--raw`.",
            "",
            *_alternative_text(mapping),
        ]
        owned = mapping.cim_owner is not None
        if owned:
            out += _vendor_owned_text(mapping)
            out += ["| field | contract | from | this app's props |", "|---|---|---|---|"]
        else:
            out += ["| field | contract | from |", "|---|---|---|"]
        given = {o.name for o in mapping.namespaced_outputs}
        for output in mapping.outputs:
            in_contract = output.name in contract
            row = f"| `{output.name}` | {'yes' if in_contract else ''} | {_how(output)} |"
            if owned:
                props = f"`{namespaced(output.name)}`" if output.name in given else "none (`--raw` only)"
                row += f" {props} |"
            out.append(row)
        if mapping.join is not None:
            join = mapping.join
            where = " and ".join(f"{k}={v}" for k, v in join.source.where)
            filled = ", ".join(f"`{f}`" for f in join.fill)
            source_key = f"`{to_spl(join.source.key)}`"
            matches = f"one of whose {source_key} values" if join.source.multivalue else f"whose {source_key}"
            out += [
                "",
                f"Join: a detection event without {filled} takes them from the"
                f" `{join.source.sourcetype}` event{' with ' + where if where else ''} {matches}"
                f" equals its `{to_spl(join.key)}` (macro `{JOIN_MACRO}`).",
            ]
        if mapping.asof_join is not None:
            out += ["", _asof_text(mapping.asof_join)]
        for item in mapping.cim:
            gaps = "; ".join(f"`{name}`: {why}" for name, why in item.gaps)
            out += [
                "",
                f"CIM: eventtype `{item.name}` (`{eventtype_search(mapping, item.where)}`), tags"
                f" {', '.join(item.tags)}, data set {item.data_set}."
                + (f" Not in the source: {gaps}." if gaps else ""),
            ]
        out.append("")
    out.append(DOCS_END)
    return "\n".join(out)
