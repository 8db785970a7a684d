"""A slow, literal reading of the contract's chain rules, used only to check the simulator's labels.

It is written from the contract (docs/contract.md) section 3 and docs/contract-decisions.md, not from
the simulator's code, and only has to be right on normalized NDJSON events like the simulator's.
It is not the engine: it is quadratic per device and skips what the simulator never produces.
"""

from __future__ import annotations

import csv
import ipaddress
import json
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

SHIPPED = Path(__file__).resolve().parents[2] / "package" / "lookups"
WINDOW = 300.0
SKEW = 10.0
THRESHOLD = 8192
IN_PROCESS = {"dexclassloader", "loadlibrary", "dlopen"}


def load_lookup(out: Path, name: str) -> list[dict[str, str]]:
    p = out / "lookups" / f"mobile_ingress_{name}.csv"
    if not p.exists():
        p = SHIPPED / f"mobile_ingress_{name}.csv"
    with open(p, newline="", encoding="utf-8-sig") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def parse_time(v: Any) -> float:
    if isinstance(v, (int, float)):
        x = float(v)
    else:
        try:
            x = float(v)
        except ValueError:
            return datetime.fromisoformat(str(v).replace("Z", "+00:00")).timestamp()
    return x / 1000 if x >= 1e11 else x


def norm_host(h: str | None) -> str | None:
    if not h:
        return None
    h = h.strip().lower()
    if h.startswith("["):
        h = h[1 : h.index("]")]
    elif h.count(":") == 1:
        h = h.split(":")[0]
    return h.rstrip(".")


def url_host(url: str | None) -> str | None:
    if not url or "://" not in url:
        return None
    return norm_host(url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0])


def as_ip(h: str) -> Any | None:
    try:
        a = ipaddress.ip_address(h)
    except ValueError:
        return None
    if a.version == 6 and a.ipv4_mapped:
        return a.ipv4_mapped
    return a


def host_match(pattern: str, host: str) -> bool:
    if pattern == "*":
        return True
    ip = as_ip(host)
    if "/" in pattern:
        return ip is not None and ip in ipaddress.ip_network(pattern, strict=False)
    pip = as_ip(pattern)
    if pip is not None or ip is not None:
        return pip is not None and ip is not None and pip == ip
    p = norm_host(pattern) or ""
    if p.startswith("*."):
        return host == p[2:] or host.endswith("." + p[2:])
    return host == p


def glob_re(pattern: str, flags: int = 0) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out += "(?:/.*)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile("^" + out + "$", flags)


def norm_path(p: str) -> str:
    if p.startswith("file://"):
        p = p[7:]
    for raw, new in (
        ("/data/user/0/", "/data/data/"),
        ("/sdcard/", "/storage/emulated/0/"),
        ("/storage/self/primary/", "/storage/emulated/0/"),
        ("/var/", "/private/var/"),
    ):
        if p.startswith(raw):
            p = new + p[len(raw) :]
    parts: list[str] = []
    for seg in p.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if parts:
                parts.pop()
            continue
        parts.append(seg)
    return "/" + "/".join(parts) + ("/" if p.endswith("/") and parts else "")


def app_from_path(p: str) -> str | None:
    for rx in (
        r"^/data/data/([^/]+)/",
        r"^/data/user(?:_de)?/\d+/([^/]+)/",
        r"^/mnt/expand/[^/]+/user/\d+/([^/]+)/",
        r"^/storage/emulated/\d+/Android/(?:data|obb|media)/([^/]+)/",
    ):
        m = re.match(rx, p)
        if m:
            return m.group(1)
    return None


def shared_storage(p: str) -> bool:
    return (
        re.match(r"^/storage/emulated/\d+/", p) is not None
        and re.match(r"^/storage/emulated/\d+/Android/", p) is None
    )


def hash_may_match(g: dict[str, Any], f: dict[str, Any]) -> bool:
    """Same hash, or an unknown hash on either side (the duplicate staged file rule)."""
    return g.get("file_hash") is None or f.get("file_hash") is None or g["file_hash"] == f["file_hash"]


def same_file(x: dict[str, Any], f: dict[str, Any]) -> bool:
    """A follow-on event names F: same path, or same known hash."""
    return x["path"] == f["path"] or bool(f.get("file_hash") and x.get("file_hash") == f["file_hash"])


def canon(e: dict[str, Any]) -> str:
    return json.dumps(e["raw"], sort_keys=True, separators=(",", ":"))


class Reference:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.allowed_apps = load_lookup(out, "allowed_apps")
        self.allowed_dest = load_lookup(out, "allowed_destinations")
        self.allowed_paths = load_lookup(out, "allowed_paths")
        self.risk = load_lookup(out, "file_risk_patterns")
        self.baseline = load_lookup(out, "destination_baseline")
        self.managed = load_lookup(out, "managed_apps")
        self.inventory = load_lookup(out, "device_inventory")
        self.risk_rx = [
            (
                r["platform"],
                r["field"],
                r["pattern"],
                None if r["pattern"] == "<noext>" else glob_re(r["pattern"], re.I),
            )
            for r in self.risk
        ]
        self.path_rx = [(r["platform"], r["app_id"], glob_re(r["path_pattern"])) for r in self.allowed_paths]

    # ------------------------------------------------------------ lookups
    def resolve(self, e: dict[str, Any]) -> tuple[str | None, str | None]:
        rows = []
        for row in self.inventory:
            if e.get("device_id"):
                if row["device_id"] != e["device_id"]:
                    continue
            elif row["ip"] != e.get("src_ip"):
                continue
            lo = parse_time(row["first_seen"]) if row["first_seen"] else float("-inf")
            hi = parse_time(row["last_seen"]) if row["last_seen"] else float("inf")
            if lo <= e["t"] <= hi:
                rows.append(row)
        if e.get("device_id"):
            return e["device_id"], (e.get("platform") or (rows[0]["platform"] if rows else None))
        if len(rows) != 1:
            return None, None
        return rows[0]["device_id"], e.get("platform") or rows[0]["platform"]

    def is_risky(self, platform: str, f: dict[str, Any]) -> bool:
        name = f.get("file_name") or f["path"].rsplit("/", 1)[-1]
        ftype = (f.get("file_type") or "").split(";")[0].strip()
        for plat, field, pattern, rx in self.risk_rx:
            if plat not in ("", "*", platform):
                continue
            if pattern == "<noext>":
                if (
                    field == "file_name"
                    and "." not in name[1:]
                    and f.get("file_size") is not None
                    and f["file_size"] >= THRESHOLD
                ):
                    return True
                continue
            value = {"file_name": name, "file_type": ftype, "file_path": f["path"]}.get(field) or ""
            if value and rx is not None and rx.match(value):
                return True
        return False

    def allowed_path(self, platform: str, apps: list[str | None], path: str) -> bool:
        for plat, app, rx in self.path_rx:
            if plat not in ("", "*", platform):
                continue
            if app not in ("", "*") and app not in apps:
                continue
            if rx.match(path):
                return True
        return False

    def app_allowlisted(self, platform: str, app: str | None) -> bool:
        return bool(app) and any(
            r["platform"] in ("", "*", platform) and r["app_id"] == app for r in self.allowed_apps
        )

    def dest_hosts(self, r: dict[str, Any]) -> list[str]:
        hosts = (norm_host(r.get("dest")), norm_host(r.get("dest_ip")), url_host(r.get("url")))
        return [h for h in hosts if h]

    def dest_allowed(self, r: dict[str, Any], app: str | None) -> bool:
        for row in self.allowed_dest:
            if row["app_id"] not in ("", "*", app):
                continue
            if any(host_match(row["destination"], h) for h in self.dest_hosts(r)):
                return True
        return False

    def baselined(self, r: dict[str, Any], app: str | None) -> bool:
        for row in self.baseline:
            if row["app_id"] not in ("*", app):
                continue
            if row["first_seen"] and parse_time(row["first_seen"]) > r["t"] - WINDOW:
                continue
            if any(host_match(row["dest"], h) for h in self.dest_hosts(r)):
                return True
        return False

    def unapproved(self, platform: str, app: str | None) -> bool:
        for row in self.managed:
            managed = row["managed"].lower() in ("true", "1", "yes")
            if row["platform"] == platform and row["app_id"] == app and managed:
                return not row["approved_roles"]
        return False

    def managed_no_role(self, platform: str, app: str | None) -> bool:
        return self.unapproved(platform, app)

    # ------------------------------------------------------------ run
    def load_events(self) -> dict[str, list[dict[str, Any]]]:
        per_dev: dict[str, list[dict[str, Any]]] = defaultdict(list)
        with open(self.out / "events.ndjson", encoding="utf-8") as fh:
            for line in fh:
                raw = json.loads(line)
                e = dict(raw)
                e["raw"] = raw
                e["t"] = round(parse_time(raw["_time"]), 3)
                if e["activity"] == "retrieval":
                    dev, plat = self.resolve(e)
                    if dev is None:
                        continue
                    e["device_id"], e["platform"] = dev, plat
                    hosts = [norm_host(e.get("dest")), norm_host(e.get("dest_ip"))]
                    if any(h and as_ip(h) is not None and as_ip(h).is_loopback for h in hosts):
                        continue
                    e["ndest"] = (
                        norm_host(e.get("dest")) or url_host(e.get("url")) or norm_host(e.get("dest_ip"))
                    )
                if "file_path" in e:
                    e["path"] = norm_path(e["file_path"])
                    if not e.get("app_id") and e["platform"] == "android":
                        e["app_from_path"] = app_from_path(e["path"])
                per_dev[e["device_id"]].append(e)
        for evs in per_dev.values():
            evs.sort(key=lambda x: (x["t"], canon(x)))
            kept: list[dict[str, Any]] = []
            seen_id: dict[tuple[str, str], float] = {}
            seen_content: dict[str, float] = {}
            for e in evs:
                content = json.dumps({k: v for k, v in e["raw"].items() if k != "event_id"}, sort_keys=True)
                if content in seen_content and e["t"] - seen_content[content] <= WINDOW:
                    continue
                key = (e.get("event_id") or "", e["activity"])
                if e.get("event_id") and key in seen_id and e["t"] - seen_id[key] <= WINDOW:
                    continue
                seen_content[content] = e["t"]
                if e.get("event_id"):
                    seen_id[key] = e["t"]
                kept.append(e)
            evs[:] = kept
        return per_dev

    def bytes_sum(self, evs: list[dict[str, Any]], r: dict[str, Any]) -> int | None:
        total, known = 0, False
        for x in evs:
            if x["activity"] != "retrieval" or x.get("app_id") != r.get("app_id") or x["ndest"] != r["ndest"]:
                continue
            if r["t"] - WINDOW <= x["t"] <= r["t"] and x.get("bytes_in") is not None:
                total += int(x["bytes_in"])
                known = True
        return total if known else None

    def context(self, evs: list[dict[str, Any]], probes: list[dict[str, Any]], app: str | None) -> list[str]:
        flags = set()
        for p in probes:
            locked, state, rui = None, None, None
            for x in evs:
                if (x["t"], canon(x)) >= (p["t"], canon(p)):
                    break
                if "device_locked" in x:
                    locked = x["device_locked"]
                if x.get("app_id") == app and app:
                    state = x.get("app_state", state)
                    rui = x.get("recent_user_interaction", rui)
            locked = p.get("device_locked", locked)
            state = p.get("app_state", state)
            rui = p.get("recent_user_interaction", rui)
            if state == "background":
                flags.add("background")
            if locked is True:
                flags.add("device_locked")
            if rui is False:
                flags.add("no_user_interaction")
        return [c for c in ("background", "device_locked", "no_user_interaction") if c in flags]

    def findings(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for dev, evs in self.load_events().items():
            out.extend(self.device_findings(dev, evs))
        return out

    def device_findings(self, dev: str, evs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        rets = [e for e in evs if e["activity"] == "retrieval"]
        files = [e for e in evs if e["activity"] == "file_create"]
        used_r: set = set()
        staged_before: list[dict[str, Any]] = []
        for f in files:
            plat = f["platform"]
            if not self.is_risky(plat, f):
                continue
            dup = any(
                g["path"] == f["path"] and 0 <= f["t"] - g["t"] <= WINDOW and hash_may_match(g, f)
                for g in staged_before
            )
            staged_before.append(f)
            if dup:
                continue
            f_app = f.get("app_id") or f.get("app_from_path")
            loads_in_process = any(
                x["activity"] == "load"
                and x.get("load_method") in IN_PROCESS
                and same_file(x, f)
                and f["t"] <= x["t"] <= f["t"] + WINDOW
                for x in evs
            )
            cands = []
            for r in rets:
                if r["platform"] != plat or not (r["t"] - SKEW <= f["t"] <= r["t"] + WINDOW):
                    continue
                r_app = r.get("app_id")
                if r_app and f_app and r_app == f_app:
                    rank = 2
                elif not r_app:
                    rank = 3
                elif plat == "android" and (
                    (not f.get("app_id") and shared_storage(f["path"]))
                    or (
                        r.get("retrieval_method") == "download_manager"
                        and (
                            f.get("app_id") == "com.android.providers.downloads" or shared_storage(f["path"])
                        )
                    )
                ):
                    rank = 4
                else:
                    continue
                app = r_app or f_app
                if self.allowed_path(plat, [f_app, app], f["path"]):
                    continue
                if self.app_allowlisted(plat, app) and not loads_in_process:
                    continue
                if self.dest_allowed(r, app) or self.baselined(r, app):
                    continue
                b = self.bytes_sum(evs, r)
                if b is None:
                    b = f.get("file_size")
                if b is not None and b < THRESHOLD:
                    continue
                last = (r.get("url") or "").split("?", 1)[0].rstrip().rsplit("/", 1)[-1]
                name = f.get("file_name") or f["path"].rsplit("/", 1)[-1]
                if r.get("url") and last == name:
                    rank = 1
                cands.append((rank, r, app))
            if not cands:
                continue
            best_rank = min(c[0] for c in cands)
            tier = [c for c in cands if c[0] == best_rank]
            before = [c for c in tier if c[1]["t"] <= f["t"]]
            pick = max(before, key=lambda c: (c[1]["t"],)) if before else min(tier, key=lambda c: c[1]["t"])
            _, r, app = pick
            used_r.add(id(r))
            stages = ["retrieval", "staging"]
            targets = []
            for x in evs:
                if (
                    x["activity"] in ("unpack", "load", "handoff")
                    and f["t"] <= x["t"] <= f["t"] + WINDOW
                    and same_file(x, f)
                ):
                    stages.append(x["activity"])
                    if x["activity"] == "unpack" and x.get("target_path"):
                        targets.append((x["t"], norm_path(x["target_path"]).rstrip("/") + "/"))
            for x in evs:
                if (
                    x["activity"] in ("load", "handoff")
                    and f["t"] <= x["t"] <= f["t"] + WINDOW
                    and any(x["path"].startswith(tp) and x["t"] >= tt for tt, tp in targets)
                ):
                    stages.append(x["activity"])
            for x in rets:
                if x is r or x["ndest"] != r["ndest"] or x.get("app_id") not in (None, app):
                    continue
                if f["t"] - SKEW <= x["t"] <= f["t"] + WINDOW:
                    stages.append("repeat_retrieval")
                    used_r.add(id(x))
            stages = [
                s
                for s in ("retrieval", "staging", "unpack", "load", "handoff", "repeat_retrieval")
                if s in stages
            ]
            ctx = self.context(evs, [r, f], app)
            if self.unapproved(plat, app):
                ctx.append("unapproved_role")
            found.append(
                {
                    "analytic_id": "AN1848" if plat == "android" else "AN1849",
                    "device_id": dev,
                    "app_id": app,
                    "file_path": f["path"],
                    "dest": r["ndest"],
                    "time": f["t"],
                    "stages": stages,
                    "context": ctx,
                }
            )
        # iOS retrieval-only
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        for r in rets:
            if r["platform"] != "ios" or id(r) in used_r:
                continue
            app = r.get("app_id")
            if not app or not self.managed_no_role("ios", app):
                continue
            if self.dest_allowed(r, app) or self.baselined(r, app):
                continue
            key = (app, r["ndest"])
            g = groups.get(key)
            if g is not None and r["t"] <= g["time"] + WINDOW:
                if "repeat_retrieval" not in g["stages"]:
                    g["stages"].append("repeat_retrieval")
                continue
            b = self.bytes_sum(evs, r)
            if b is None or b < THRESHOLD:
                continue
            g = {
                "analytic_id": "AN1849",
                "device_id": dev,
                "app_id": app,
                "file_path": None,
                "dest": r["ndest"],
                "time": r["t"],
                "stages": ["retrieval"],
                "context": [*self.context(evs, [r], app), "unapproved_role"],
            }
            groups[key] = g
            found.append(g)
        return found
