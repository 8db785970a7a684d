"""The app's own search commands (default/commands.conf), run as themselves through the search
command protocol v2, in-process.

The command class is loaded from the app's bin/<filename> (bin/ and the repository's src/ on
sys.path, as tests/splunk/scp.py does) and fed the byte stream splunkd sends
(tools/scpv2.py builds it): `getinfo` (searchinfo with the arguments, the search, its earliest and
latest time, the dispatch folder, `splunkd_uri` and `session_key` of the stand-in splunkd serving
the instance's KV store), then `execute` chunks of records in pipeline order (multivalue fields
as `__mv_` columns), `Splunk.chunk_size` records each, the last with `finished: true`.
The input is produced lazily, after the command's reply to each message, so the reply to
getinfo decides how the command is fed, as splunkd does: a `generating` command gets empty
`execute` messages until it says it has finished; `events`, `streaming` and `reporting` commands
get the records (only the `required_fields` when the reply names them). Inspector messages of
every chunk go to the search's messages; an exit with an error fails the search (SplError).
(https://dev.splunk.com/enterprise/docs/devtools/customsearchcommands/, "Custom search command
protocol v2"; splunklib's searchcommands.)
"""

from __future__ import annotations

import importlib.util
import io
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import scpv2  # tools/ (pytest's pythonpath; the script's own folder for tools/replay_dashboards.py)

from .conf import conf_bool
from .errors import SplError, UnsupportedSpl
from .lexer import tokenize
from .pipeline import ParseContext, Runtime, Spec, Table

if TYPE_CHECKING:
    from .splunk import Splunk

ROOT = Path(__file__).resolve().parents[2]

_MODULES: dict[Path, ModuleType] = {}


def load_command_class(script: Path) -> type:
    """The SearchCommand subclass defined in the script (the one `dispatch` would run)."""
    module = _MODULES.get(script)
    if module is None:
        sys.dont_write_bytecode = True  # nothing may appear in the app's bin/ (the build copies it)
        # Deliberate: the script's bin/ first, as splunkd runs it, with src/ standing in for the engine
        # copy the build puts in bin/mobile_ingress (also when tools/replay_dashboards.py runs this).
        for folder in (str(ROOT / "src"), str(script.parent)):
            if folder not in sys.path:
                sys.path.insert(0, folder)
        name = "executor_command_" + "".join(c if c.isalnum() else "_" for c in str(script))
        spec = importlib.util.spec_from_file_location(name, script)
        if spec is None or spec.loader is None:
            raise SplError(f"cannot load the command script {script}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        _MODULES[script] = module
    from splunklib.searchcommands.search_command import SearchCommand

    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, SearchCommand)
        and value.__module__ == module.__name__
    ]
    if len(classes) != 1:
        raise UnsupportedSpl(f"{script.name}: expected one SearchCommand class, found {len(classes)}")
    return classes[0]


def command_args(text: str) -> list[str]:
    """The arguments as splunkd passes them: `name=value` words, quotes removed."""
    out: list[str] = []
    tokens = tokenize(text)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if (
            token.kind == "word"
            and nxt is not None
            and nxt.kind == "op"
            and nxt.text == "="
            and i + 2 < len(tokens)
        ):
            out.append(f"{token.text}={tokens[i + 2].value}")
            i += 3
            continue
        if token.kind in ("word", "quoted"):
            out.append(token.value)
        elif not (token.kind == "op" and token.text == ","):
            raise SplError(f"cannot pass {token.text!r} to a custom command")
        i += 1
    return out


def decode_row(row: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in row.items():
        if name.startswith("__mv_"):
            continue
        encoded = row.get("__mv_" + name, "")
        if encoded:
            values = [part.replace("$$", "$") for part in encoded[1:-1].split("$;$")]
            out[name] = values[0] if len(values) == 1 else values
        elif value != "":
            out[name] = value
    return out


class _LazyInput(io.RawIOBase):
    """Bytes splunkd would send, produced only when the command reads past what it has."""

    def __init__(self, produce: Callable[[], bytes]) -> None:
        self.buffer = b""
        self.produce = produce
        self.ended = False

    def readable(self) -> bool:
        return True

    def _fill(self, need: int) -> None:
        while len(self.buffer) < need and not self.ended:
            more = self.produce()
            if not more:
                self.ended = True
            self.buffer += more

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        self._fill(size if size > 0 else 1 << 62)
        if size < 0:
            data, self.buffer = self.buffer, b""
        else:
            data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def readline(self, size: int = -1) -> bytes:
        while b"\n" not in self.buffer and not self.ended:
            self._fill(len(self.buffer) + 1)
        index = self.buffer.find(b"\n")
        end = len(self.buffer) if index < 0 else index + 1
        data, self.buffer = self.buffer[:end], self.buffer[end:]
        return data


@dataclass
class CustomCommand:
    name: str
    script: Path
    args: str
    first: bool

    def run(self, table: Table | None, rt: Runtime) -> Table:
        splunk = rt.splunk
        if not self.first and table is None:
            raise SplError(f"Error in '{self.name}' command: no input")
        cls = load_command_class(self.script)
        command = cls()
        if hasattr(command, "app_dir"):
            command.app_dir = str(splunk.app_dir)
        splunkd = splunk.splunkd()
        dispatch_dir = tempfile.mkdtemp(prefix="dispatch_", dir=splunk.work_dir)
        args = command_args(self.args)
        rows = table.rows if table is not None else []
        chunk_size = max(1, splunk.chunk_size)
        out = io.BytesIO()
        state: dict[str, Any] = {"stage": "getinfo", "sent": 0}

        parsed: list[scpv2.Chunk] = []
        offset = [0]

        def replies() -> list[scpv2.Chunk]:
            # Only whole messages are in `out` when the command asks for more input: parse the new ones.
            data = out.getvalue()
            if len(data) > offset[0]:
                parsed.extend(scpv2.parse_output(data[offset[0] :]))
                offset[0] = len(data)
            return parsed

        def produce() -> bytes:
            try:
                return _produce()
            except (SplError, UnsupportedSpl) as exc:
                state["error"] = exc
                return b""

        def _produce() -> bytes:
            if state["stage"] == "getinfo":
                state["stage"] = "configure"
                return scpv2.getinfo(
                    args,
                    dispatch_dir,
                    search=quote(rt.search_text),
                    command=self.name,
                    app=splunk.app_name,
                    earliest_time=f"{rt.earliest:.3f}" if rt.earliest is not None else "0",
                    latest_time=f"{rt.latest:.3f}" if rt.latest is not None else "0",
                    sid=rt.sid,
                    splunkd_uri=splunkd.uri,
                    session_key=splunkd.session_key,
                    maxresultrows=splunk.limits.maxresultrows,
                )
            chunks = replies()
            if not chunks:
                return b""
            if state["stage"] == "configure":
                info = chunks[0].metadata
                state["generating"] = bool(info.get("generating", False)) or info.get("type") == "generating"
                state["required"] = info.get("required_fields")
                if state["generating"] and not self.first:
                    raise SplError(
                        f"Error in '{self.name}' command: a generating command must be the first command"
                    )
                if not state["generating"] and self.first:
                    raise SplError(
                        f"Error in '{self.name}' command: This command must not be the first command"
                    )
                state["stage"] = "execute"
            elif chunks[-1].metadata.get("finished") is True:
                return b""
            if state["generating"]:
                if len(chunks) > 10000:
                    raise SplError(f"Error in '{self.name}' command: the generating command never finished")
                return scpv2.execute([], finished=False)
            start = state["sent"]
            if start >= len(rows) and state["stage"] == "done":
                return b""
            batch = rows[start : start + chunk_size]
            state["sent"] = start + len(batch)
            finished = state["sent"] >= len(rows)
            if finished:
                state["stage"] = "done"
            required = state["required"]
            if required:
                names = [
                    n.strip() for n in (required if isinstance(required, list) else str(required).split(","))
                ]
                batch = [{n: r[n] for n in names if n in r} for r in batch]
            return scpv2.execute(batch, finished=finished)

        code = 0
        saved_tempdir = tempfile.tempdir  # splunklib points tempfile at the dispatch folder
        try:
            command.process([self.script.name], _LazyInput(produce), out)
        except SystemExit as exc:
            code = int(exc.code) if isinstance(exc.code, int) else 1
        finally:
            tempfile.tempdir = saved_tempdir
        if "error" in state:
            raise state["error"]
        chunks = replies()
        messages = [(str(kind), str(text)) for chunk in chunks for kind, text in _inspector(chunk.metadata)]
        errors = [text for kind, text in messages if kind.upper() in ("ERROR", "FATAL")]
        for kind, text in messages:
            if kind.upper() not in ("ERROR", "FATAL"):
                level = "WARN" if kind.upper().startswith("WARN") else kind.upper()
                rt.messages.append(_message(level, text))
        if code != 0 or errors:
            raise SplError("; ".join(errors) or f"Error in '{self.name}' command: exited with {code}")
        out_rows = [decode_row(row) for chunk in chunks[1:] for row in chunk.rows]
        return Table(out_rows, None, events=False)


def _message(level: str, text: str) -> Any:
    from .pipeline import Message

    return Message(level, text)


def _inspector(metadata: dict[str, Any]) -> Iterator[tuple[str, str]]:
    inspector = metadata.get("inspector")
    if isinstance(inspector, dict):
        for item in inspector.get("messages", []):
            if isinstance(item, (list, tuple)) and len(item) == 2:
                yield str(item[0]), str(item[1])


def custom_spec(splunk: Splunk, name: str, stanza: dict[str, str]) -> Spec:
    if not conf_bool(stanza.get("chunked"), False):
        raise UnsupportedSpl(f"custom command {name} under protocol v1 (chunked = false)")
    filename = stanza.get("filename")
    if not filename:
        raise SplError(f"commands.conf [{name}]: no filename")
    script = splunk.source_app_dir / "bin" / filename

    def parse(args: str, ctx: ParseContext) -> CustomCommand:
        return CustomCommand(name, script, args, ctx.first)

    return Spec(name, parse, generating=True)
