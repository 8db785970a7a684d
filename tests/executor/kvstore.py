"""The instance's KV store: the collections of collections.conf, with the REST semantics of
`storage/collections/data/<collection>`
(https://help.splunk.com/splunk-enterprise/leverage-rest-apis/rest-api-reference/9.4/kv-store-endpoints/kv-store-endpoint-descriptions):

- GET: `query` (JSON; equality, $and, $or, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists), `sort`
  (`field[:1|-1]`, comma-separated), `skip`, `limit` (0 = no limit), `fields` (`f`, `f:1` include;
  `f:0` exclude; `_key` kept unless excluded); at most limits.conf [kvstore] max_rows_per_query
  records per request whatever `limit` says. Without `sort` the order is not documented: a seeded
  shuffle per request (README, "Order").
- POST `batch_save` (insert, or replace the record with the same `_key`), POST a record (insert),
  DELETE a record or, with `query`, the matching records (none: all).
Records carry `_key` (generated when missing) and `_user` (`nobody`). Fields typed `number` in
collections.conf are stored as JSON numbers when their value is numeric; values of other fields
as strings; lists as JSON arrays.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Mapping
from typing import Any

from .errors import SplError
from .values import to_number


class KVError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status


class Collection:
    def __init__(self, name: str, types: Mapping[str, str]) -> None:
        self.name = name
        self.types = dict(types)
        self.records: dict[str, dict[str, Any]] = {}


def _typed(value: Any, kind: str | None) -> Any:
    if isinstance(value, list):
        return [_typed(v, kind) for v in value]
    if kind == "number" and isinstance(value, str):
        number = to_number(value)
        return value if number is None else number
    if kind == "bool" and isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    return value


def _sort_key(value: Any) -> tuple[int, Any]:
    # MongoDB's comparison order: null < numbers < strings < objects < arrays < booleans.
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (5, value)
    if isinstance(value, (int, float)):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, list):
        return (4, json.dumps(value))
    return (3, json.dumps(value, sort_keys=True))


def _compare(record_value: Any, op: str, operand: Any) -> bool:
    values = record_value if isinstance(record_value, list) else [record_value]
    if op == "$eq":
        return any(v == operand for v in values) or record_value == operand
    if op == "$ne":
        return not _compare(record_value, "$eq", operand)
    if op == "$in":
        return any(_compare(record_value, "$eq", o) for o in operand)
    if op == "$nin":
        return not any(_compare(record_value, "$eq", o) for o in operand)
    if op == "$exists":
        return (record_value is not None) == bool(operand)
    for value in values:
        if value is None or isinstance(value, bool) != isinstance(operand, bool):
            continue
        if isinstance(value, (int, float)) != isinstance(operand, (int, float)):
            continue
        if op == "$gt" and value > operand:
            return True
        if op == "$gte" and value >= operand:
            return True
        if op == "$lt" and value < operand:
            return True
        if op == "$lte" and value <= operand:
            return True
    return False


def matches(record: Mapping[str, Any], query: Mapping[str, Any]) -> bool:
    for key, condition in query.items():
        if key == "$and":
            if not all(matches(record, q) for q in condition):
                return False
            continue
        if key == "$or":
            if not any(matches(record, q) for q in condition):
                return False
            continue
        if key.startswith("$"):
            raise KVError(400, f"Unsupported query operator {key}")
        value = record.get(key)
        if isinstance(condition, dict) and condition and all(k.startswith("$") for k in condition):
            for op, operand in condition.items():
                if op not in ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists"):
                    raise KVError(400, f"Unsupported query operator {op}")
                if not _compare(value, op, operand):
                    return False
        elif not _compare(value, "$eq", condition):
            return False
    return True


class KVStore:
    """Collections of one app, shared by the executor's commands and the stand-in splunkd."""

    def __init__(
        self, collections_conf: Mapping[str, Mapping[str, str]], max_rows_per_query: int, rng: random.Random
    ) -> None:
        self.collections: dict[str, Collection] = {}
        for name, stanza in collections_conf.items():
            if name == "default":
                continue
            types = {k[len("field.") :]: v.strip() for k, v in stanza.items() if k.startswith("field.")}
            self.collections[name] = Collection(name, types)
        self.max_rows_per_query = max_rows_per_query
        self.rng = rng
        self._next_key = 0
        self.lock = threading.RLock()
        self.requests: list[tuple[str, str]] = []

    def collection(self, name: str) -> Collection:
        found = self.collections.get(name)
        if found is None:
            raise KVError(404, f"Collection {name} does not exist")
        return found

    def new_key(self) -> str:
        self._next_key += 1
        return f"{self._next_key:024x}"

    # -------------------------------------------------------------------- writing

    def save(self, name: str, record: Mapping[str, Any]) -> str:
        with self.lock:
            collection = self.collection(name)
            stored = {k: _typed(v, collection.types.get(k)) for k, v in record.items() if v is not None}
            key = str(stored.get("_key") or self.new_key())
            stored["_key"] = key
            stored["_user"] = "nobody"
            collection.records[key] = stored
            return key

    def batch_save(self, name: str, records: list[Mapping[str, Any]]) -> list[str]:
        with self.lock:
            self.collection(name)
            return [self.save(name, r) for r in records]

    def delete(self, name: str, key: str | None = None, query: Mapping[str, Any] | None = None) -> int:
        with self.lock:
            collection = self.collection(name)
            if key is not None:
                if collection.records.pop(key, None) is None:
                    raise KVError(404, "Could not find object.")
                return 1
            doomed = [k for k, r in collection.records.items() if query is None or matches(r, query)]
            for k in doomed:
                del collection.records[k]
            return len(doomed)

    def replace_all(self, name: str, records: list[Mapping[str, Any]]) -> None:
        with self.lock:
            self.delete(name)
            for record in records:
                self.save(name, record)

    # -------------------------------------------------------------------- reading

    def all_records(self, name: str) -> list[dict[str, Any]]:
        """Every record, insertion order (for tests; searches use `query`)."""
        with self.lock:
            return [dict(r) for r in self.collection(name).records.values()]

    def query(
        self,
        name: str,
        query: Mapping[str, Any] | None = None,
        sort: str | None = None,
        skip: int = 0,
        limit: int = 0,
        fields: str | None = None,
    ) -> list[dict[str, Any]]:
        with self.lock:
            records = [dict(r) for r in self.collection(name).records.values()]
        if query:
            records = [r for r in records if matches(r, query)]
        if sort:
            self.rng.shuffle(records)  # ties keep no documented order either
            for part in reversed([p.strip() for p in sort.split(",") if p.strip()]):
                field, _, direction = part.partition(":")
                if direction not in ("", "1", "-1"):
                    raise KVError(400, f"Invalid sort direction in {part!r}")
                records.sort(key=lambda r, f=field: _sort_key(r.get(f)), reverse=direction == "-1")
        else:
            self.rng.shuffle(records)
        if skip < 0 or limit < 0:
            raise KVError(400, "skip and limit must be 0 or more")
        records = records[skip:]
        cap = self.max_rows_per_query
        count = limit if limit > 0 else len(records)
        if cap > 0:
            count = min(count, cap)
        records = records[:count]
        if fields:
            records = [_project(r, fields) for r in records]
        return records


def _project(record: dict[str, Any], spec: str) -> dict[str, Any]:
    include, exclude = [], []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        name, _, flag = part.partition(":")
        (exclude if flag == "0" else include).append(name)
    if include and exclude and set(exclude) - {"_key"}:
        raise KVError(400, "fields: cannot mix inclusion and exclusion")
    if include:
        keep = set(include) | ({"_key"} if "_key" not in exclude else set())
        return {k: v for k, v in record.items() if k in keep}
    return {k: v for k, v in record.items() if k not in exclude}


def parse_query(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise KVError(400, f"Invalid query: {exc}") from None
    if not isinstance(value, dict):
        raise KVError(400, "Invalid query: not a JSON object")
    return value


def as_field_value(value: Any) -> Any:
    """A stored value as a search sees it (inputlookup, lookup): text, or a list of texts."""
    from .values import format_number

    if value is None:
        return None
    if isinstance(value, list):
        texts = [t for t in (as_field_value(v) for v in value) if isinstance(t, str)]
        return None if not texts else texts[0] if len(texts) == 1 else texts
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_number(value)
    if isinstance(value, (dict,)):
        return json.dumps(value, separators=(",", ":"))
    if not isinstance(value, str):
        raise SplError(f"unexpected KV store value {value!r}")
    return value
