"""Each action rendered by every source that sees it, in the raw format its mapping reads
(src/mobile_ingress/normalize/mappings), with the source's indexing lag:

- mobile EDR (`mobile:edr:telemetry`, docs/schemas/mobile_edr_telemetry.schema.json): pulled by
  API every 5 minutes, available 5 s to 10 min after the event, a few 60-80 min late;
- Zeek on site A (`bro:conn:json`, `bro:http:json`, `bro:files:json` in the current form: uid and
  id.* on files.log, linked to http.log by resp_fuids <-> fuid), written 20-120 s after the
  record closes;
- Suricata on site B (`suricata` EVE: http, fileinfo with its http object and flow_id, flow),
  5-60 s after the event;
- Android network activity and security logs (the events of `mdm:amapi:usagelog` before batching:
  mdm.py turns them into the input's own output).

Every retrieval a source reports is also kept as a fact (time, device, app, destination) for the
destination baseline a correct baseline search would learn (lookups.py)."""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .actions import Action, CodeLoad, FileWrite, Keyguard, ProcessStart, Request, State
from .benign import Locator
from .catalog import PLANTED_APPS, apps_by_id
from .model import (
    Device,
    Platform,
    Presence,
    RawEvent,
    Site,
    iso_ms,
    iso_us_offset,
    rng_for,
    uuid4,
    zeek_id,
    zeek_ts,
)

EDR_INDEX, EDR_SOURCE, EDR_HOST = "mobile", "http:mobile_edr", "hec-mobile-01"
ZEEK_INDEX, ZEEK_HOST = "netflow", "zeek-site-a"
EVE_INDEX, EVE_SOURCE, EVE_HOST = "netids", "/var/log/suricata/eve.json", "suricata-site-b"
RESOLVER = {Site.A: "10.20.0.1", Site.B: "10.40.0.1"}
DNS_TTL = 300.0
EDR_PULL = 300  # the EDR API is pulled every 5 minutes
LATE_SHARE = 1 / 4000  # benign EDR events that arrive 60-80 minutes late

MAGIC = {
    "application/json": "JSON text data",
    "image/jpeg": "JPEG image data, JFIF standard 1.01, aspect ratio, density 1x1, segment length 16",
    "image/png": "PNG image data, 512 x 512, 8-bit/color RGBA, non-interlaced",
    "application/pdf": "PDF document, version 1.7, 2 pages",
    "text/html": "HTML document, ASCII text, with very long lines",
    "application/vnd.android.package-archive": "Zip archive data, at least v2.0 to extract",
    "application/zip": "Zip archive data, at least v2.0 to extract",
    "application/x-sharedlib": "ELF 64-bit LSB shared object, ARM aarch64, version 1 (SYSV), dynamically "
    "linked, stripped",
}


@dataclass(frozen=True)
class Retrieval:
    """What a baseline search learns from one retrieval event."""

    time: float
    device_id: str
    app_id: str | None
    dest: str
    source: str


@dataclass
class UsageLog:
    """One Android usage-log event before its device uploads it."""

    time: float
    device: Device
    record: dict[str, Any]


@dataclass
class Collector:
    events: list[RawEvent] = field(default_factory=list)
    retrievals: list[Retrieval] = field(default_factory=list)
    usage: list[UsageLog] = field(default_factory=list)


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False)


def dumps(record: dict[str, Any]) -> str:
    """Compact JSON, as the sensors write it (one encoder: json.dumps would build one per call)."""
    return _ENCODER.encode(record)


def hashes(content: str) -> tuple[str, str, str]:
    """MD5, SHA-1 and SHA-256 of a response body; `content` is its SHA-256 (what the EDR reports)."""
    data = content.encode()
    return hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest(), content


def edr_indextime(time: float, rng: random.Random, delay: float | None) -> int:
    if delay is not None:
        return int(time + delay)
    lag = rng.uniform(3600, 4800) if rng.random() < LATE_SHARE else rng.uniform(5, 600)
    pulled = math.ceil((time + lag) / EDR_PULL) * EDR_PULL
    return int(pulled + rng.uniform(1, 25))


class Renderer:
    def __init__(self, seed: int, locator: Locator, collector: Collector) -> None:
        self.seed = seed
        self.locator = locator
        self.out = collector
        self.apps = apps_by_id()
        self.dns_seen: dict[tuple[str, str], float] = {}
        self.event_ids: dict[str, int] = {}
        self.dns_names: dict[tuple[str, str, str, int], list[tuple[int, str]]] = {}
        self.file_ids = 0

    # --------------------------------------------------------------------------------------
    def render(self, actions: Iterable[Action], rng: random.Random) -> None:
        """Render in time order; keep-alive requests go out together, as one connection."""
        grouped: dict[str, list[Request]] = {}
        for action in sorted(actions, key=lambda a: a.time):
            if isinstance(action, Request):
                self.request(action, rng)
                if action.conn is not None:
                    grouped.setdefault(action.conn, []).append(action)
                else:
                    self.connection([action], rng)
            elif isinstance(action, FileWrite):
                self.file_create(action, rng)
            elif isinstance(action, CodeLoad):
                self.code_load(action, rng)
            elif isinstance(action, State):
                self.state(action, rng)
            elif isinstance(action, Keyguard):
                kind = "KEYGUARD_SECURED" if action.secured else "KEYGUARD_DISMISSED"
                body = "keyguardSecuredEvent" if action.secured else "keyguardDismissedEvent"
                self.usage(action.device, action.time, kind, {body: {}})
            elif isinstance(action, ProcessStart):
                self.usage(
                    action.device,
                    action.time,
                    "APP_PROCESS_START",
                    {
                        "appProcessStartEvent": {
                            "processInfo": {
                                "processName": action.app_id,
                                "packageNames": [action.app_id],
                                "startTime": iso_ms(action.time),
                                "uid": 10000
                                + int(hashlib.sha1(action.app_id.encode()).hexdigest()[:4], 16) % 900,
                                "pid": rng.randint(3000, 32000),
                                "seinfo": "default:targetSdkVersion=34:complete",
                                "apkSha256Hash": action.apk_sha256,
                            }
                        }
                    },
                )
            else:
                raise TypeError(f"unknown action {type(action).__name__}")
        for requests in grouped.values():
            self.connection(requests, rng)

    # -------------------------------------------------------------------------------- requests
    def request(self, r: Request, rng: random.Random) -> None:
        """The app-level reports of a request: the EDR's retrieval, Android's DNS and CONNECT."""
        stay = self.locator.where(r.device.device_id, r.time)
        if r.app_id is not None and r.device.android and r.amapi:
            key = (r.device.device_id, r.host)
            if r.time - self.dns_seen.get(key, -1e12) > DNS_TTL:
                self.dns_seen[key] = r.time
                self.usage(
                    r.device,
                    r.time - rng.uniform(0.01, 0.08),
                    "DNS",
                    {
                        "dnsEvent": {
                            "hostname": r.host,
                            "ipAddresses": [r.ip],
                            "totalIpAddressesReturned": "1",
                            "packageName": r.app_id,
                        }
                    },
                )
            self.usage(
                r.device,
                r.time,
                "CONNECT",
                {
                    "connectEvent": {
                        "destinationIpAddress": r.ip,
                        "destinationPort": r.port,
                        "packageName": r.app_id,
                    }
                },
            )
        if r.edr and r.app_id is not None:
            network = {
                "method": r.edr_method,
                "url": r.url,
                "dest_host": r.host,
                "dest_ip": r.ip,
                "dest_port": r.port,
                "bytes_in": r.size,
                "http_method": "GET",
                "http_status": r.status,
            }
            self.edr(
                r.device,
                r.time,
                "network.retrieval",
                rng,
                r.app_id,
                stay,
                {"network": network, **({"context": r.context} if r.context else {})},
            )
            self.out.retrievals.append(
                Retrieval(round(r.time, 3), r.device.device_id, r.app_id, r.host.lower(), "edr")
            )
        if r.file is not None:
            self.file_create(r.file, rng)

    def usage(self, device: Device, time: float, kind: str, body: dict[str, Any]) -> None:
        number = self.event_ids.get(device.device_id)
        if number is None:
            number = 4_100_000_000 + int(hashlib.sha1(device.device_id.encode()).hexdigest()[:6], 16) * 1000
        self.event_ids[device.device_id] = number + 1
        stamp = round(time, 3)
        record = {"eventId": str(number), "eventTime": iso_ms(stamp), "eventType": kind, **body}
        self.out.usage.append(UsageLog(stamp, device, record))
        if kind == "DNS" and "packageName" in body["dnsEvent"]:
            # A DNS event is no retrieval: it names the CONNECTs of the device and app to its
            # addresses (docs/data.md). The baseline searches see one calendar day at a time.
            dns = body["dnsEvent"]
            for ip in dns.get("ipAddresses", []):
                key = (device.device_id, dns["packageName"], ip, int(stamp // 86400))
                self.dns_names.setdefault(key, []).append((math.floor(stamp), dns["hostname"].lower()))
        if kind == "CONNECT" and "packageName" in body["connectEvent"]:
            connect = body["connectEvent"]
            ip = connect["destinationIpAddress"]
            named = [
                (t, host)
                for t, host in self.dns_names.get(
                    (device.device_id, connect["packageName"], ip, int(stamp // 86400)), []
                )
                if t <= math.floor(stamp)
            ]
            self.out.retrievals.append(
                Retrieval(
                    stamp, device.device_id, connect["packageName"], max(named)[1] if named else ip, "amapi"
                )
            )

    # ------------------------------------------------------------------------------------- EDR
    def edr(
        self,
        device: Device,
        time: float,
        kind: str,
        rng: random.Random,
        app_id: str | None,
        stay: Presence | None,
        body: dict[str, Any],
        delay: float | None = None,
    ) -> None:
        stamp = round(time, 3)
        dev: dict[str, Any] = {
            "id": device.device_id,
            "platform": device.platform.value,
            "os_version": device.os_version,
            "model": device.model,
            "user": device.user,
        }
        if stay is not None:
            dev["ip"] = stay.ip
        record: dict[str, Any] = {
            "schema_version": "1.0",
            "vendor": "ExampleMTD",
            "product": "Mobile Sensor",
            "event_id": uuid4(rng),
            "event_type": kind,
            "timestamp": iso_ms(stamp),
            "device": dev,
        }
        if app_id is not None:
            record["app"] = {"id": app_id, "version": self.version(device.platform, app_id)}
        record.update(body)
        self.out.events.append(
            RawEvent(
                EDR_INDEX,
                "mobile:edr:telemetry",
                EDR_SOURCE,
                EDR_HOST,
                dumps(record),
                edr_indextime(stamp, rng, delay),
                stamp,
            )
        )

    def version(self, platform: Platform, app_id: str) -> str:
        spec = self.apps.get((platform, app_id))
        if spec is not None:
            return spec.version
        return PLANTED_APPS[app_id][2] if app_id in PLANTED_APPS else "1.0"

    def process(self, device: Device, app_id: str | None, rng: random.Random) -> dict[str, Any]:
        pid = 10000 + int(hashlib.sha1(f"{device.device_id}{app_id}".encode()).hexdigest()[:4], 16) % 20000
        if device.android:
            name = app_id or "android.process.media"
            return {
                "pid": pid,
                "name": name,
                "path": "/system/bin/app_process64",
                "parent": {"pid": 612, "name": "zygote64", "path": "/system/bin/app_process64"},
            }
        spec = self.apps.get((device.platform, app_id or ""))
        executable = spec.process if spec is not None and spec.process else (app_id or "x").rsplit(".", 1)[-1]
        bundle = uuid4(rng_for(self.seed, "bundle", device.device_id, app_id)).upper()
        return {
            "pid": pid,
            "name": executable,
            "path": f"/private/var/containers/Bundle/Application/{bundle}/{executable}.app/{executable}",
            "parent": {"pid": 1, "name": "launchd", "path": "/sbin/launchd"},
        }

    def file_create(self, f: FileWrite, rng: random.Random) -> None:
        stay = self.locator.where(f.device.device_id, f.time)
        body = {
            "file": {"path": f.path, "size": f.size, "sha256": f.sha256, "mime_type": f.mime},
            "process": self.process(f.device, f.app_id, rng),
        }
        self.edr(f.device, f.time, "file.create", rng, f.app_id, stay, body, f.index_delay)

    def code_load(self, c: CodeLoad, rng: random.Random) -> None:
        stay = self.locator.where(c.device.device_id, c.time)
        body = {
            "file": {"path": c.path, "sha256": c.sha256},
            "load": {"method": c.method},
            "process": self.process(c.device, c.app_id, rng),
        }
        self.edr(c.device, c.time, "code.load", rng, c.app_id, stay, body)

    def state(self, s: State, rng: random.Random) -> None:
        stay = self.locator.where(s.device.device_id, s.time)
        self.edr(s.device, s.time, s.kind, rng, s.app_id, stay, {"context": s.context})

    # -------------------------------------------------------------------------- network sensors
    def connection(self, requests: list[Request], rng: random.Random) -> None:
        first = requests[0]
        if not first.network:
            return
        stay = self.locator.where(first.device.device_id, first.time)
        if stay is None:
            return
        lookup = (first.device.device_id, "net:" + first.host)
        if first.time - self.dns_seen.get(lookup, -1e12) > DNS_TTL:
            self.dns_seen[lookup] = first.time
            self.dns_flow(stay, first.time - rng.uniform(0.02, 0.1), rng)
        if stay.site == Site.A:
            self.zeek(stay, requests, rng)
        else:
            self.suricata(stay, requests, rng)

    def dns_flow(self, stay: Presence, time: float, rng: random.Random) -> None:
        port = rng.randint(32768, 60999)
        if stay.site == Site.A:
            uid = zeek_id_of(rng)
            record = {
                "uid": uid,
                "id.orig_h": stay.ip,
                "id.orig_p": port,
                "id.resp_h": RESOLVER[stay.site],
                "id.resp_p": 53,
                "proto": "udp",
                "service": "dns",
                "duration": round(rng.uniform(0.004, 0.04), 6),
                "orig_bytes": rng.randint(30, 60),
                "resp_bytes": rng.randint(46, 180),
                "conn_state": "SF",
                "local_orig": True,
                "local_resp": True,
                "missed_bytes": 0,
                "history": "Dd",
                "orig_pkts": 1,
                "orig_ip_bytes": rng.randint(58, 88),
                "resp_pkts": 1,
                "resp_ip_bytes": rng.randint(74, 208),
            }
            self.zeek_line("bro:conn:json", "conn", time, record, int(time + rng.uniform(20, 120)))
            return
        end = time + rng.uniform(0.004, 0.04)
        logged = end + rng.uniform(30, 60)
        record = {
            "timestamp": iso_us_offset(logged),
            "flow_id": flow_id(rng),
            "in_iface": "eth1",
            "event_type": "flow",
            "src_ip": stay.ip,
            "src_port": port,
            "dest_ip": RESOLVER[stay.site],
            "dest_port": 53,
            "proto": "UDP",
            "app_proto": "dns",
            "flow": {
                "pkts_toserver": 1,
                "pkts_toclient": 1,
                "bytes_toserver": rng.randint(58, 88),
                "bytes_toclient": rng.randint(74, 208),
                "start": iso_us_offset(time),
                "end": iso_us_offset(end),
                "age": 0,
                "state": "established",
                "reason": "timeout",
                "alerted": False,
            },
        }
        self.eve(record, logged, rng)

    def zeek_line(
        self, sourcetype: str, log: str, time: float, record: dict[str, Any], indextime: int
    ) -> None:
        raw = '{"ts":' + zeek_ts(time) + "," + dumps(record)[1:]
        self.out.events.append(
            RawEvent(
                ZEEK_INDEX,
                sourcetype,
                f"/opt/zeek/logs/current/{log}.log",
                ZEEK_HOST,
                raw,
                indextime,
                round(time, 6),
            )
        )

    def zeek(self, stay: Presence, requests: list[Request], rng: random.Random) -> None:
        first = requests[0]
        uid = zeek_id_of(rng)
        port = rng.randint(32768, 60999)
        start = first.time - rng.uniform(0.02, 0.15)
        end = start
        sent = received = 0
        for depth, r in enumerate(requests, start=1):
            transfer = 0.02 + r.size / rng.uniform(2e6, 12e6)
            end = max(end, r.time + transfer)
            sent += rng.randint(250, 700)
            received += r.size + rng.randint(180, 400)
            if r.scheme != "http":
                continue
            fuid = zeek_id_of(rng, "F") if r.size > 0 else None
            http: dict[str, Any] = {
                "uid": uid,
                "id.orig_h": stay.ip,
                "id.orig_p": port,
                "id.resp_h": r.ip,
                "id.resp_p": r.port,
                "trans_depth": depth,
                "method": "GET",
                "host": r.host,
                "uri": r.uri,
                "version": "1.1",
                "user_agent": r.user_agent,
                "request_body_len": 0,
                "response_body_len": r.size,
                "status_code": r.status,
                "status_msg": "OK" if r.status == 200 else "No Content",
                "tags": [],
            }
            if fuid is not None:
                http["resp_fuids"] = [fuid]
                http["resp_mime_types"] = [r.mime]
            self.zeek_line(
                "bro:http:json", "http", r.time, http, int(r.time + transfer + rng.uniform(20, 120))
            )
            if fuid is None:
                continue
            md5, sha1, sha256 = hashes(r.content)
            seen = round(r.time + rng.uniform(0.001, 0.01), 6)
            files = {
                "fuid": fuid,
                "uid": uid,
                "id.orig_h": stay.ip,
                "id.orig_p": port,
                "id.resp_h": r.ip,
                "id.resp_p": r.port,
                "source": "HTTP",
                "depth": 0,
                "analyzers": ["MD5", "SHA1", "SHA256"],
                "mime_type": r.mime,
                "duration": round(transfer, 6),
                "local_orig": False,
                "is_orig": False,
                "seen_bytes": r.size,
                "total_bytes": r.size,
                "missing_bytes": 0,
                "overflow_bytes": 0,
                "timedout": False,
                "md5": md5,
                "sha1": sha1,
                "sha256": sha256,
            }
            self.zeek_line(
                "bro:files:json", "files", seen, files, int(seen + transfer + rng.uniform(20, 120))
            )
            self.out.retrievals.append(Retrieval(seen, r.device.device_id, None, r.host.lower(), "zeek"))
        end += rng.uniform(0.05, 2.0)
        tls = first.scheme == "https"
        conn = {
            "uid": uid,
            "id.orig_h": stay.ip,
            "id.orig_p": port,
            "id.resp_h": first.ip,
            "id.resp_p": first.port,
            "proto": "tcp",
            "service": "ssl" if tls else "http",
            "duration": round(end - start, 6),
            "orig_bytes": sent + (1800 if tls else 0),
            "resp_bytes": received + (4200 if tls else 0),
            "conn_state": "SF",
            "local_orig": True,
            "local_resp": False,
            "missed_bytes": 0,
            "history": "ShADadFf",
            "orig_pkts": 6 + len(requests) * 3,
            "orig_ip_bytes": sent + 2600,
            "resp_pkts": 6 + received // 1400,
            "resp_ip_bytes": received + 4800,
        }
        self.zeek_line("bro:conn:json", "conn", start, conn, int(end + rng.uniform(20, 120)))

    def eve(self, record: dict[str, Any], time: float, rng: random.Random) -> None:
        stamp = round(time, 6)
        self.out.events.append(
            RawEvent(
                EVE_INDEX,
                "suricata",
                EVE_SOURCE,
                EVE_HOST,
                dumps(record),
                int(stamp + rng.uniform(5, 60)),
                stamp,
            )
        )

    def suricata(self, stay: Presence, requests: list[Request], rng: random.Random) -> None:
        first = requests[0]
        flow = flow_id(rng)
        port = rng.randint(32768, 60999)
        start = first.time - rng.uniform(0.02, 0.15)
        end = start
        to_server = to_client = 0
        tuple_out = {
            "src_ip": stay.ip,
            "src_port": port,
            "dest_ip": first.ip,
            "dest_port": first.port,
            "proto": "TCP",
        }
        for tx, r in enumerate(requests):
            transfer = 0.02 + r.size / rng.uniform(2e6, 12e6)
            end = max(end, r.time + transfer)
            to_server += rng.randint(250, 700)
            to_client += r.size + rng.randint(180, 400)
            if r.scheme != "http":
                continue
            http = {
                "hostname": r.host,
                "url": r.uri,
                "http_user_agent": r.user_agent,
                "http_method": "GET",
                "protocol": "HTTP/1.1",
                "status": r.status,
                "length": r.size,
            }
            if r.mime:
                http["http_content_type"] = r.mime
            done = r.time + transfer
            self.eve(
                {
                    "timestamp": iso_us_offset(done),
                    "flow_id": flow,
                    "in_iface": "eth1",
                    "event_type": "http",
                    **tuple_out,
                    "tx_id": tx,
                    "http": http,
                },
                done,
                rng,
            )
            if r.size == 0:
                continue
            self.file_ids += 1
            md5, sha1, sha256 = hashes(r.content)
            info: dict[str, Any] = {
                "filename": r.uri.split("?", 1)[0],
                "gaps": False,
                "state": "CLOSED",
                "stored": False,
                "size": r.size,
                "tx_id": tx,
                "file_id": self.file_ids,
            }
            if r.mime in MAGIC:
                info["magic"] = MAGIC[r.mime]
            info.update({"md5": md5, "sha1": sha1, "sha256": sha256})
            closed = done + rng.uniform(0.0005, 0.005)
            # Written in the direction of the file data: from the server to the device.
            self.eve(
                {
                    "timestamp": iso_us_offset(closed),
                    "flow_id": flow,
                    "in_iface": "eth1",
                    "event_type": "fileinfo",
                    "src_ip": r.ip,
                    "src_port": r.port,
                    "dest_ip": stay.ip,
                    "dest_port": port,
                    "proto": "TCP",
                    "http": http,
                    "app_proto": "http",
                    "fileinfo": info,
                },
                closed,
                rng,
            )
            self.out.retrievals.append(
                Retrieval(round(closed, 6), r.device.device_id, None, r.host.lower(), "suricata")
            )
        end += rng.uniform(0.05, 2.0)
        logged = end + rng.uniform(30, 120)
        self.eve(
            {
                "timestamp": iso_us_offset(logged),
                "flow_id": flow,
                "in_iface": "eth1",
                "event_type": "flow",
                **tuple_out,
                "app_proto": "tls" if first.scheme == "https" else "http",
                "flow": {
                    "pkts_toserver": 6 + len(requests) * 3,
                    "pkts_toclient": 6 + to_client // 1400,
                    "bytes_toserver": to_server + 2600,
                    "bytes_toclient": to_client + 4800,
                    "start": iso_us_offset(start),
                    "end": iso_us_offset(end),
                    "age": int(end - start),
                    "state": "closed",
                    "reason": "timeout",
                    "alerted": False,
                },
                "tcp": {
                    "tcp_flags": "1b",
                    "tcp_flags_ts": "1b",
                    "tcp_flags_tc": "1b",
                    "syn": True,
                    "fin": True,
                    "psh": True,
                    "ack": True,
                    "state": "closed",
                },
            },
            logged,
            rng,
        )


def zeek_id_of(rng: random.Random, prefix: str = "C") -> str:
    return zeek_id(rng, prefix)


def flow_id(rng: random.Random) -> int:
    return rng.randint(10**14, 2 * 10**15)
