"""A test-only registry with a third analytic, and the engine run over one device window with it.

The third analytic, AN9999, takes the iOS retrieval-only rule from AN1849 (the shape the registry
makes natural: which analytic runs which rule on which platform is registry data). Nothing here
changes the shipped registry: every function takes the registry it uses as a parameter.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from mobile_ingress.engine.analytics import ANALYTICS, Analytic, Analytics, Platform, Rule, Scoring
from mobile_ingress.engine.chain import DeviceWindow
from mobile_ingress.engine.detector import Detector
from mobile_ingress.engine.events import normalize_record, sort_events
from mobile_ingress.engine.rules import Rules
from mobile_ingress.engine.settings import Settings
from mobile_ingress.engine.stream import Order
from tests.engine.support import IOS_MANAGED_WITHOUT_ROLE, make_lookups

THIRD_ID = "AN9999"
THIRD_NAME = "iOS retrieval only"
IOS_RETRIEVAL = {
    "_time": 1_700_000_000,
    "activity": "retrieval",
    "platform": "ios",
    "device_id": "iphone-1",
    "app_id": "com.acme.notes",
    "dest": "cdn-update.evil-example.net",
    "bytes_in": 20000,
    "event_id": "r1",
}
IOS_CHAIN = [
    {
        **IOS_RETRIEVAL,
        "url": "https://stage.evil-example.net/lib.dylib",
        "event_id": "r2",
        "_time": 1_700_001_000,
    },
    {
        "_time": 1_700_001_003,
        "activity": "file_create",
        "platform": "ios",
        "device_id": "iphone-1",
        "app_id": "com.acme.notes",
        "file_path": "/private/var/mobile/Containers/Data/Application/U/tmp/lib.dylib",
        "event_id": "f2",
    },
]


def registry_with_third(scoring: Scoring | None = None) -> Analytics:
    """AN1848 and AN1849 as shipped, but the iOS retrieval-only rule is AN9999's."""
    shipped_ios = ANALYTICS.get("AN1849")
    third = Analytic(
        id=THIRD_ID,
        platform=Platform.IOS,
        rules=frozenset({Rule.IOS_RETRIEVAL_ONLY}),
        technique="T1544",
        detection_strategy="DET0718",
        name=THIRD_NAME,
        scoring=scoring if scoring is not None else shipped_ios.scoring,
    )
    ios_chain = Analytic(
        id=shipped_ios.id,
        platform=shipped_ios.platform,
        rules=frozenset({Rule.CHAIN}),
        technique=shipped_ios.technique,
        detection_strategy=shipped_ios.detection_strategy,
        name=shipped_ios.name,
    )
    return Analytics([ANALYTICS.get("AN1848"), ios_chain, third])


def window_findings(
    records: Sequence[Mapping[str, object]], analytics: Analytics | None = None
) -> list[dict[str, object]]:
    """The findings (as the contract's dicts) of one device's records: chains, then retrieval-only,
    evaluated by the engine's chain rules with `analytics` (the default: the shipped registry)."""
    lookups = make_lookups(IOS_MANAGED_WITHOUT_ROLE)
    rules = Rules(lookups, Settings())
    events = [normalize_record(record, lookups)[0] for record in records]
    sort_events(events)
    if analytics is None:
        window = DeviceWindow(events, rules)
    else:
        window = DeviceWindow(events, rules, analytics=analytics)
    protos = [proto for _, proto in window.chains(-math.inf, math.inf, False)]
    protos += [c.proto for c in window.retrieval_candidates(-math.inf, math.inf, False)]
    return [proto.finding.to_dict() for proto in protos]


def detector_findings(
    records: Sequence[Mapping[str, object]], analytics: Analytics | None = None, order: str = "asc"
) -> list[dict[str, object]]:
    """The same records through the whole engine (`Detector`: validation, candidates first, the
    streaming correlator) as the command line and the search command run it."""
    kwargs = {} if analytics is None else {"analytics": analytics}
    detector = Detector(Settings(), make_lookups(IOS_MANAGED_WITHOUT_ROLE), Order(order), **kwargs)
    ordered = sorted(records, key=lambda r: float(r["_time"]), reverse=order == "desc")  # type: ignore[arg-type]
    for index, record in enumerate(ordered):
        detector.add_record(record, f"record {index}")
    findings, _ = detector.finish()
    return [finding.to_dict() for finding in findings]
