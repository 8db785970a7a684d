"""lookup, inputlookup, outputlookup over the instance's CSV files and KV store.

- lookup (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/lookup):
  match on every named field (`field AS local`), exact values (case-insensitive when the
  definition says case_sensitive_match = false); OUTPUT overwrites the output fields, and a result
  without a match loses them; OUTPUTNEW sets only output fields the result does not have; no
  OUTPUT clause: every table field but the match fields. Several matching rows give multivalue
  fields (table order, at most max_matches rows; fewer than min_matches: default_match).
- inputlookup (.../search-commands/inputlookup): the table's rows (CSV file order; KV store: the
  store's query, at most [kvstore] max_rows_per_query rows, no documented order), `WHERE` with
  search-command syntax, `start`/`max`, `append=true` adds them to the current results.
- outputlookup (.../search-commands/outputlookup): writes the results and passes them on.
  append=false replaces the table, append=true adds rows (KV: a row with `_key` replaces that
  record); key_field=f makes f the `_key` (update or insert); override_if_empty (default true):
  no results empty the table, false leaves it; create_empty (default true): an emptied CSV is a
  zero-length file, false deletes it; max=N writes the first N. KV: only the definition's
  fields_list (and `_key`) are written, multivalue fields as arrays. CSV: every field but `_*`
  ones other than `_time` and `_key`; multivalue fields one value per line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .. import searchexpr
from ..errors import SplError, UnsupportedSpl
from ..lookuptables import LookupTable, read_csv, resolve, write_csv
from ..pipeline import ParseContext, Runtime, Table, command
from .options import Args, boolean, integer

# =============================================================================== lookup


@dataclass
class Lookup:
    table_name: str
    matches: list[tuple[str, str]]  # (lookup field, result field)
    outputs: list[tuple[str, str]] | None  # (lookup field, result field); None: all
    new_only: bool

    def run(self, table: Table | None, rt: Runtime) -> Table:
        assert table is not None
        lookup = resolve(rt.splunk, self.table_name)
        columns, rows = lookup.read(rt.splunk)
        fold = (lambda v: v.casefold()) if not lookup.case_sensitive else (lambda v: v)
        index: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            key = []
            for name, _ in self.matches:
                value = row.get(name)
                if value is None or isinstance(value, list):
                    break
                key.append(fold(value))
            else:
                index.setdefault(tuple(key), []).append(row)
        match_names = {name for name, _ in self.matches}
        outputs = self.outputs
        if outputs is None:
            outputs = [(c, c) for c in columns if c not in match_names]
        for result in table.rows:
            key = []
            for _, local in self.matches:
                value = result.get(local)
                if isinstance(value, list):
                    raise UnsupportedSpl(f"lookup on the multivalue field {local}")
                if value is None:
                    break
                key.append(fold(value))
            found = index.get(tuple(key), []) if len(key) == len(self.matches) else []
            found = found[: lookup.max_matches]
            for source, target in outputs:
                if self.new_only and result.get(target) is not None:
                    continue
                values: list[str] = []
                for row in found:
                    value = row.get(source)
                    if value is None:
                        continue
                    values.extend(value if isinstance(value, list) else [value])
                if len(found) < lookup.min_matches:
                    values.extend([lookup.default_match] * (lookup.min_matches - len(found)))
                if values:
                    result[target] = values[0] if len(values) == 1 else values
                elif not self.new_only:
                    result.pop(target, None)
        new_columns = table.columns
        if new_columns is not None:
            new_columns = [*new_columns, *[t for _, t in outputs if t not in new_columns]]
        return Table(table.rows, new_columns, table.events)


def _field_pairs(parsed: Args, stop: tuple[str, ...]) -> list[tuple[str, str]]:
    pairs = []
    while not parsed.done():
        token = parsed.peek()
        assert token is not None
        if token.kind == "word" and token.text.upper() in stop:
            break
        parsed.take()
        if token.kind == "op" and token.text == ",":
            continue
        if token.kind not in ("word", "quoted"):
            raise SplError(f"Error in 'lookup' command: unexpected {token.text!r}")
        local = token.value
        nxt = parsed.peek()
        if nxt is not None and nxt.is_word("as"):
            parsed.take()
            local = parsed.take().value
        pairs.append((token.value, local))
    return pairs


@command("lookup")
def parse_lookup(args: str, ctx: ParseContext) -> Any:
    parsed = Args("lookup", args)
    options = parsed.options(["local", "update", "event_time_field"])
    if options:
        raise UnsupportedSpl(f"lookup options {sorted(options)}")
    name = parsed.take().value
    matches = _field_pairs(parsed, ("OUTPUT", "OUTPUTNEW"))
    if not matches:
        raise SplError("Error in 'lookup' command: Must specify one or more lookup fields.")
    outputs = None
    new_only = False
    if not parsed.done():
        keyword = parsed.take().text.upper()
        new_only = keyword == "OUTPUTNEW"
        outputs = _field_pairs(parsed, ())
        if not outputs:
            raise SplError(f"Error in 'lookup' command: {keyword} needs fields")
    if ctx.splunk is not None:
        resolve(ctx.splunk, name)
    return Lookup(name, matches, outputs, new_only)


# =============================================================================== inputlookup


@dataclass
class InputLookup:
    name: str
    append: bool
    start: int
    max_rows: int
    where: searchexpr.Matcher | None

    def run(self, table: Table | None, rt: Runtime) -> Table:
        lookup = resolve(rt.splunk, self.name)
        columns, rows = lookup.read(rt.splunk, capped=True)
        if self.where is not None:
            rows = [r for r in rows if self.where(r)]
        rows = rows[self.start :]
        if self.max_rows > 0:
            rows = rows[: self.max_rows]
        if self.append:
            if table is None:
                return Table(rows, columns)
            return Table([*table.rows, *rows], None)
        if table is not None:
            raise SplError(
                "Error in 'inputlookup' command: This command must be the first command of a search."
            )
        return Table(rows, columns)


@command("inputlookup", generating=True)
def parse_inputlookup(args: str, ctx: ParseContext) -> Any:
    head, *where_text = re.split(r"\s+where\s+", args.strip(), maxsplit=1, flags=re.IGNORECASE)
    parsed = Args("inputlookup", head)
    options = parsed.options(["append", "strict", "start", "max"])
    name = parsed.take().value
    parsed.expect_end()
    where = None
    if where_text:
        node, where = searchexpr.compile_search(where_text[0])
        if searchexpr.time_modifiers(node) or searchexpr.has_terms(node):
            raise UnsupportedSpl("inputlookup WHERE with time modifiers or bare terms")
    if ctx.splunk is not None:
        resolve(ctx.splunk, name)
    append = boolean("inputlookup", "append", options.get("append"), False)
    if not append and not ctx.first:
        raise SplError("Error in 'inputlookup' command: This command must be the first command of a search.")
    return InputLookup(
        name,
        append,
        integer("inputlookup", "start", options.get("start"), 0),
        integer("inputlookup", "max", options.get("max"), 0),
        where,
    )


# =============================================================================== outputlookup


def _kv_record(row: dict[str, Any], lookup: LookupTable, key_field: str | None) -> dict[str, Any]:
    allowed = lookup.fields_list
    record: dict[str, Any] = {}
    for name, value in row.items():
        if name == "_key" or (allowed is None and not name.startswith("_")) or (allowed and name in allowed):
            record[name] = value
    if key_field is not None:
        key = row.get(key_field)
        if isinstance(key, list):
            raise UnsupportedSpl(f"outputlookup key_field={key_field} with a multivalue value")
        if key is not None:
            record["_key"] = key
    return record


@dataclass
class OutputLookup:
    name: str
    append: bool
    create_empty: bool
    override_if_empty: bool
    max_rows: int
    key_field: str | None

    def run(self, table: Table | None, rt: Runtime) -> Table:
        assert table is not None
        lookup = resolve(rt.splunk, self.name)
        rows = table.rows if self.max_rows <= 0 else table.rows[: self.max_rows]
        if not rows and (self.append or not self.override_if_empty):
            return table
        if lookup.kind == "kv":
            assert lookup.collection is not None
            store = rt.splunk.kvstore
            records = [_kv_record(r, lookup, self.key_field) for r in rows]
            if self.append:
                store.batch_save(lookup.collection, records)
            else:
                store.replace_all(lookup.collection, records)
            return table
        assert lookup.filename is not None
        path = rt.splunk.lookups_dir / lookup.filename
        if not rows:
            if self.create_empty:
                path.write_text("", encoding="utf-8")
            elif path.exists():
                path.unlink()
            return table
        names = [n for n in table.field_order() if not n.startswith("_") or n in ("_time", "_key")]
        if self.append and path.is_file():
            columns, existing = read_csv(path)
            columns = [*columns, *[n for n in names if n not in columns]]
            write_csv(path, columns, [*existing, *rows])
        else:
            write_csv(path, names, rows)
        return table


@command("outputlookup")
def parse_outputlookup(args: str, ctx: ParseContext) -> Any:
    parsed = Args("outputlookup", args)
    options = parsed.options(
        [
            "append",
            "create_empty",
            "override_if_empty",
            "max",
            "key_field",
            "allow_updates",
            "createinapp",
            "create_context",
            "output_format",
        ]
    )
    for unsupported in ("createinapp", "create_context", "output_format"):
        if unsupported in options:
            raise UnsupportedSpl(f"option '{unsupported}' of command 'outputlookup'")
    name = parsed.take().value
    parsed.expect_end()
    if ctx.splunk is not None:
        lookup = resolve(ctx.splunk, name)
        if "key_field" in options and lookup.kind != "kv":
            raise SplError("Error in 'outputlookup' command: key_field applies to KV store lookups only")
    append = boolean("outputlookup", "append", options.get("append"), False)
    allow_updates = boolean(
        "outputlookup", "allow_updates", options.get("allow_updates"), append or "key_field" in options
    )
    if not allow_updates and (append or "key_field" in options):
        raise UnsupportedSpl("outputlookup allow_updates=false")
    return OutputLookup(
        name,
        append,
        boolean("outputlookup", "create_empty", options.get("create_empty"), True),
        boolean("outputlookup", "override_if_empty", options.get("override_if_empty"), True),
        integer("outputlookup", "max", options.get("max"), 0),
        options.get("key_field"),
    )
