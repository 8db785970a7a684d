"""The search command protocol v2 byte stream, as splunkd speaks it (shared by tests/splunk and
benchmarks/).

splunkd starts the command with no arguments, sends a `getinfo` message, then `execute` chunks of
CSV (multivalue fields as `__mv_<field>`), the last one with `finished: true`. Every message in both
directions is `chunked 1.0,<metadata bytes>,<body bytes>\\n` + JSON metadata + body.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


def message(metadata: Mapping[str, object], body: str = "") -> bytes:
    meta = json.dumps(metadata, separators=(",", ":")).encode("utf-8")
    data = body.encode("utf-8")
    return f"chunked 1.0,{len(meta)},{len(data)}\n".encode() + meta + data


def getinfo(args: Sequence[str], dispatch_dir: str, **searchinfo: object) -> bytes:
    """The getinfo message; SEARCHINFO adds fields (e.g. splunkd_uri and session_key)."""
    search = "search index=mobile | ingresscorrelate " + " ".join(args)
    return message(
        {
            "action": "getinfo",
            "preview": False,
            "streaming_command_will_restart": False,
            "searchinfo": {
                "args": list(args),
                "raw_args": list(args),
                "dispatch_dir": dispatch_dir,
                "earliest_time": "0",
                "latest_time": "0",
                "search": search,
                "sid": "1700000000.42",
                "splunk_version": "9.3.0",
                "app": "TA-mobile-ingress",
                "owner": "admin",
                "username": "admin",
                "command": "ingresscorrelate",
                "maxresultrows": 50000,
                **searchinfo,
            },
        }
    )


def _cell(value: object) -> tuple[str, str]:
    """A record value as (value, __mv_ value) the way splunkd writes it."""
    if value is None:
        return "", ""
    if isinstance(value, bool):
        return ("true" if value else "false"), ""
    if isinstance(value, list):
        if len(value) == 1:
            return _cell(value[0])
        texts = [_cell(v)[0] for v in value]
        return "\n".join(texts), "$" + "$;$".join(t.replace("$", "$$") for t in texts) + "$"
    return str(value), ""


def csv_body(records: Sequence[Mapping[str, object]]) -> str:
    if not records:
        return ""
    names: list[str] = []
    for record in records:
        names.extend(n for n in record if n not in names)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c for n in names for c in (n, "__mv_" + n)])
    for record in records:
        writer.writerow([c for n in names for c in _cell(record.get(n))])
    return out.getvalue()


def execute(records: Sequence[Mapping[str, object]], finished: bool) -> bytes:
    return message({"action": "execute", "finished": finished}, csv_body(records))


@dataclass
class Chunk:
    metadata: dict[str, object]
    header: list[str]
    rows: list[dict[str, str]]


def parse_output(data: bytes) -> list[Chunk]:
    chunks = []
    stream = io.BytesIO(data)
    while True:
        line = stream.readline()
        if not line:
            return chunks
        head, _, sizes = line.decode("ascii").strip().partition(" ")
        assert head == "chunked", line
        version, meta_len, body_len = sizes.split(",")
        assert version == "1.0"
        metadata = json.loads(stream.read(int(meta_len)).decode("utf-8"))
        body = stream.read(int(body_len)).decode("utf-8")
        reader = list(csv.reader(io.StringIO(body)))
        header = reader[0] if reader else []
        rows = [dict(zip(header, values)) for values in reader[1:]]
        chunks.append(Chunk(metadata, header, rows))
