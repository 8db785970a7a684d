"""`ingressprefilter`: the correlation search's base-search filter, rendered from the lookups in force.

    (`mobile_ingress_edr` OR `mobile_ingress_flow` OR `mobile_ingress_mdm`) [| ingressprefilter]

A generating command (search command protocol v2, type `reporting`: it runs once, on the search
head) that returns one row whose `search` field is the filter, so a subsearch inserts it into the
base search as it stands and the indexers drop the events that cannot matter (docs/splunk.md, "The
prefilter"). It reads the risk patterns the way `ingresscorrelate` does (KV store collection, then
`lookups/mobile_ingress_file_risk_patterns_local.csv`, then the shipped CSV), so a pattern added on
the setup page reaches the indexers on the next run. The macro `mobile_ingress_prefilter` calls it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

APP_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LIB = os.path.join(APP_DIR, "lib")
if os.path.isdir(_LIB) and _LIB not in sys.path:
    sys.path.insert(0, _LIB)

from mobile_ingress_splunk.command_support import kvstore_of, lookup_sources  # noqa: E402
from mobile_ingress_splunk.prefilter_spl import prefilter_spl  # noqa: E402
from splunklib.searchcommands import Configuration, GeneratingCommand, dispatch  # noqa: E402

from mobile_ingress.engine.errors import EngineError  # noqa: E402
from mobile_ingress.engine.lookups import Lookups  # noqa: E402
from mobile_ingress.engine.prefilter import Prefilter  # noqa: E402
from mobile_ingress.engine.rules import Rules  # noqa: E402
from mobile_ingress.engine.settings import Settings  # noqa: E402


@Configuration(type="reporting")
class IngressPrefilterCommand(GeneratingCommand):
    """Returns the base-search filter of the T1544 correlation search as a `search` field.

    ##Syntax
    ingressprefilter

    ##Description
    One row, one field `search`: the filter rendered from the risk patterns in force. Use it as a
    subsearch of a base search: `... [| ingressprefilter]`.
    """

    app_dir = APP_DIR  # where lookups/ is read; tests point it at a temporary app folder

    def generate(self) -> Iterator[dict[str, object]]:
        try:
            lookups = Lookups.load(lookup_sources(self.app_dir, kvstore_of(self, self.app_dir)))
        except EngineError as exc:
            self.write_error("{}", f"ingressprefilter: {exc}")
            sys.exit(1)
        description = Prefilter.build(Rules(lookups, Settings())).describe()
        yield {"search": prefilter_spl(description)}


if __name__ == "__main__":
    dispatch(IngressPrefilterCommand, sys.argv, sys.stdin, sys.stdout, __name__)
