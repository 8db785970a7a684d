"""`ingressprefilter`: the correlation search's base-search filter, rendered at search time from the
risk patterns in force, through the protocol v2 byte stream.

Defect it fixes: the prefilter macro used to be rendered once from the shipped CSV, so a risk pattern
added on the setup page (KV store) or in a `_local` CSV never reached the indexers, which dropped
those files before the engine could see them."""

from __future__ import annotations

from pathlib import Path

from . import scp
from .support import SHIPPED

SCRIPT = scp.ROOT / "package" / "bin" / "ingressprefilter.py"


def prefilter(app: Path, tmp_path: Path, **searchinfo: object) -> scp.Result:
    return scp.run_command(
        SCRIPT, "IngressPrefilterCommand", [], [[]], app, tmp_path, command="ingressprefilter", **searchinfo
    )


def test_it_generates_one_search_field_once_on_the_search_head(app: Path, tmp_path: Path) -> None:
    result = prefilter(app, tmp_path)
    assert result.exit_code is None, result.messages
    assert result.getinfo["type"] == "reporting" and result.getinfo["generating"] is True
    assert len(result.rows) == 1
    assert [name for name in result.rows[0] if not name.startswith("__mv_")] == ["search"]
    search = result.rows[0]["search"]
    assert search.startswith("(activity IN (") and '"*.apk"' in search


def test_a_risk_pattern_of_a_local_csv_reaches_the_filter(app: Path, tmp_path: Path) -> None:
    assert '"*.pak"' not in prefilter(app, tmp_path).rows[0]["search"]
    shipped = (SHIPPED / "mobile_ingress_file_risk_patterns.csv").read_text(encoding="utf-8")
    (app / "lookups" / "mobile_ingress_file_risk_patterns_local.csv").write_text(
        shipped.rstrip("\n") + "\nandroid,file_name,*.pak,opaque\n", encoding="utf-8"
    )
    assert '"*.pak"' in prefilter(app, tmp_path).rows[0]["search"]


def test_vendor_retrievals_and_join_sources_are_kept_by_their_namespaced_names(
    app: Path, tmp_path: Path
) -> None:
    search = prefilter(app, tmp_path).rows[0]["search"]
    assert search.endswith(" OR activity=retrieval OR mobile_ingress_activity=retrieval)")
