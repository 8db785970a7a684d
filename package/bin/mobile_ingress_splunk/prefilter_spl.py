"""The prefilter's SPL rendering: the base-search filter the indexers apply, made from the engine's
declaration (`Prefilter.describe()`, a typed `Declaration`) over the lookups in force.

`ingressprefilter` renders it at search time (a subsearch of the correlation search's base search),
so risk patterns added on the setup page, in the KV store or in a `_local` CSV reach the indexers
as soon as they are saved. The filter is looser than the engine wherever SPL cannot express the
engine's rule; the engine then applies the exact one (so being looser never changes a finding):
- SPL's `*` crosses `/` and matches case-insensitively, so `**` and `*` both become `*`;
- a `file_type` pattern gets a trailing `*` (the engine drops MIME parameters such as `; charset=`);
- a `file_path` pattern keeps only what follows its first wildcard (the engine normalizes the path
  prefix: `/sdcard/`, `/data/user/0/`, `file://`), or the last segment when it has none;
- `<noext>` keeps any name without a dot after the first character, whatever its size;
- a `file_create` without `file_name` is kept (the engine uses the basename of `file_path`);
- every retrieval is kept: dropping one depends on its app and on host, suffix and CIDR matching.

Events of the vendor-owned sourcetypes (Zeek, Suricata) carry their detection fields under
`mobile_ingress_` names until the `mobile_ingress_normalize` macro gives them the contract names
(docs/data.md), so their retrievals and join sources are kept by those names.
"""

from __future__ import annotations

from collections.abc import Mapping

from mobile_ingress.engine.prefilter import Declaration

VENDOR_RETRIEVAL = "mobile_ingress_activity=retrieval"


def quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def glob_to_wildcard(field: str, pattern: str) -> str | None:
    """A search wildcard at least as loose as the engine's glob for FIELD; None = `<noext>`."""
    if pattern == "<noext>":
        return None
    text = pattern
    while "**" in text:
        text = text.replace("**/", "*").replace("/**", "*").replace("**", "*")
    if field == "file_path":
        text = "*" + (text[text.index("*") + 1 :] if "*" in text else text.rsplit("/", 1)[-1])
    if field == "file_type" and not text.endswith("*"):
        text += "*"
    while "**" in text:
        text = text.replace("**", "*")
    return text


def _platform_terms(by_field: Mapping[str, tuple[str, ...]]) -> list[str]:
    terms: list[str] = []
    for field_name, patterns in by_field.items():
        values: list[str] = []
        for pattern in patterns:
            wildcard = glob_to_wildcard(field_name, pattern)
            if wildcard is None:  # <noext>: no dot after the first character
                noext = f'{field_name}=".*" OR NOT {field_name}="*.*"'
                if noext not in terms:
                    terms.append(noext)
                continue
            if wildcard not in values:
                values.append(wildcard)
        if values:
            terms.append(f"{field_name} IN ({', '.join(quote(v) for v in values)})")
        if field_name == "file_name" and "NOT file_name=*" not in terms:
            terms.append("NOT file_name=*")
    return terms


def prefilter_spl(declaration: Declaration) -> str:
    """The base-search filter: an event is kept when its activity is always kept, it carries a
    context field, it is a `file_create` a risk pattern of its platform may match, or it is a
    retrieval (of an own sourcetype, or of a vendor-owned one by its namespaced field)."""
    activities = ", ".join(declaration.always_kept_activities)
    parts = [f"activity IN ({activities})"]
    parts += [f"{name}=*" for name in declaration.context_fields]
    per_platform = []
    for platform, by_field in sorted(declaration.file_create_risk_patterns.items()):
        condition = " OR ".join(_platform_terms(by_field))
        per_platform.append(condition if platform == "*" else f"(platform={platform} ({condition}))")
    if per_platform:
        parts.append(f"(activity=file_create ({' OR '.join(per_platform)}))")
    parts.append("activity=retrieval")
    parts.append(VENDOR_RETRIEVAL)
    return "(" + " OR ".join(parts) + ")"
