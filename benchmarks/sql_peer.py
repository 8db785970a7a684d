"""A SQL peer of the chain (contract section 3) in DuckDB, for the benchmark: the same events and
lookups, the chain as one query, so the command line's wall time has something to be held against.

    python benchmarks/sql_peer.py EVENTS.ndjson LOOKUPS_DIR OUT.ndjson

Range join of retrievals and staged files on device, app and window; allowlists and the baseline as
anti-joins; the byte sum as a window aggregate; the nearest retrieval per file by rank, side and
distance. Written for the simulated fleets: normalization covers what they contain (epoch times,
path aliases, `src_ip` flows, host case, ports and trailing dots, IPv4 CIDRs), not every form the
contract allows; iOS retrieval-only findings, follow-on stages, context and scores are not chains
and are left out. Its output is one line per chain: device, app, file path, destination and F - R.
The regexes of the globs come from the engine's glob translation; the matching is DuckDB's.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path

import duckdb

from mobile_ingress.engine.globs import glob_regex
from mobile_ingress.engine.settings import Settings

SHIPPED = Path(__file__).resolve().parents[1] / "package" / "lookups"
EVENT_COLUMNS = [
    "_time",
    "activity",
    "platform",
    "device_id",
    "app_id",
    "event_id",
    "dest",
    "dest_ip",
    "url",
    "src_ip",
    "bytes_in",
    "retrieval_method",
    "file_path",
    "file_name",
    "file_size",
    "file_hash",
    "file_type",
    "target_path",
    "load_method",
]


def lookup_rows(folder: Path, name: str) -> list[dict[str, str]]:
    """The first non-empty of the fleet's file and the shipped one, `disabled` rows dropped."""
    for path in (folder / f"mobile_ingress_{name}.csv", SHIPPED / f"mobile_ingress_{name}.csv"):
        if path.exists():
            with open(path, encoding="utf-8-sig", newline="") as handle:
                rows = [r for r in csv.DictReader(handle)
                        if (r.get("disabled") or "").strip().lower() not in ("true", "1")]  # fmt: skip
            if rows:
                return rows
    return []


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[object, ...]]) -> None:
    """Rows in one statement per thousand (DuckDB's executemany runs one statement per row)."""

    def literal(value: object) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, (int, float)):
            return repr(value)
        return "'" + str(value).replace("'", "''") + "'"

    for start in range(0, len(rows), 1000):
        values = ", ".join(
            "(" + ", ".join(literal(v) for v in row) + ")" for row in rows[start : start + 1000]
        )
        con.execute(f"INSERT INTO {table} VALUES {values}")


def load_lookups(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    risk = []
    for i, r in enumerate(lookup_rows(folder, "file_risk_patterns")):
        pattern = r["pattern"].strip()
        noext = pattern.lower() == "<noext>"
        regex = None if noext else "(?is)" + glob_regex(pattern)
        risk.append((i, r["platform"].strip().lower() or "*", r["field"].strip().lower(), regex, noext))
    con.execute("CREATE TABLE risk(pos INT, platform TEXT, field TEXT, regex TEXT, noext BOOL)")
    insert(con, "risk", risk)
    paths = [(r["platform"].strip().lower() or "*", r["app_id"].strip() or "*", "(?s)" + glob_regex(r["path_pattern"].strip()))
             for r in lookup_rows(folder, "allowed_paths")]  # fmt: skip
    con.execute("CREATE TABLE allowed_paths(platform TEXT, app_id TEXT, regex TEXT)")
    insert(con, "allowed_paths", paths)
    apps = [
        (r["platform"].strip().lower() or "*", r["app_id"].strip())
        for r in lookup_rows(folder, "allowed_apps")
    ]
    con.execute("CREATE TABLE allowed_apps(platform TEXT, app_id TEXT)")
    insert(con, "allowed_apps", apps)

    def host_rows(name: str, column: str) -> list[tuple[object, ...]]:
        out = []
        for r in lookup_rows(folder, name):
            text = r[column].strip().lower().rstrip(".")
            first = (r.get("first_seen") or "").strip() or None
            kind, value, lo, hi = "host", text, None, None
            if text.startswith("*."):
                kind, value = "suffix", text[2:]
            elif "/" in text:
                base, bits = text.split("/")
                kind, lo = "cidr", _ip4(base)
                hi = lo + 2 ** (32 - int(bits)) - 1 if lo is not None else None
            elif _ip4(text) is not None:
                kind, lo = "ip", _ip4(text)
                hi = lo
            out.append((kind, value, lo, hi, (r.get("app_id") or "*").strip() or "*", first))
        return out

    for table, name, column in (("allowed_dest", "allowed_destinations", "destination"),
                                ("baseline", "destination_baseline", "dest")):  # fmt: skip
        con.execute(
            f"CREATE TABLE {table}(kind TEXT, value TEXT, lo BIGINT, hi BIGINT, app_id TEXT, first_seen TEXT)"
        )
        insert(con, table, host_rows(name, column))
    inventory = [(r["device_id"].strip(), r["platform"].strip().lower() or None, r["ip"].strip() or None,
                  r["first_seen"].strip() or None, r["last_seen"].strip() or None)
                 for r in lookup_rows(folder, "device_inventory")]  # fmt: skip
    con.execute(
        "CREATE TABLE inventory(device_id TEXT, platform TEXT, ip TEXT, first_seen TEXT, last_seen TEXT)"
    )
    insert(con, "inventory", inventory)


def _ip4(text: str) -> int | None:
    parts = text.split(".")
    if len(parts) != 4 or not all(p.isdigit() and int(p) < 256 for p in parts):
        return None
    return sum(int(p) << (8 * (3 - i)) for i, p in enumerate(parts))


def ip4_sql(column: str) -> str:
    """An IPv4 text as a BIGINT in SQL (NULL when it is not one)."""
    parts = [f"TRY_CAST(split_part({column}, '.', {i}) AS BIGINT)" for i in range(1, 5)]
    return (f"CASE WHEN regexp_full_match({column}, '\\d{{1,3}}(\\.\\d{{1,3}}){{3}}') THEN "
            f"{parts[0]} * 16777216 + {parts[1]} * 65536 + {parts[2]} * 256 + {parts[3]} END")  # fmt: skip


def host_match(host: str, ip: str, table: str) -> str:
    """SQL: the row of TABLE (alias m) matches HOST (a normalized name) or IP (its BIGINT)."""
    return (f"((m.kind = 'host' AND {host} = m.value) OR (m.kind = 'suffix' AND ({host} = m.value OR "
            f"{host} LIKE '%.' || m.value)) OR (m.kind IN ('ip', 'cidr') AND {ip} BETWEEN m.lo AND m.hi))")  # fmt: skip


def risk_condition(con: duckdb.DuckDBPyConnection, threshold: float) -> str:
    """The risk patterns as one constant regex per platform and field (a regex taken from a column
    is compiled again for every row)."""
    terms = []
    rows = con.execute("SELECT platform, field, regex, noext FROM risk ORDER BY pos").fetchall()
    grouped: dict[tuple[str, str], list[str]] = {}
    for platform, field, regex, noext in rows:
        plat = "TRUE" if platform == "*" else f"fc.platform = '{platform}'"
        if noext:
            terms.append(
                f"({plat} AND NOT contains(substr(fc.file_name, 2), '.') AND fc.file_size >= {threshold})"
            )
        else:
            grouped.setdefault((plat, field), []).append(regex.replace("(?is)", ""))
    for (plat, field), regexes in grouped.items():
        pattern = "(?is)(?:" + "|".join(regexes) + ")"
        terms.append(f"({plat} AND regexp_full_match(fc.{field}, '{pattern.replace(chr(39), chr(39) * 2)}'))")
    return "(" + " OR ".join(terms) + ")" if terms else "FALSE"


def chains(events: str, lookups: str, settings: Settings) -> list[tuple[object, ...]]:
    w, skew, threshold = settings.time_window, settings.clock_skew, settings.ingress_bytes_threshold
    con = duckdb.connect()
    load_lookups(con, Path(lookups))
    columns = ", ".join(f"'{c}': 'VARCHAR'" for c in EVENT_COLUMNS)
    con.execute(f"""
    CREATE TABLE raw AS SELECT row_number() OVER () AS rid, * FROM read_ndjson('{events}', columns={{{columns}}},
        ignore_errors=true)""")
    # Normalized events (section 1, as far as the fleets need).
    con.execute(f"""
    CREATE TABLE ev AS
    WITH base AS (
      SELECT rid, CASE WHEN abs(TRY_CAST(_time AS DOUBLE)) >= 1e11 THEN TRY_CAST(_time AS DOUBLE) / 1000
                       ELSE TRY_CAST(_time AS DOUBLE) END AS t,
             lower(trim(activity)) AS activity, lower(trim(platform)) AS platform, trim(device_id) AS device_id,
             NULLIF(trim(app_id), '') AS app_id, NULLIF(trim(event_id), '') AS event_id,
             NULLIF(trim(url), '') AS url, NULLIF(trim(src_ip), '') AS src_ip,
             TRY_CAST(bytes_in AS DOUBLE) AS bytes_in, lower(trim(retrieval_method)) AS retrieval_method,
             NULLIF(trim(dest), '') AS dest_raw, NULLIF(trim(dest_ip), '') AS dest_ip,
             regexp_replace(regexp_replace(regexp_replace(trim(file_path), '^file://', '', 'i'), '/+', '/', 'g'),
                            '/\\./', '/', 'g') AS p0,
             NULLIF(trim(file_name), '') AS file_name_raw, TRY_CAST(file_size AS DOUBLE) AS file_size,
             lower(NULLIF(trim(file_hash), '')) AS file_hash,
             NULLIF(lower(trim(split_part(file_type, ';', 1))), '') AS file_type,
             lower(trim(load_method)) AS load_method
      FROM raw WHERE _time IS NOT NULL
    ), paths AS (
      SELECT *, CASE
          WHEN p0 LIKE '/data/user/0/%' THEN '/data/data/' || substr(p0, 14)
          WHEN p0 LIKE '/sdcard/%' THEN '/storage/emulated/0/' || substr(p0, 9)
          WHEN p0 LIKE '/storage/self/primary/%' THEN '/storage/emulated/0/' || substr(p0, 23)
          WHEN platform = 'ios' AND p0 LIKE '/var/%' THEN '/private' || p0
          ELSE p0 END AS file_path
      FROM base
    ), hosts AS (
      SELECT *, lower(rtrim(regexp_extract(url, '^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/]*@)?(\\[[^\\]]*\\]|[^:/?#]*)', 1), '.'))
                  AS url_host,
             lower(rtrim(regexp_replace(dest_raw, ':\\d+$', ''), '.')) AS dest_norm
      FROM paths
    ), resolved AS (
      SELECT h.*, COALESCE(NULLIF(h.device_id, ''), i.device_id) AS device,
             COALESCE(NULLIF(h.platform, ''), i.platform, d.platform) AS plat
      FROM hosts h
      -- a flow's device: the one inventory row for its address that covers its time (an address
      -- is reassigned over a long fleet: rows of other times do not count)
      LEFT JOIN (SELECT f.rid AS flow, any_value(v.device_id) AS device_id, any_value(v.platform) AS platform,
                        count(*) AS n
                 FROM hosts f JOIN (SELECT device_id, platform, ip,
                                           epoch(CAST(first_seen AS TIMESTAMPTZ)) AS first_seen,
                                           epoch(CAST(last_seen AS TIMESTAMPTZ)) AS last_seen FROM inventory) v
                   ON f.src_ip = v.ip AND (v.first_seen IS NULL OR v.first_seen <= f.t)
                  AND (v.last_seen IS NULL OR f.t <= v.last_seen)
                 WHERE f.device_id IS NULL OR f.device_id = ''
                 GROUP BY f.rid) i
        ON i.flow = h.rid AND i.n = 1
      LEFT JOIN (SELECT device_id, any_value(platform) AS platform FROM inventory GROUP BY device_id) d
        ON h.device_id = d.device_id
    )
    SELECT rid, t, activity, plat AS platform, device, event_id, url, bytes_in, retrieval_method, file_path,
           file_size, file_hash, file_type, load_method,
           COALESCE(app_id, CASE WHEN plat = 'android' THEN COALESCE(
               regexp_extract(file_path, '^/data/data/([^/]+)(/|$)', 1),
               regexp_extract(file_path, '^/data/user(?:_de)?/\\d+/([^/]+)(/|$)', 1),
               regexp_extract(file_path, '^/storage/emulated/\\d+/Android/(?:data|obb|media)/([^/]+)(/|$)', 1)) END)
             AS app0,
           app_id AS app_given,
           plat = 'android' AND regexp_matches(file_path, '^/storage/emulated/\\d+(/|$)')
             AND NOT regexp_matches(file_path, '^/storage/emulated/\\d+/Android(/|$)') AS shared,
           COALESCE(file_name_raw, regexp_extract(file_path, '[^/]*$')) AS file_name,
           COALESCE(dest_norm, url_host, dest_ip) AS dest, dest_ip, url_host,
           {ip4_sql("COALESCE(dest_norm, url_host, dest_ip)")} AS dest_ip4, {ip4_sql("dest_ip")} AS dest_ip_ip4,
           {ip4_sql("url_host")} AS url_ip4,
           regexp_extract(regexp_extract(url, '^[^?#]*'), '[^/]*$') AS url_name
    FROM resolved WHERE device IS NOT NULL AND plat IN ('android', 'ios')
    """)
    con.execute("UPDATE ev SET app0 = NULL WHERE app0 = ''")
    con.execute("""UPDATE ev SET url_name = NULL WHERE url_name = ''""")
    # Retrievals: loopback and duplicate event ids (within the window) out; summed bytes as a window.
    con.execute(f"""
    CREATE TABLE r AS
    WITH rr AS (
      SELECT *, lag(t) OVER (PARTITION BY device, event_id ORDER BY t) AS prev_t FROM ev
      WHERE activity = 'retrieval' AND dest IS NOT NULL AND NOT starts_with(dest, '127.')
        AND NOT starts_with(COALESCE(dest_ip, ''), '127.') AND NOT starts_with(COALESCE(url_host, ''), '127.')
    ), live AS (SELECT * FROM rr WHERE event_id IS NULL OR prev_t IS NULL OR t - prev_t > {w})
    SELECT *, sum(bytes_in) OVER (PARTITION BY device, app0, dest ORDER BY t RANGE BETWEEN {w} PRECEDING
                                  AND CURRENT ROW) AS bytes_sum
    FROM live
    """)
    # Staged files: risky (first matching pattern), not a duplicate of one within the window before.
    con.execute(f"""
    CREATE TABLE f AS
    WITH fc AS (SELECT * FROM ev WHERE activity = 'file_create' AND file_path IS NOT NULL
                  AND (app0 IS NOT NULL OR shared)),
    risky AS (SELECT fc.* FROM fc WHERE {risk_condition(con, threshold)})
    SELECT a.* FROM risky a WHERE NOT EXISTS (
      SELECT 1 FROM risky b WHERE b.device = a.device AND b.file_path = a.file_path
        AND b.t >= a.t - {w} AND b.t < a.t AND (b.file_hash IS NULL OR a.file_hash IS NULL OR b.file_hash = a.file_hash))
    """)
    # In-process loads of a staged file (an allowlisted app is still raised for them).
    con.execute(f"""
    CREATE TABLE inproc AS SELECT DISTINCT f.rid FROM f JOIN ev s ON s.device = f.device AND s.activity = 'load'
      AND s.load_method IN ('dexclassloader', 'loadlibrary', 'dlopen') AND s.t BETWEEN f.t AND f.t + {w}
      AND (s.file_path = f.file_path OR (f.file_hash IS NOT NULL AND s.file_hash = f.file_hash))
    """)
    # Allowed paths per staged file: one constant regex per row (see risk_condition).
    branches = []
    for platform, app, regex in con.execute("SELECT platform, app_id, regex FROM allowed_paths").fetchall():
        plat = "TRUE" if platform == "*" else f"platform = '{platform}'"
        quoted_app = app.replace("'", "''")
        branches.append(f"SELECT rid, '{quoted_app}' AS app_id FROM f WHERE {plat} AND "
                        f"regexp_full_match(file_path, '{regex.replace(chr(39), chr(39) * 2)}')")  # fmt: skip
    con.execute("CREATE TABLE fallow AS " + (" UNION ALL ".join(branches) if branches else
                "SELECT NULL::BIGINT AS rid, NULL::TEXT AS app_id WHERE FALSE"))  # fmt: skip
    # The range join, the app rule with its rank, the threshold, then the suppressions as anti-joins.
    rows = con.execute(f"""
    WITH pairs AS (
      SELECT f.rid AS frid, r.rid AS rrid, f.device, f.file_path, f.t AS ft, r.t AS rt, r.dest, r.event_id AS reid,
             COALESCE(r.app0, f.app0) AS app, f.platform, f.app0 AS fapp, r.dest_ip_ip4, r.url_ip4, r.dest_ip4,
             r.dest_ip AS rdest_ip, r.url_host,
             CASE WHEN r.url_name IS NOT NULL AND r.url_name = f.file_name THEN 1
                  WHEN r.app0 IS NOT NULL AND r.app0 = f.app0 THEN 2
                  WHEN r.app0 IS NULL THEN 3 ELSE 4 END AS rank,
             COALESCE(r.bytes_sum, f.file_size) AS measure
      FROM f JOIN r ON r.device = f.device AND r.platform = f.platform
        AND f.t BETWEEN r.t - {skew} AND r.t + {w}
      WHERE (r.app0 IS NOT NULL AND r.app0 = f.app0) OR r.app0 IS NULL OR (f.app0 IS NULL AND f.shared)
         OR (r.retrieval_method = 'download_manager' AND (f.app0 = 'com.android.providers.downloads' OR f.shared))
    ), passing AS (
      SELECT * FROM pairs p WHERE (p.measure IS NULL OR p.measure >= {threshold})
        AND NOT EXISTS (SELECT 1 FROM allowed_apps a WHERE a.app_id = p.app AND a.platform IN ('*', p.platform)
                        AND p.frid NOT IN (SELECT rid FROM inproc))
        AND NOT EXISTS (SELECT 1 FROM fallow a WHERE a.rid = p.frid
                        AND (a.app_id = '*' OR a.app_id = p.fapp OR a.app_id = p.app))
        AND NOT EXISTS (SELECT 1 FROM allowed_dest m WHERE (m.app_id = '*' OR m.app_id = p.app) AND (
                        {host_match("p.dest", "p.dest_ip4", "m")} OR {host_match("p.url_host", "p.url_ip4", "m")}
                        OR (m.kind IN ('ip', 'cidr') AND p.dest_ip_ip4 BETWEEN m.lo AND m.hi)))
        AND NOT EXISTS (SELECT 1 FROM baseline m WHERE (m.app_id = '*' OR m.app_id = p.app)
                        AND (m.first_seen IS NULL OR epoch(CAST(m.first_seen AS TIMESTAMPTZ)) <= p.rt - {w}) AND (
                        {host_match("p.dest", "p.dest_ip4", "m")} OR {host_match("p.url_host", "p.url_ip4", "m")}
                        OR (m.kind IN ('ip', 'cidr') AND p.dest_ip_ip4 BETWEEN m.lo AND m.hi)))
    )
    SELECT device, app, file_path, dest, round(ft - rt, 3) FROM passing
    QUALIFY row_number() OVER (PARTITION BY frid ORDER BY rank, (rt <= ft) DESC,
                               CASE WHEN rt <= ft THEN -rt ELSE rt END, reid NULLS LAST) = 1
    """).fetchall()
    return rows


def main(events: str, lookups: str, out: str) -> None:
    start = time.perf_counter()
    rows = chains(events, lookups, Settings())
    with open(out, "w", encoding="utf-8") as handle:
        for device, app, path, dest, delta in rows:
            handle.write(json.dumps({"device_id": device, "app_id": app, "file_path": path, "dest": dest,
                                     "delta_seconds": delta}) + "\n")  # fmt: skip
    print(f"{len(rows)} chains in {time.perf_counter() - start:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:4])
