"""rest, as a stand-in for the two endpoints the app's dashboards read
(https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/rest):

- `/services/apps/local/<name>`: one result per installed app of that name (`Splunk.installed_apps`:
  name -> its app.conf-like fields, e.g. {"version": "8.0.2"}); an app that is not installed gives
  no result and the endpoint's 404 as a warning;
- `/servicesNS/-/<app>/configs/conf-macros`: one result per macro of the instance (`title`,
  `definition`, `args`, `iseval`, `description`, `eai:acl.app`).
Any other endpoint is refused. Only `splunk_server=local` and `count=` are accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import UnsupportedSpl
from ..pipeline import ParseContext, Runtime, Table, command
from .options import Args, integer


@dataclass
class Rest:
    endpoint: str
    count: int

    def run(self, table: Table | None, rt: Runtime) -> Table:
        splunk = rt.splunk
        rows: list[dict[str, Any]] = []
        app_match = re.fullmatch(r"/services(?:NS/[^/]+/[^/]+)?/apps/local/([^/]+)", self.endpoint)
        macros_match = re.fullmatch(r"/servicesNS/-/([^/]+)/configs/conf-macros", self.endpoint)
        if app_match is not None:
            name = app_match.group(1)
            app = splunk.installed_apps.get(name)
            if app is None:
                rt.warn(
                    f"Unexpected status for to fetch REST endpoint uri={self.endpoint} "
                    "from server=local - Not Found"
                )
            else:
                rows.append(
                    {
                        "title": name,
                        "label": app.get("label", name),
                        "disabled": "0",
                        "splunk_server": "local",
                        **app,
                    }
                )
        elif macros_match is not None:
            app_name = macros_match.group(1)
            if app_name == splunk.app_name:
                for name, stanza in splunk.macros.items():
                    row = {"title": name, "eai:acl.app": splunk.app_name, "splunk_server": "local"}
                    for key in ("definition", "args", "iseval", "description"):
                        if stanza.get(key):
                            row[key] = stanza[key]
                    rows.append(row)
        else:
            raise UnsupportedSpl(f"rest endpoint {self.endpoint}")
        if self.count > 0:
            rows = rows[: self.count]
        return Table(rows, None)


@command("rest", generating=True)
def parse_rest(args: str, ctx: ParseContext) -> Any:
    parsed = Args("rest", args)
    options = parsed.options(["splunk_server", "count", "timeout", "strict"])
    if options.get("splunk_server", "local") != "local":
        raise UnsupportedSpl(f"rest splunk_server={options['splunk_server']}")
    endpoint = parsed.take().value
    options.update(parsed.options(["splunk_server", "count", "timeout", "strict"]))
    parsed.expect_end()
    return Rest(endpoint, integer("rest", "count", options.get("count"), 0))
