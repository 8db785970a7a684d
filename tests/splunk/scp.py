"""Drive a search command through the search command protocol v2 byte stream, as splunkd does
(the stream is built and parsed by tools/scpv2.py)."""

from __future__ import annotations

import importlib.util
import io
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

# The byte stream itself lives in tools/scpv2.py (pytest's pythonpath): the benchmarks feed the same bytes.
from scpv2 import Chunk, csv_body, execute, getinfo, message, parse_output

ROOT = Path(__file__).resolve().parents[2]
COMMAND_SCRIPT = ROOT / "package" / "bin" / "ingresscorrelate.py"

__all__ = ["Chunk", "Result", "csv_body", "execute", "getinfo", "message", "mv", "parse_output", "run"]


def load_command_module(script: Path = COMMAND_SCRIPT) -> ModuleType:
    """A command script of package/bin as a module (the engine and splunklib from the dev venv)."""
    name = f"{script.stem}_under_test"
    if name in sys.modules:
        return sys.modules[name]
    # Importing from package/bin must leave no __pycache__ there: the build copies package/ as is.
    sys.dont_write_bytecode = True
    if str(COMMAND_SCRIPT.parent) not in sys.path:  # as when splunkd runs the script from bin/
        sys.path.insert(0, str(COMMAND_SCRIPT.parent))
    spec = importlib.util.spec_from_file_location(name, script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


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


def run(
    args: Sequence[str],
    chunks: Sequence[Sequence[Mapping[str, object]]],
    app_dir: Path,
    dispatch_dir: Path,
    **searchinfo: object,
) -> Result:
    """Run the command in-process on these chunks of records (the last sent with finished=true)."""
    return run_command(
        COMMAND_SCRIPT, "IngressCorrelateCommand", args, chunks, app_dir, dispatch_dir, **searchinfo
    )


def run_command(
    script: Path,
    class_name: str,
    args: Sequence[str],
    chunks: Sequence[Sequence[Mapping[str, object]]],
    app_dir: Path,
    dispatch_dir: Path,
    **searchinfo: object,
) -> Result:
    """Any command of package/bin, in-process, through the protocol v2 byte stream."""
    module = load_command_module(script)
    command = getattr(module, class_name)()
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
