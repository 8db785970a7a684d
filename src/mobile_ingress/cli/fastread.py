"""The fast reader (`mobile-ingress detect --fast`, extra `fast`: DuckDB): the prefilter's third form.

The engine's prefilter is declared once (`engine/prefilter.py`): its Python predicate runs in the
engine, its SPL form is the base search of the saved searches, and here its vectorized form runs in
DuckDB over a whole NDJSON file before Python parses a line. DuckDB reads every line into typed
columns and marks the lines that provably cannot change the result:
- the line is *clean*: it is sure to become a valid event with no skip and no warning (plain JSON
  types, known activity and platform, numbers that are numbers, addresses in canonical form, ...),
  so dropping it cannot change what the plain reader reports; and its `(event_id, activity)`
  occurs once in the file, so no duplicate rule depends on it;
- it lies on its device farther than the neighbourhood reach from every anchor (a staged file that
  may be risky and that no allowed path suppresses for every retrieval, or that the device may
  load in-process within a window, which no allowed path covers; an iOS retrieval of a managed app
  without an approved role): `Prefilter.neighbourhood()`;
- and, if it carries context, a later clean setter of each of its context keys comes before the
  next anchor's neighbourhood, so its value is never the one in force at a finding.
Everything else is parsed by Python exactly as the plain reader does, with the same line numbers,
so the same skips and warnings are reported and the engine (which applies its own prefilter again)
gives the same findings. Lines not read are counted as read and irrelevant to the analytics.

What DuckDB cannot prove is kept: a line in any doubt is never dropped. When the file is not plain
NDJSON (CSV, a JSON array, gzip), when DuckDB cannot read it, or when a line's event id is not a
string, the plain reader reads it. If DuckDB's rows and the file's lines ever disagree (a count or
a kept line's time), `FastReaderMismatch` makes the command line start over with the plain reader.
"""

from __future__ import annotations

import os
import tempfile
from array import array
from collections.abc import Iterator, Sequence
from typing import Any

from ..engine.events import (
    ACTIVITIES,
    APP_STATES,
    IN_PROCESS_LOADS,
    LOAD_METHODS,
    MAX_BYTES,
    RETRIEVAL_METHODS,
)
from ..engine.globs import glob_regex
from ..engine.hosts import MAX_HOST_LENGTH
from ..engine.lookups import PLATFORMS
from ..engine.paths import REMAP_PREFIXES
from ..engine.prefilter import Prefilter
from ..engine.timeparse import EARLIEST, LATEST, parse_number
from .readers import Raw, _base_name, _open_text, parse_line, read_input

FAST_SUFFIXES = (".ndjson", ".jsonl")
COLUMNS = (
    "_time", "activity", "platform", "device_id", "app_id", "event_id", "src_ip", "dest", "dest_ip",
    "dest_port", "url", "bytes_in", "retrieval_method", "file_path", "file_name", "file_size", "file_type",
    "load_method", "app_state", "device_locked", "recent_user_interaction", "dest_corroborated",
)  # fmt: skip
# DuckDB spills to a temporary folder beyond this. Half of a 24 GB machine instead saved 20 % of
# the filter's time at 10M events for 11 GB of memory; bounded memory is the better default.
MEMORY_LIMIT = "1GB"
# A line with more opening brackets than this may be nested deeper than Python's JSON parser goes
# (its recursion limit): such a line is in doubt, and Python reads it.
MAX_BRACKETS = 500


class FastReaderMismatch(Exception):
    """DuckDB's rows and the file's lines disagree: read the input again with the plain reader."""


def available() -> bool:
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return False
    return True


# ------------------------------------------------------------------------------- SQL rendering


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in(values: Sequence[str]) -> str:
    return "(" + ", ".join(_q(v) for v in sorted(values)) + ")" if values else "(NULL)"


def _absent(c: str) -> str:
    return f"({c}_ty IS NULL OR {c}_ty = 'NULL')"


def _str(c: str) -> str:
    return f"({c}_ty = 'VARCHAR')"


def _val(c: str) -> str:
    return f"{c}_v"


def _num_ok(c: str, maximum: float) -> str:
    """Absent, or a JSON number from 0 to `maximum` (the plain reader warns about anything else):
    engine/events.py's `_Normalizer.number`, restated by hand."""
    return (f"({_absent(c)} OR ({c}_ty IN ('BIGINT', 'UBIGINT', 'DOUBLE') AND "
            f"isfinite(TRY_CAST({c}_v AS DOUBLE)) AND TRY_CAST({c}_v AS DOUBLE) >= 0 AND "
            f"TRY_CAST({c}_v AS DOUBLE) <= {maximum!r}))")  # fmt: skip


# By hand (SQL cannot call the engine): the canonical forms engine/hosts.py's normalize_host and
# parse_ip accept unchanged; a value these miss is "not clean" and Python reads it.
IPV4 = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}"
HOST = r"[A-Za-z0-9_-]*[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*\.?"
URL = r"(?i)https?://[a-z0-9_.-]*[a-z_][a-z0-9_.-]*(:[0-9]+)?([/?#][^\s]*)?"
ASCII = r"[\x20-\x7e]*"
LONG_LABEL = r"[^./:]{64}"  # a label over 63 characters: no host name (hosts.py)
LONG_URL_HOST = r"^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*[^./:?#@]{64}|[^/?#:@]{254})"


def _host_ok(value: str) -> str:
    """The engine's length limits of a host name (HOST checks its shape); most are short."""
    return (f"(length({value}) <= 63 OR (NOT regexp_matches({value}, {_q(LONG_LABEL)}) "
            f"AND length(rtrim({value}, '.')) <= {MAX_HOST_LENGTH}))")  # fmt: skip


def _url_host_ok(value: str) -> str:
    return f"(length({value}) <= 70 OR NOT regexp_matches({value}, {_q(LONG_URL_HOST)}))"


def _ipv4_not_loopback(c: str) -> str:
    return f"({_str(c)} AND regexp_full_match({_val(c)}, {_q(IPV4)}) AND NOT starts_with({_val(c)}, '127.'))"


def render_load(path: str) -> str:
    """The file's rows into the table `lines`, in file order (blank lines are not rows), each
    value as raw JSON. A table, so that `rowid` numbers the rows: numbering them with a window
    over the scan (row_number) made every operator after it run on one thread (14 s against
    10 s at 1M events on 2 cores).

    `read_ndjson` with ignore_errors takes the first of a repeated key, the plain reader refuses
    the record: `in_doubt` (from the whole object, row for row beside it) marks those lines, and
    the lines that may be nested deeper than Python's parser goes (more than MAX_BRACKETS `[` and
    `{`), which are then never clean, so Python reads (and refuses) them as the plain reader does."""
    columns = ", ".join(f"{_q(c)}: 'JSON'" for c in COLUMNS)
    options = "format='newline_delimited', ignore_errors=true, maximum_object_size=16777216"
    brackets = "length(json) - length(replace(replace(json, '[', ''), '{', ''))"
    return (
        f"CREATE TEMP TABLE lines AS SELECT * FROM read_ndjson({_q(path)}, columns={{{columns}}}, "
        f"{options}); "
        # Row for row beside `lines` (a second scan costs less than a positional join of the two).
        "CREATE TEMP TABLE shapes AS SELECT len(keys) <> len(list_distinct(keys)) OR CASE WHEN "
        f"length(json) > {MAX_BRACKETS} THEN {brackets} > {MAX_BRACKETS} ELSE FALSE END AS in_doubt "
        f"FROM (SELECT json, json_keys(json) AS keys FROM read_json_objects({_q(path)}, {options}))"
    )


def render_query(prefilter: Prefilter) -> str:
    """The vectorized prefilter over the table `lines` (`render_load`), rendered from the
    declaration (`describe()` and `neighbourhood()`): the rows Python must parse, (row, time) in
    file order, after three rows of counts: -3 anchors on no known device, -2 event ids that are
    not strings, -1 rows read."""
    described = prefilter.describe()
    near = prefilter.neighbourhood()
    reach = near.reach_seconds
    window = near.time_window
    # Each JSON value's type and text once (every json_type() call parses the value again).
    typed = ", ".join(f'json_type("{c}") AS {c}_ty, "{c}" ->> \'$\' AS {c}_v' for c in COLUMNS)
    act = f"lower(trim({_val('activity')}))"
    platform = f"{_val('platform')}"
    # Risk: may the file match a risk pattern of its platform? One constant regex per platform and
    # field (case-insensitive globs); `<noext>` keeps any name without a dot after its first character.
    risk_terms = []
    for plat, by_field in described.file_create_risk_patterns.items():
        plat_cond = "TRUE" if plat == "*" else f"platform = {_q(plat)}"
        for field_name, globs in by_field.items():
            regexes = [glob_regex(g) for g in globs if g.lower() != "<noext>"]
            if any(g.lower() == "<noext>" for g in globs):
                risk_terms.append(f"({plat_cond} AND NOT contains(substr(fname, 2), '.'))")
            if regexes:
                value = {"file_name": "fname", "file_type": "ftype", "file_path": "fpath"}[field_name]
                regex = "(?is)(?:" + "|".join(regexes) + ")"
                risk_terms.append(f"({plat_cond} AND regexp_full_match({value}, {_q(regex)}))")
    maybe_risky = "(" + " OR ".join(risk_terms) + ")" if risk_terms else "FALSE"
    allowed_terms = []
    for path in near.suppressing_allowed_paths:
        plat_cond = "TRUE" if path.platform == "*" else f"platform = {_q(path.platform)}"
        app_cond = "TRUE" if path.app_id == "*" else f"app = {_q(path.app_id)}"
        regex = "(?s)" + glob_regex(path.path_pattern)
        allowed_terms.append(f"({plat_cond} AND {app_cond} AND regexp_full_match(fpath, {_q(regex)}))")
    path_allowed = "(" + " OR ".join(allowed_terms) + ")" if allowed_terms else "FALSE"
    managed_terms = [
        f"({'TRUE' if app.platform == '*' else 'platform = ' + _q(app.platform)} AND app = {_q(app.app_id)})"
        for app in near.anchor_retrieval_apps
    ]
    maybe_candidate = "(" + " OR ".join(managed_terms) + ")" if managed_terms else "FALSE"
    managed_any = _in(sorted({app.app_id for app in near.anchor_retrieval_apps}))
    # ... unless the retrieval is suppressed for every reading (then it is no candidate at all)
    exempt_terms = []
    for app in near.suppressing_allowed_apps:
        plat_cond = "TRUE" if app.platform == "*" else f"platform = {_q(app.platform)}"
        exempt_terms.append(f"({plat_cond} AND app = {_q(app.app_id)})")
    for row in near.suppressing_destinations:
        app_cond = "TRUE" if row.app_id == "*" else f"app = {_q(row.app_id)}"
        host = _q(row.host)
        # An uncorroborated name is matched by its address alone (engine/rules.py): only a `*` row
        # then covers the line for sure.
        if row.kind == "any":
            match = "rdest IS NOT NULL"
        elif row.kind == "suffix":
            match = f"(corroborated AND (rdest = {host} OR ends_with(rdest, {_q('.' + row.host)})))"
        else:
            match = f"(corroborated AND rdest = {host})"
        # the engine's own comparison: first_seen <= time - window
        when = "" if row.first_seen is None else f" AND {float(row.first_seen)!r} <= t - {window!r}"
        exempt_terms.append(f"({app_cond} AND {match}{when})")
    exempt = "(" + " OR ".join(exempt_terms) + ")" if exempt_terms else "FALSE"
    remaps = " OR ".join(f"starts_with(fpath, {_q(p)})" for p in REMAP_PREFIXES)
    file_acts = "('file_create', 'unpack', 'load', 'handoff')"
    # By hand: _Normalizer.choice and .boolean of engine/events.py (no warning: a known state, a JSON bool).
    context_ok = (f"({_absent('app_state')} OR ({_str('app_state')} AND {_val('app_state')} IN "
                  f"{_in(sorted(APP_STATES))})) AND ({_absent('device_locked')} OR device_locked_ty = "
                  f"'BOOLEAN') AND ({_absent('recent_user_interaction')} OR "
                  f"recent_user_interaction_ty = 'BOOLEAN')")  # fmt: skip
    # The CTE `b` and the `clean` column of `d` restate by hand what engine/events.py's
    # `normalize_record` accepts without a skip or a warning (SQL cannot call it): the time's
    # seconds-or-milliseconds rule (timeparse.parse_time, 1e11), a plain activity and platform, a
    # trimmed device and app, host names and IPv4 addresses in canonical form (hosts.normalize_host,
    # parse_ip, the length limits), numbers in range (_Normalizer.number), known methods and states,
    # and paths already normalized (paths.normalize_path). Where it is unsure it says "not clean",
    # so Python reads the line; tests/cli/test_fast_reader.py proves the two readers agree.
    return f"""
WITH src AS (
  SELECT lines.rowid AS rid, shapes.in_doubt, {typed}
  FROM lines LEFT JOIN shapes ON lines.rowid = shapes.rowid
), b AS (
  SELECT rid, in_doubt,
    CASE WHEN _time_ty IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN
      CASE WHEN abs(TRY_CAST(_time_v AS DOUBLE)) >= 1e11 THEN TRY_CAST(_time_v AS DOUBLE) / 1000.0
           ELSE TRY_CAST(_time_v AS DOUBLE) END END AS t,
    CASE WHEN {_str("activity")} THEN {act} END AS act,
    {_str("activity")} AND {_val("activity")} IN {_in(sorted(ACTIVITIES))} AS act_plain,
    CASE WHEN {_str("platform")} AND {platform} IN {_in(PLATFORMS)} THEN {platform} END AS plat_given,
    {_absent("platform")} AS plat_absent,
    CASE WHEN device_id_ty = 'VARCHAR' AND device_id_v <> '' AND trim(device_id_v) = device_id_v
         THEN {_val("device_id")} END AS dev_given,
    {_absent("device_id")} AS dev_absent,
    CASE WHEN {_str("app_id")} THEN NULLIF(trim({_val("app_id")}), '') END AS app_text,
    {_absent("app_id")} OR (app_id_ty = 'VARCHAR' AND app_id_v <> '' AND trim(app_id_v) = app_id_v)
      AS app_ok,
    CASE WHEN {_str("app_id")} AND {_val("app_id")} <> '' THEN {_val("app_id")} END AS app,
    {_absent("event_id")} AS eid_absent, {_str("event_id")} AS eid_str,
    CASE WHEN {_str("event_id")} THEN NULLIF(trim({_val("event_id")}), '') END AS eid,
    CASE WHEN {act} = 'retrieval' AND dest_ty = 'VARCHAR'
              AND ((regexp_full_match(dest_v, {_q(HOST)}) AND {_host_ok("dest_v")})
                   OR {_ipv4_not_loopback("dest")})
         THEN lower(rtrim({_val("dest")}, '.')) END AS rdest_given,
    {_absent("dest_corroborated")}
      OR (dest_corroborated_ty = 'BOOLEAN' AND dest_corroborated_v = 'true') AS corroborated,
    {_absent("dest_corroborated")} OR dest_corroborated_ty = 'BOOLEAN' AS corroboration_ok,
    CASE WHEN src_ip_ty = 'VARCHAR' AND regexp_full_match(src_ip_v, {_q(IPV4)}) THEN src_ip_v END AS sip,
    {_absent("src_ip")} AS sip_absent,
    -- the address checks cost regular expressions: only retrievals need them (NULL elsewhere)
    CASE WHEN {act} = 'retrieval' THEN
    (({_str("dest")} AND ((regexp_full_match({_val("dest")}, {_q(HOST)}) AND {_host_ok(_val("dest"))})
                         OR {_ipv4_not_loopback("dest")}))
      OR ({_absent("dest")} AND {_str("url")} AND regexp_full_match({_val("url")}, {_q(URL)}))
      OR ({_absent("dest")} AND {_absent("url")} AND {_ipv4_not_loopback("dest_ip")}))
    AND ({_absent("url")} OR ({_str("url")} AND regexp_full_match({_val("url")}, {_q(URL)})
                              AND {_url_host_ok(_val("url"))}))
    AND ({_absent("dest_ip")} OR {_ipv4_not_loopback("dest_ip")})
    AND {_num_ok("dest_port", 65535)} AND {_num_ok("bytes_in", MAX_BYTES)}
    AND ({_absent("retrieval_method")} OR ({_str("retrieval_method")} AND {_val("retrieval_method")} IN
         {_in(sorted(RETRIEVAL_METHODS))})) END AS retrieval_ok,
    CASE WHEN {_str("file_path")} THEN {_val("file_path")} END AS fpath,
    {_str("file_path")} AND trim({_val("file_path")}) <> '' AS path_ok,
    ({_absent("file_name")} OR {_str("file_name")}) AND ({_absent("file_type")} OR {_str("file_type")})
      AND {_num_ok("file_size", MAX_BYTES)} AS file_ok,
    CASE WHEN {_str("file_name")} THEN NULLIF(trim({_val("file_name")}), '') END AS fname_given,
    CASE WHEN file_type_ty = 'VARCHAR' THEN lower(trim(split_part(trim(file_type_v), ';', 1))) END AS ftype,
    {_absent("load_method")} OR (load_method_ty = 'VARCHAR' AND load_method_v IN {_in(sorted(LOAD_METHODS))})
      AS load_ok,
    CASE WHEN load_method_ty = 'VARCHAR' THEN lower(trim(load_method_v)) END AS lmethod,
    {context_ok} AS context_ok,
    NOT {_absent("app_state")} AS c_state, NOT {_absent("device_locked")} AS c_locked,
    NOT {_absent("recent_user_interaction")} AS c_rui
  FROM src
), inv AS (
  SELECT ip, any_value(device_id) AS device_id, any_value(platform) AS platform, count(*) AS n,
         any_value(first_seen) AS first_seen, any_value(last_seen) AS last_seen
  FROM inventory GROUP BY ip
), c AS (
  SELECT b.*,
    COALESCE(b.dev_given, CASE WHEN b.dev_absent AND b.act = 'retrieval' AND inv.n = 1
      AND (inv.first_seen IS NULL OR inv.first_seen <= b.t)
      AND (inv.last_seen IS NULL OR b.t <= inv.last_seen)
      THEN inv.device_id END) AS dev,
    COALESCE(b.plat_given, CASE WHEN b.plat_absent AND b.dev_absent AND b.act = 'retrieval' AND inv.n = 1
      THEN inv.platform END) AS platform,
    COALESCE(b.fname_given, regexp_extract(b.fpath, '[^/]*$')) AS fname,
    CASE WHEN b.act = 'retrieval' THEN b.rdest_given END AS rdest
  FROM b LEFT JOIN inv ON b.dev_absent AND b.sip = inv.ip
), rep AS (
  -- (event id, activity) pairs on more than one row (rows without an id or activity count as one
  -- pair): no duplicate rule can depend on a line left out. A grouping, not a window over c's rows.
  SELECT eid AS r_eid, act AS r_act, TRUE AS r_hit FROM c GROUP BY eid, act HAVING count(*) > 1
), d AS (
  SELECT *,
    act = 'file_create' AND fpath IS NOT NULL AND fpath = trim(fpath)
      AND regexp_full_match(fpath, '(/[^/]+)+')
      AND NOT regexp_matches(fpath, '/\\.\\.?(/|$)') AND NOT ({remaps or "FALSE"})
      AND NOT (platform = 'ios' AND starts_with(fpath, '/var/'))
      AND regexp_full_match(fpath, {_q(ASCII)}) AND regexp_full_match(COALESCE(fname, ''), {_q(ASCII)})
      AND regexp_full_match(COALESCE(ftype, ''), {_q(ASCII)}) AS path_plain,
    t IS NOT NULL AND isfinite(t) AND t BETWEEN {EARLIEST!r} AND {LATEST!r} AND COALESCE(NOT in_doubt, FALSE)
      AND corroboration_ok AND act_plain AND dev IS NOT NULL AND platform IS NOT NULL AND app_ok
      AND (eid_absent OR eid_str) AND (sip_absent OR sip IS NOT NULL) AND context_ok
      AND CASE WHEN act = 'retrieval' THEN retrieval_ok
               WHEN act IN {file_acts} THEN path_ok AND app IS NOT NULL AND file_ok AND load_ok
               ELSE TRUE END AS clean,
    COALESCE(r_hit, FALSE) AS repeated
  FROM c LEFT JOIN rep ON eid IS NOT DISTINCT FROM r_eid AND act IS NOT DISTINCT FROM r_act
), inproc AS (
  -- loads in-process, clean or not: an allowed path never covers a file loaded so (engine/chain.py)
  SELECT DISTINCT COALESCE(dev, dev_given) AS ldev, t AS lt FROM d
  WHERE act = 'load' AND lmethod IN {_in(sorted(IN_PROCESS_LOADS))} AND t IS NOT NULL AND isfinite(t)
), next_load AS (
  SELECT f.rid, n.lt AS next_load
  FROM (SELECT rid, COALESCE(dev, dev_given) AS fdev, t FROM d WHERE act = 'file_create') f
  ASOF LEFT JOIN inproc n ON f.fdev = n.ldev AND f.t <= n.lt
), e AS MATERIALIZED (
  SELECT rid, t, act, dev, dev_given, app, clean, repeated, eid_absent, eid_str, c_state, c_locked, c_rui,
    CASE
      WHEN clean AND act = 'file_create' THEN
        CASE WHEN NOT path_plain THEN TRUE
             -- an allowed path covers the file unless it may be loaded in-process within a window
             WHEN {maybe_risky} THEN NOT {path_allowed}
                                     OR COALESCE(next_load <= t + {window!r}, FALSE)
             ELSE FALSE END
      WHEN clean AND act = 'retrieval' THEN
        CASE WHEN {maybe_candidate} THEN NOT COALESCE({exempt}, FALSE) ELSE FALSE END
      WHEN clean THEN FALSE
      -- a line in doubt anchors wherever it may be a staged file or a candidate retrieval
      ELSE act IS NULL OR act = 'file_create' OR act NOT IN {_in(sorted(ACTIVITIES))}
           OR (act = 'retrieval' AND (app_text IS NULL AND NOT app_ok OR app_text IN {managed_any}))
    END AS anchor
  FROM d LEFT JOIN next_load USING (rid)
), anchors AS (
  SELECT CASE WHEN clean THEN dev ELSE dev_given END AS adev, t AS atime FROM e WHERE anchor
), timed AS (
  SELECT DISTINCT adev, atime FROM anchors WHERE adev IS NOT NULL AND atime IS NOT NULL AND isfinite(atime)
), whole AS (
  -- an anchor with no usable time keeps its whole device
  SELECT DISTINCT adev FROM anchors WHERE adev IS NOT NULL AND (atime IS NULL OR NOT isfinite(atime))
), cand AS (
  SELECT * FROM e WHERE clean AND NOT repeated AND NOT anchor
    AND NOT EXISTS (SELECT 1 FROM whole WHERE adev = dev)
),
placed AS (
  SELECT cand.*, p.atime AS prev_anchor, n.atime AS next_anchor
  FROM cand
  ASOF LEFT JOIN timed p ON cand.dev = p.adev AND cand.t >= p.atime
  ASOF LEFT JOIN timed n ON cand.dev = n.adev AND cand.t <= n.atime
), far AS (
  SELECT * FROM placed WHERE (prev_anchor IS NULL OR t - prev_anchor > {reach})
                         AND (next_anchor IS NULL OR next_anchor - t > {reach})
), setters AS (
  SELECT dev, t, COALESCE(app, '') AS akey, c_state, c_locked, c_rui FROM e
  WHERE clean AND NOT repeated AND (c_state OR c_locked OR c_rui)
), s_state AS (SELECT dev, akey, t, lead(t) OVER (PARTITION BY dev, akey ORDER BY t) AS nt
                FROM (SELECT DISTINCT dev, akey, t FROM setters WHERE c_state)),
s_locked AS (SELECT dev, t, lead(t) OVER (PARTITION BY dev ORDER BY t) AS nt
             FROM (SELECT DISTINCT dev, t FROM setters WHERE c_locked)),
s_rui AS (SELECT dev, akey, t, lead(t) OVER (PARTITION BY dev, akey ORDER BY t) AS nt
          FROM (SELECT DISTINCT dev, akey, t FROM setters WHERE c_rui)),
carriers AS (
  -- a far carrier is itself a setter: the next setter of its key is the next distinct time
  SELECT far.rid, far.next_anchor, far.c_state, far.c_locked, far.c_rui,
         x.nt AS n_state, y.nt AS n_locked, z.nt AS n_rui
  FROM (SELECT *, COALESCE(app, '') AS akey FROM far WHERE c_state OR c_locked OR c_rui) far
  LEFT JOIN s_state x ON far.c_state AND far.dev = x.dev AND far.akey = x.akey AND far.t = x.t
  LEFT JOIN s_locked y ON far.c_locked AND far.dev = y.dev AND far.t = y.t
  LEFT JOIN s_rui z ON far.c_rui AND far.dev = z.dev AND far.akey = z.akey AND far.t = z.t
), needed AS (
  SELECT rid FROM carriers WHERE next_anchor IS NOT NULL AND (
       (c_state AND (n_state IS NULL OR n_state >= next_anchor - {reach}))
    OR (c_locked AND (n_locked IS NULL OR n_locked >= next_anchor - {reach}))
    OR (c_rui AND (n_rui IS NULL OR n_rui >= next_anchor - {reach})))
), dropped AS (SELECT rid FROM far ANTI JOIN needed USING (rid))
SELECT rid, COALESCE(t, 'NaN'::DOUBLE) AS t FROM e ANTI JOIN dropped USING (rid)
UNION ALL SELECT -1, (SELECT count(*) FROM e)
UNION ALL SELECT -2, (SELECT count(*) FROM e WHERE NOT eid_absent AND NOT eid_str)
UNION ALL SELECT -3, (SELECT count(*) FROM anchors WHERE adev IS NULL)
ORDER BY rid
"""


# ------------------------------------------------------------------------------------ the reader


class FastReader:
    """Reads inputs like `read_input`, leaving out the lines DuckDB proved irrelevant."""

    def __init__(self, prefilter: Prefilter) -> None:
        self.prefilter = prefilter
        self.disabled = False  # set when DuckDB and a file disagreed: everything is read plainly
        self._plans: dict[str, tuple[array[int], array[float]] | None] = {}

    def read(self, path: str, label: str | None = None) -> Iterator[Raw]:
        label = label or path
        plan = None if self.disabled else self._plan(path, label)
        if plan is None:
            yield from read_input(path, label)
            return
        yield from self._read_kept(path, label, *plan)

    # The plan: which rows (0-based, blank lines not counted) Python must parse ------------------

    def _plan(self, path: str, label: str) -> tuple[array[int], array[float]] | None:
        if path in self._plans:
            return self._plans[path]
        plan = None
        if _base_name(label).endswith(FAST_SUFFIXES) and not path.lower().endswith(".gz"):
            plan = self._run_duckdb(path)
        self._plans[path] = plan
        return plan

    def _run_duckdb(self, path: str) -> tuple[array[int], array[float]] | None:
        import duckdb

        with tempfile.TemporaryDirectory(prefix="mobile-ingress-duckdb-") as spill:
            try:
                con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": spill})
                # The planner underestimates the anchors (a handful per device) and joins each row
                # to them in a nested loop: at 1M events that loop was a third of the query.
                con.execute("SET asof_loop_join_threshold = 0")
                self._inventory(con)
                con.execute(render_load(os.path.abspath(path)))
                result = con.execute(render_query(self.prefilter))
                counts = {rid: t for rid, t in result.fetchmany(3)}
                if counts.get(-2) or counts.get(-3) or -1 not in counts:
                    return None  # a line the rule cannot place: the whole file is read plainly
                rids: array[int] = array("q")
                times: array[float] = array("d")
                while True:
                    batch = result.fetchmany(100_000)
                    if not batch:
                        break
                    for rid, t in batch:
                        rids.append(rid)
                        times.append(t)
                rids.append(int(counts[-1]))  # sentinel: the row count, checked against the file
                con.close()
            except duckdb.Error:
                return None
        return rids, times

    def _inventory(self, con: Any) -> None:
        con.execute("CREATE TABLE inventory(device_id TEXT, platform TEXT, ip TEXT, first_seen DOUBLE, "
                    "last_seen DOUBLE)")  # fmt: skip
        # A lease span no managed device is known for has no device_id: a flow it covers stays
        # unresolved (a skip with its reason), so it resolves to no device here (NULL: not clean).
        rows = [(r.device_id or None, r.platform, r.ip, r.first_seen, r.last_seen)
                for r in self.prefilter.rules.lookups.inventory]  # fmt: skip
        for start in range(0, len(rows), 1000):  # one statement per batch: executemany is row by row
            batch = rows[start : start + 1000]
            values = ", ".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in batch)
            con.execute(f"INSERT INTO inventory VALUES {values}")

    # Reading: the plain reader's loop, parsing only the kept rows ----------------------------

    def _read_kept(self, path: str, label: str, rids: array[int], times: array[float]) -> Iterator[Raw]:
        total = rids[-1]
        kept = len(rids) - 1
        index = 0  # position in rids of the next kept row
        row = -1
        skipped = 0
        with _open_text(path) as handle:
            for number, line in enumerate(handle, start=1):
                text = line.strip()
                if not text:
                    continue
                row += 1
                if index < kept and rids[index] == row:
                    if skipped:
                        yield Raw(f"{label}:{number}", irrelevant=skipped)
                        skipped = 0
                    expected = times[index]
                    index += 1
                    raw = parse_line(text, f"{label}:{number}")
                    _check(self, raw, expected)
                    yield raw
                else:
                    skipped += 1
        if row + 1 != total or index != kept:
            self.disabled = True
            raise FastReaderMismatch(f"{label}: DuckDB read {total} rows, the file has {row + 1} lines")
        if skipped:
            yield Raw(f"{label}:end", irrelevant=skipped)


def _literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return repr(value) + "::DOUBLE"
    return _q(str(value))


def _check(reader: FastReader, raw: Raw, expected: float) -> None:
    """A kept line's time must be the time DuckDB saw on that row (else the rows are misaligned)."""
    if raw.record is None or expected != expected:  # NaN: DuckDB had no numeric time here
        return
    value = parse_number(raw.record.get("_time"))
    seconds = None if value is None else value / 1000.0 if abs(value) >= 1e11 else value
    if seconds != expected:
        reader.disabled = True
        raise FastReaderMismatch(f"{raw.where}: time {seconds} where DuckDB saw {expected}")
