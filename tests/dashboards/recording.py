"""The dashboards' data sources, run the way Dashboard Studio runs them, in the offline executor.

For a view's definition, each data source becomes one search:
- `ds.search`: its query over its own `queryParameters`, or else the definition's `defaults` for
  `ds.search` (here the time range input's `$global_time.earliest$` / `$global_time.latest$`);
- `ds.chain`: its base's query followed by its own (a chain post-processes its base's results, so
  it has its base's time range). The executor runs the whole text (tests/executor/README.md).
Tokens are filled as a user's inputs fill them: each input's value (its `defaultValue` unless the
look at the dashboard sets another); a time range input sets `<token>.earliest` and
`<token>.latest` from "earliest,latest"; `$name|s$` is the value as a JSON string (Dashboard
Studio's `s` filter: quotes around it, its quotes and backslashes escaped). A token no input sets
stops the data source, as the panel would wait for input.

The recording is what the preview page reads (dashboards/src/main.jsx, scripts/render.mjs): one JSON
file per dashboard, {"dashboard", "now", "es_installed", "tokens", "messages", "results": {data
source id: {"fields", "columns"}}}, values as Splunk's JSON results carry them (strings, multivalue
as lists, missing as null, `_time` in ISO 8601). Internal fields other than `_time` are left out:
the executor does not make Splunk's full set (`_bkt`, `_cd`, `_si`, ...), and no panel of the app
shows one (test_executed.py checks that).

References: chain searches,
https://help.splunk.com/splunk-enterprise/create-dashboards-and-reports/dashboard-studio/9.1/use-data-sources/chain-searches-together-with-a-base-search-and-chain-searches
tokens and token filters,
https://help.splunk.com/splunk-enterprise/create-dashboards-and-reports/dashboard-studio/10.0/make-dashboards-dynamic-and-interactive/tokens
(the `s` filter is `JSON.stringify` in @splunk/dashboard-utils, VALUE_ESCAPERS.search; the time
range input's tokens are BaseTimeRangePicker.valueToTokens in @splunk/dashboard-inputs).
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.executor import Results, SplError, Splunk, UnsupportedSpl

# Dashboard Studio's token syntax: $name$ or $name|filter$ (names may hold dots, as global_time.earliest).
TOKEN = re.compile(r"\$([\w.-]+)((?:\|[a-zA-Z]+)*)\$")
# The app Enterprise Security installs (the Finding dashboard asks `| rest /services/apps/local/...`).
ES_APP = "SplunkEnterpriseSecuritySuite"
ES_VERSION = "8.1.0"
SHOWN_INTERNAL = ("_time",)


class DashboardSearchError(Exception):
    """A data source that cannot become a search: a token no input sets, a chain without its base,
    a data source type or token filter that is not modelled."""


@dataclass(frozen=True)
class Look:
    """How a user looks at one dashboard: at `now`, with the inputs they changed from their defaults
    (`inputs`: token name -> value; a time range input as "earliest,latest"), on a search head with
    Enterprise Security installed or not."""

    dashboard: str
    now: float
    inputs: Mapping[str, str] = field(default_factory=dict)
    es_installed: bool = False
    why: str = ""


@dataclass(frozen=True)
class DataSourceSearch:
    ds_id: str
    spl: str
    earliest: str | None
    latest: str | None


@dataclass
class Recording:
    look: Look
    tokens: dict[str, str]
    searches: dict[str, DataSourceSearch]
    results: dict[str, Results]
    errors: dict[str, str]

    def table(self, ds_id: str) -> list[dict[str, Any]]:
        """The rows of a data source, as the recording carries them."""
        result = self.results[ds_id]
        return [{name: row.get(name) for name in shown_fields(result)} for row in result.rows]

    def document(self) -> dict[str, Any]:
        """The JSON document the preview page reads."""
        return {
            "dashboard": self.look.dashboard,
            "now": iso_time(self.look.now),
            "es_installed": self.look.es_installed,
            "tokens": self.tokens,
            "messages": {
                ds_id: [f"{m.level}: {m.text}" for m in result.messages]
                for ds_id, result in self.results.items()
                if result.messages
            },
            "errors": self.errors,
            "results": {ds_id: columns_of(result) for ds_id, result in self.results.items()},
        }

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.look.dashboard}.json"
        path.write_text(json.dumps(self.document(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path


# ---------------------------------------------------------------------------------- tokens


def token_values(defn: Mapping[str, Any], inputs: Mapping[str, str]) -> dict[str, str]:
    """Every token the dashboard's inputs set (INPUTS overrides an input's defaultValue)."""
    tokens: dict[str, str] = {}
    names = set()
    for input_id, item in defn.get("inputs", {}).items():
        name = item.get("options", {}).get("token")
        if not name:
            raise DashboardSearchError(f"input {input_id} sets no token")
        names.add(name)
        value = inputs.get(name, item.get("options", {}).get("defaultValue"))
        if value is None:
            continue  # no value: the panels that need it wait for input
        if item["type"] == "input.timerange":
            earliest, _, latest = str(value).partition(",")
            tokens[f"{name}.earliest"] = earliest
            tokens[f"{name}.latest"] = latest
        else:
            tokens[name] = str(value)
    unknown = sorted(set(inputs) - names)
    if unknown:
        raise DashboardSearchError(f"no input of {defn.get('title')} sets the token(s) {unknown}")
    return tokens


def quoted(value: str) -> str:
    """The `s` token filter: the value as a JSON string literal."""
    return json.dumps(value, ensure_ascii=False)


def fill(text: str, tokens: Mapping[str, str], where: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name, filters = match.group(1), [f for f in match.group(2).split("|") if f]
        if name not in tokens:
            raise DashboardSearchError(f"{where}: ${name}$ is set by no input (the panel waits for input)")
        value = tokens[name]
        for token_filter in filters:
            if token_filter != "s":
                raise DashboardSearchError(f"{where}: token filter |{token_filter} is not modelled")
            value = quoted(value)
        return value

    return TOKEN.sub(replace, text)


# ----------------------------------------------------------------------------- data sources


def query_parameters(defn: Mapping[str, Any], ds_id: str) -> dict[str, str]:
    """A search's time range: its own queryParameters, else the definition's defaults for ds.search."""
    source = defn["dataSources"][ds_id]
    own = source.get("options", {}).get("queryParameters")
    if own is not None:
        return dict(own)
    defaults = defn.get("defaults", {}).get("dataSources", {})
    for key in (source["type"], "global"):
        params = defaults.get(key, {}).get("options", {}).get("queryParameters")
        if params is not None:
            return dict(params)
    return {}


def data_source_search(defn: Mapping[str, Any], ds_id: str, tokens: Mapping[str, str]) -> DataSourceSearch:
    sources = defn["dataSources"]
    if ds_id not in sources:
        raise DashboardSearchError(f"{defn.get('title')}: no data source {ds_id}")
    source = sources[ds_id]
    where = f"{defn.get('title')}: {ds_id}"
    query = source.get("options", {}).get("query")
    if not isinstance(query, str):
        raise DashboardSearchError(f"{where}: no query")
    if source["type"] == "ds.search":
        params = query_parameters(defn, ds_id)
        earliest, latest = params.get("earliest"), params.get("latest")
        return DataSourceSearch(
            ds_id,
            fill(query, tokens, where),
            None if earliest is None else fill(earliest, tokens, where),
            None if latest is None else fill(latest, tokens, where),
        )
    if source["type"] == "ds.chain":
        base_id = source.get("options", {}).get("extend")
        if base_id not in sources:
            raise DashboardSearchError(f"{where}: extends {base_id!r}, no data source of this dashboard")
        base = data_source_search(defn, base_id, tokens)
        return DataSourceSearch(
            ds_id, base.spl + "\n" + fill(query, tokens, where), base.earliest, base.latest
        )
    raise DashboardSearchError(f"{where}: data source type {source['type']} is not modelled")


def record(sp: Splunk, defn: Mapping[str, Any], look: Look, only: Iterable[str] | None = None) -> Recording:
    """Run every data source of DEFN (or those in ONLY) in SP at LOOK.now, with Enterprise Security
    installed or not as LOOK says (SP's installed apps are put back afterwards). A search the
    executor refuses or Splunk would reject is kept in `errors` with its message."""
    tokens = token_values(defn, look.inputs)
    wanted = list(defn["dataSources"]) if only is None else list(only)
    searches = {ds_id: data_source_search(defn, ds_id, tokens) for ds_id in wanted}
    saved = dict(sp.installed_apps)
    sp.installed_apps.pop(ES_APP, None)
    if look.es_installed:
        sp.installed_apps[ES_APP] = {"version": ES_VERSION, "label": "Enterprise Security"}
    results: dict[str, Results] = {}
    errors: dict[str, str] = {}
    try:
        for ds_id, search in searches.items():
            try:
                results[ds_id] = sp.search(
                    search.spl, now=look.now, earliest=search.earliest, latest=search.latest
                )
            except (SplError, UnsupportedSpl) as exc:
                errors[ds_id] = f"{type(exc).__name__}: {exc}"
    finally:
        sp.installed_apps.clear()
        sp.installed_apps.update(saved)
    return Recording(look, tokens, searches, results, errors)


# -------------------------------------------------------------------------------- results


def iso_time(epoch: float) -> str:
    """`_time` as Splunk's JSON results carry it: ISO 8601 with milliseconds and the offset."""
    moment = datetime.datetime.fromtimestamp(float(epoch), tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"


def shown_fields(result: Results) -> list[str]:
    return [name for name in result.fields if not name.startswith("_") or name in SHOWN_INTERNAL]


def columns_of(result: Results) -> dict[str, Any]:
    """{"fields", "columns"} as Splunk's `output_mode=json_cols` gives them, for the shown fields."""
    fields = shown_fields(result)
    columns = []
    for name in fields:
        column = []
        for row in result.rows:
            value = row.get(name)
            if name == "_time" and isinstance(value, str) and value:
                value = iso_time(float(value))
            column.append(value)
        columns.append(column)
    return {"fields": fields, "columns": columns}
