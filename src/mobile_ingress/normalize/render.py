"""Render the mappings into Splunk confs: props.conf, eventtypes.conf, tags.conf, the join macros,
and the field tables of docs/data.md. tools/render_normalization.py writes them; tests check
the committed files are up to date."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping as MappingABC
from pathlib import Path

from .expr import Const, Field, spl_field, spl_string, to_spl
from .model import FieldClass, Join, Mapping, Output

HEADER = (
    "# rendered by tools/render_normalization.py from src/mobile_ingress/normalize/mappings — do not edit"
)
MACROS_BEGIN = "# ---- rendered by tools/render_normalization.py from the mappings — begin ----"
MACROS_END = "# ---- rendered by tools/render_normalization.py — end ----"
DOCS_BEGIN = "<!-- rendered by tools/render_normalization.py: field tables — do not edit below -->"
DOCS_END = "<!-- end of the rendered field tables -->"
JOIN_MACRO = "mobile_ingress_flow_join"
JOIN_SOURCES_MACRO = "mobile_ingress_flow_join_sources"
JOIN_TARGET = "mobile_ingress_join_target"
JOIN_SOURCE = "mobile_ingress_join_source"
JOIN_KEY = "mobile_ingress_join_key"


def join_value_field(name: str) -> str:
    return f"mobile_ingress_join_{name}"


def _where_spl(terms: Iterable[tuple[str, str]]) -> str:
    return " AND ".join(f"{spl_field(name)}=={spl_string(value)}" for name, value in terms)


def _keyed(namespace: str, key_spl: str) -> str:
    return f"{spl_string(namespace + ':')} . {key_spl}"


def _alias_source(output: Output) -> str:
    assert isinstance(output.expr, Field)
    return output.expr.name


def props_settings(mapping: Mapping, mappings: MappingABC[str, Mapping]) -> list[tuple[str, str]]:
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
    for output in mapping.outputs:
        kind = output.field_class
        if kind == FieldClass.ALIAS:
            settings.append(
                (f"FIELDALIAS-mobile_ingress_{output.name}", f"{_alias_source(output)} AS {output.name}")
            )
        elif kind == FieldClass.EVAL:
            settings.append((f"EVAL-{output.name}", to_spl(output.expr)))
    settings += _join_settings(mapping, mappings)
    return settings


def _join_settings(mapping: Mapping, mappings: MappingABC[str, Mapping]) -> list[tuple[str, str]]:
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

        settings.append((f"EVAL-{JOIN_SOURCE}", guarded(_keyed(other.join.namespace, to_spl(source.key)))))
        for name in other.join.fill:
            output = mapping.output(name)
            assert output is not None  # the loader checked it
            settings.append((f"EVAL-{join_value_field(name)}", guarded(to_spl(output.expr))))
    return settings


def render_props(mappings: MappingABC[str, Mapping]) -> str:
    out = [
        HEADER,
        "#",
        "# One stanza per supported sourcetype: line breaking and timestamps (index time: deploy this",
        "# app to the indexers or heavy forwarders too), JSON fields at search time, and the aliases and",
        "# calculated fields that give the detection contract's fields and the CIM fields. See docs/data.md.",
    ]
    for sourcetype in sorted(mappings):
        mapping = mappings[sourcetype]
        out += ["", f"# {mapping.title}: {Path(mapping.path).name}", f"[{sourcetype}]"]
        out += [f"{key} = {value}" for key, value in props_settings(mapping, mappings)]
    return "\n".join(out) + "\n"


def eventtype_search(mapping: Mapping, where: Iterable[tuple[str, str]]) -> str:
    terms = [f"sourcetype={spl_string(mapping.sourcetype)}"]
    terms += [f"{name}={spl_string(value)}" for name, value in where]
    return " ".join(terms)


def render_eventtypes(mappings: MappingABC[str, Mapping]) -> str:
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


def render_tags(mappings: MappingABC[str, Mapping]) -> str:
    out = [HEADER, "# Tags that put each eventtype in its CIM data set."]
    for sourcetype in sorted(mappings):
        for item in mappings[sourcetype].cim:
            out += ["", f"[eventtype={item.name}]"]
            out += [f"{tag} = enabled" for tag in item.tags]
    return "\n".join(out) + "\n"


def joins(mappings: MappingABC[str, Mapping]) -> list[Join]:
    return [m.join for _, m in sorted(mappings.items()) if m.join is not None]


def join_macro(mappings: MappingABC[str, Mapping]) -> str:
    """The SPL twin of the Python join: events of one connection share a key; a detection event
    missing a filled field takes the first value (in sort order) of its join sources; the join
    sources, which carry no activity, then leave the results."""
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
        f"eval {JOIN_KEY}=coalesce({JOIN_TARGET}, {JOIN_SOURCE})"
        f" | eventstats {stats} BY {JOIN_KEY}"
        f" | eval {evals}"
        " | where isnotnull(activity)"
        " | fields - mobile_ingress_join*"
    )


def render_macros_section(mappings: MappingABC[str, Mapping]) -> str:
    described = "; ".join(
        f"{m.sourcetype} takes {', '.join(m.join.fill)} from {m.join.source.sourcetype}"
        for _, m in sorted(mappings.items())
        if m.join is not None
    )
    return "\n".join(
        [
            MACROS_BEGIN,
            "# Joins of the normalization (declared in the mappings): props cannot join two events,",
            "# so the correlation searches run this after the base search; `mobile-ingress --raw` does",
            "# the same in Python.",
            "",
            f"[{JOIN_SOURCES_MACRO}]",
            f"definition = ({JOIN_SOURCE}=*)",
            "description = The events a join reads (they carry no activity): the correlation searches"
            " add them to the base search so the join can see them.",
            "",
            f"[{JOIN_MACRO}]",
            f"definition = {join_macro(mappings)}",
            "description = Fills the detection events' fields from the events of the same connection:"
            f" {described}.",
            MACROS_END,
        ]
    )


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


def render_field_tables(mappings: MappingABC[str, Mapping], contract_fields: Iterable[str]) -> str:
    contract = set(contract_fields)
    out = [DOCS_BEGIN, ""]
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
            f" `TIME_FORMAT = {mapping.timestamp.time_format}`). Events longer than {mapping.max_event_bytes}"
            " bytes are truncated by Splunk and skipped by `--raw`.",
            "",
        ]
        out += ["| field | contract | from |", "|---|---|---|"]
        for output in mapping.outputs:
            out.append(f"| `{output.name}` | {'yes' if output.name in contract else ''} | {_how(output)} |")
        if mapping.join is not None:
            join = mapping.join
            where = " and ".join(f"{k}={v}" for k, v in join.source.where)
            filled = ", ".join(f"`{f}`" for f in join.fill)
            out += [
                "",
                f"Join: a detection event without {filled} takes them from the"
                f" `{join.source.sourcetype}` event{' with ' + where if where else ''} whose"
                f" `{to_spl(join.source.key)}` equals its `{to_spl(join.key)}` (macro `{JOIN_MACRO}`).",
            ]
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
