"""Drive a search command through the search command protocol v2 byte stream, as splunkd does.

splunkd starts the command with no arguments, sends a `getinfo` message, then `execute` chunks of
CSV (multivalue fields as `__mv_<field>`), the last one with `finished: true`. Every message in both
directions is `chunked 1.0,<metadata bytes>,<body bytes>\\n` + JSON metadata + body.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
COMMAND_SCRIPT = ROOT / "package" / "bin" / "ingresscorrelate.py"


def load_command_module() -> ModuleType:
    """package/bin/ingresscorrelate.py as a module (the engine and splunklib from the dev venv)."""
    name = "ingresscorrelate_under_test"
    if name in sys.modules:
        return sys.modules[name]
    # Importing from package/bin must leave no __pycache__ there: the build copies package/ as is.
    sys.dont_write_bytecode = True
    if str(COMMAND_SCRIPT.parent) not in sys.path:  # as when splunkd runs the script from bin/
        sys.path.insert(0, str(COMMAND_SCRIPT.parent))
    spec = importlib.util.spec_from_file_location(name, COMMAND_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


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


@dataclass
class Result:
    chunks: list[Chunk]
    exit_code: int | None = None
    messages: list[tuple[str, str]] = field(default_factory=list)

    @property
    def getinfo(self) -> dict[str, object]:
        return self.chunks[0].metadata

    @property
    def rows(self) -> list[dict[str, str]]:
        return [row for chunk in self.chunks[1:] for row in chunk.rows]

    def texts(self, level: str) -> list[str]:
        return [text for kind, text in self.messages if kind == level]


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


def run(
    args: Sequence[str],
    chunks: Sequence[Sequence[Mapping[str, object]]],
    app_dir: Path,
    dispatch_dir: Path,
    **searchinfo: object,
) -> Result:
    """Run the command in-process on these chunks of records (the last sent with finished=true)."""
    module = load_command_module()
    command = module.IngressCorrelateCommand()
    command.app_dir = str(app_dir)
    stream = getinfo(args, str(dispatch_dir), **searchinfo)
    for index, records in enumerate(chunks):
        stream += execute(records, finished=index == len(chunks) - 1)
    out = io.BytesIO()
    code = None
    try:
        command.process(["ingresscorrelate.py"], io.BytesIO(stream), out)
    except SystemExit as exc:
        code = int(exc.code) if exc.code is not None else 0
    parsed = parse_output(out.getvalue())
    messages = []
    for chunk in parsed:
        inspector = chunk.metadata.get("inspector")
        if isinstance(inspector, dict):
            messages.extend((str(kind), str(text)) for kind, text in inspector.get("messages", []))
    return Result(parsed, code, messages)


def mv(row: Mapping[str, str], name: str) -> list[str]:
    """A field's values: the __mv_ column decoded, else the single value (empty: none)."""
    encoded = row.get("__mv_" + name, "")
    if encoded:
        return [part.replace("$$", "$") for part in encoded[1:-1].split("$;$")]
    value = row.get(name, "")
    return [value] if value else []
