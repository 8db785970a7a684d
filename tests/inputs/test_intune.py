"""Intune input against the Graph stand-in: exact events of the four collections, the audit
window and its bookmark, clouds, and nextLink faults (a loop, another host), 429, token expiry
mid-paging, malformed page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from mobile_ingress_inputs import intune, timeutil
from mobile_ingress_inputs.errors import ConfigError

from .fake_graph import CLIENT_ID, CLIENT_SECRET, TENANT, FakeGraph, assignment, audit_event, store_app
from .fakeserver import Fault, serving
from .support import Harness, without_meta

NOW = timeutil.parse("2026-11-29T08:00:00.000Z")
assert NOW is not None


@pytest.fixture
def fake() -> Iterator[FakeGraph]:
    server = FakeGraph()
    with serving(server.server):
        yield server


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def account(fake: FakeGraph, secret: str = CLIENT_SECRET) -> intune.IntuneAccount:
    return intune.IntuneAccount(
        TENANT, CLIENT_ID, secret, "global", login_url=fake.server.url, graph_url=fake.server.url
    ).validated(allow_loopback_http=True)


def harness(clock: Clock | None = None) -> Harness:
    h = Harness("intune", page_size=2, secrets=(CLIENT_SECRET,))
    h.clock = clock or Clock(NOW)
    return h


def run(h: Harness, fake: FakeGraph, *names: str) -> dict[str, Any]:
    return h.run(lambda ctx: intune.streams(ctx, account(fake), names or tuple(intune.STREAMS)))


def of(h: Harness, sourcetype: str, kind: str) -> list[dict[str, Any]]:
    return [
        without_meta(dict(e.data))
        for e in h.sink.events
        if e.sourcetype == sourcetype and e.data["mobile_ingress"]["kind"] == kind
    ]


def test_managed_devices_are_written_as_graph_returns_them(fake: FakeGraph) -> None:
    h = harness()
    run(h, fake, "managedDevices")
    assert of(h, "mdm:intune:device", "managedDevice") == fake.devices
    assert h.ids()[0] == f"intune:{TENANT}:managedDevice:{fake.devices[0]['id']}:2026-11-20T09:15:30.1234567Z"
    assert h.sink.events[0].time == timeutil.parse("2026-11-20T09:15:30.1234567Z")
    # 5 devices, $top=2: three pages, every nextLink followed to the end.
    assert len(fake.server.paths("/managedDevices")) == 3


def test_detected_apps_carry_their_devices(fake: FakeGraph) -> None:
    h = harness()
    run(h, fake, "detectedApps")
    expected = [{**app, "managedDevices": fake.app_devices[app["id"]]} for app in fake.detected]
    assert of(h, "mdm:intune:app", "detectedApp") == expected
    assert h.ids() == [f"intune:{TENANT}:detectedApp:{a['id']}" for a in fake.detected]
    # No time of its own: the collection time.
    assert {e.time for e in h.sink.events} == {NOW}


def test_mobile_apps_carry_assignments_and_categories(fake: FakeGraph) -> None:
    h = harness()
    run(h, fake, "mobileApps")
    expected = [
        {**app, "assignments": fake.assignments[app["id"]], "categories": fake.categories[app["id"]]}
        for app in fake.apps
    ]
    assert of(h, "mdm:intune:app", "mobileApp") == expected
    # A catalogue snapshot: the collection time, not the app's last edit (weeks old), so the
    # managed-apps builder, which reads the last day, sees every sweep.
    assert {e.time for e in h.sink.events} == {NOW}
    assert all(timeutil.parse(a["lastModifiedDateTime"]) < NOW - 86400 for a in fake.apps)


def test_audit_events_are_read_by_window_and_the_bookmark_moves(fake: FakeGraph) -> None:
    clock = Clock(NOW)
    h = harness(clock)
    fake.audit = [
        audit_event(1, "2026-11-28T10:00:00.000Z"),
        audit_event(2, "2026-11-29T07:56:00.000Z"),  # inside the last 5 minutes: next window
        audit_event(0, "2026-11-01T00:00:00.000Z"),  # older than the 7-day first window
    ]
    run(h, fake, "auditEvents")
    assert of(h, "mdm:intune:audit", "auditEvent") == [fake.audit[0]]
    window = fake.server.requests[-1].arg("$filter")
    assert (
        window
        == "activityDateTime ge 2026-11-22T08:00:00.000Z and activityDateTime lt 2026-11-29T07:55:00.000Z"
    )
    clock.now = NOW + 3600
    fake.audit.append(audit_event(3, "2026-11-29T08:30:00.000Z"))
    run(h, fake, "auditEvents")
    assert [d["id"] for d in of(h, "mdm:intune:audit", "auditEvent")] == [
        fake.audit[0]["id"],
        fake.audit[1]["id"],
        fake.audit[3]["id"],
    ]
    assert (
        fake.server.requests[-1].arg("$filter", "").startswith("activityDateTime ge 2026-11-29T07:55:00.000Z")
    )


def test_an_empty_audit_window_is_not_requested(fake: FakeGraph) -> None:
    clock = Clock(NOW)
    h = harness(clock)
    run(h, fake, "auditEvents")
    run(h, fake, "auditEvents")  # same instant: the window [bookmark, now - delay) is empty
    assert len(fake.server.paths("/auditEvents")) == 1
    clock.now = NOW + 10
    run(h, fake, "auditEvents")
    assert fake.server.requests[-1].arg("$filter") == (
        "activityDateTime ge 2026-11-29T07:55:00.000Z and activityDateTime lt 2026-11-29T07:55:10.000Z"
    )


def test_each_cloud_has_its_own_login_and_graph_hosts() -> None:
    hosts = {
        cloud: (a.login_url, a.graph_url)
        for cloud in intune.CLOUDS
        for a in [intune.IntuneAccount(TENANT, CLIENT_ID, CLIENT_SECRET, cloud).validated(False)]
    }
    assert hosts == {
        "global": ("https://login.microsoftonline.com", "https://graph.microsoft.com"),
        "usgov": ("https://login.microsoftonline.us", "https://graph.microsoft.us"),
        "usgov_dod": ("https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
        "china": ("https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
    }
    china = intune.IntuneAccount(TENANT, CLIENT_ID, CLIENT_SECRET, "china").validated(False)
    assert china.scope == "https://microsoftgraph.chinacloudapi.cn/.default"


def test_the_token_request_names_the_clouds_graph_scope(fake: FakeGraph) -> None:
    h = harness()
    run(h, fake, "managedDevices")
    token = next(r for r in fake.server.requests if r.path.endswith("/token"))
    assert token.form()["scope"] == "https://graph.microsoft.com/.default"


def test_an_unknown_cloud_or_missing_secret_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown cloud 'mars'"):
        intune.IntuneAccount(TENANT, CLIENT_ID, CLIENT_SECRET, "mars").validated(False)
    with pytest.raises(ConfigError, match="client secret is missing"):
        intune.IntuneAccount(TENANT, CLIENT_ID, "", "global").validated(False)


# ---------------------------------------------------------------------------------------- faults


def test_a_repeating_next_link_is_detected_and_nothing_is_written_twice(fake: FakeGraph) -> None:
    h = harness()
    first = f"{fake.server.url}/v1.0/deviceManagement/managedDevices?$top=2"
    fake.link_override[4] = first  # page 2 points back at page 1
    summary = run(h, fake, "managedDevices")
    assert of(h, "mdm:intune:device", "managedDevice") == fake.devices[:4]
    assert summary["paging_loops"] == 1 and summary["status"] == "partial"
    assert "paging loop" in h.log
    assert len(fake.server.paths("/managedDevices")) == 2


def test_a_next_link_to_another_host_is_not_followed(fake: FakeGraph) -> None:
    h = harness()
    fake.link_override[2] = "https://attacker.example/v1.0/deviceManagement/managedDevices?$skiptoken=2"
    summary = run(h, fake, "managedDevices")
    assert len(h.sink.events) == 0 and summary["status"] == "failed"
    assert "points to another host (attacker.example); not followed" in h.log


def test_graph_429_honours_retry_after(fake: FakeGraph) -> None:
    h = harness()
    fake.server.inject(Fault("status", "/managedDevices", status=429, retry_after="3", after=1))
    run(h, fake, "managedDevices")
    assert h.sleeps == [3.0] and of(h, "mdm:intune:device", "managedDevice") == fake.devices


def test_graph_token_expired_mid_paging_is_renewed_and_the_page_retried(fake: FakeGraph) -> None:
    h = harness()
    fake.server.inject(Fault("revoke", "/managedDevices", after=1))
    summary = run(h, fake, "managedDevices")
    assert of(h, "mdm:intune:device", "managedDevice") == fake.devices
    assert summary["token_renewals"] == 1
    assert len(fake.server.paths("/oauth2/v2.0/token")) == 2


def test_graph_malformed_page_keeps_the_next_link_for_the_next_run(fake: FakeGraph) -> None:
    h = harness()
    fake.server.inject(Fault("malformed", "/managedDevices", after=1))
    summary = run(h, fake, "managedDevices")
    assert summary["malformed_pages"] == 1 and len(h.sink.events) == 2
    assert "$skiptoken=2" in h.store.load(f"intune.{h.input_name}.managedDevices")["cursor"]
    run(h, fake, "managedDevices")
    assert of(h, "mdm:intune:device", "managedDevice") == fake.devices


def test_one_failing_collection_does_not_stop_the_others(fake: FakeGraph) -> None:
    h = harness()
    fake.server.inject(*[Fault("status", "/detectedApps", status=500)] * 4)
    summary = run(h, fake, "detectedApps", "mobileApps")
    assert summary["streams"]["detectedApps"]["status"] == "failed"
    assert summary["streams"]["mobileApps"]["status"] == "ok" and summary["status"] == "partial"
    assert len(of(h, "mdm:intune:app", "mobileApp")) == 4


# ---------------------------------------------------------------- Managed Google Play (beta)


def test_managed_google_play_apps_are_read_from_graph_beta_with_assignments_and_categories(
    fake: FakeGraph,
) -> None:
    fake.store_apps = [store_app(1), store_app(2)]
    fake.assignments[fake.store_apps[0]["id"]] = [assignment(7)]
    h = harness()
    summary = run(h, fake, "mobileApps")
    beta = [r for r in fake.server.requests if r.path.startswith("/beta/")]
    assert [r.path for r in beta] == ["/beta/deviceAppManagement/mobileApps"]
    assert beta[0].arg("$filter") == "isof('microsoft.graph.androidManagedStoreApp')"
    written = [d for d in h.data() if d["mobile_ingress"].get("graph_version") == "beta"]
    assert [without_meta(d) for d in written] == [
        {**fake.store_apps[0], "assignments": [assignment(7)], "categories": []},
        {**fake.store_apps[1], "assignments": [], "categories": []},
    ]
    assert {d["mobile_ingress"]["kind"] for d in written} == {"mobileApp"}
    assert summary["streams"]["managedStoreApps"]["status"] == "ok"


def test_the_other_mobile_apps_are_read_from_graph_v1(fake: FakeGraph) -> None:
    h = harness()
    run(h, fake, "mobileApps")
    v1 = [d for d in h.data() if "graph_version" not in d["mobile_ingress"]]
    assert [d["id"] for d in v1] == [a["id"] for a in fake.apps]
    listed = {r.path for r in fake.server.requests if r.path.endswith("/mobileApps")}
    assert listed == {"/v1.0/deviceAppManagement/mobileApps", "/beta/deviceAppManagement/mobileApps"}


# ------------------------------------------------------------------------ saved checkpoints


def test_a_saved_next_link_to_another_host_is_damaged_and_never_followed(fake: FakeGraph) -> None:
    h = harness()
    h.store.save(
        f"intune.{h.input_name}.managedDevices",
        {"cursor": "https://attacker.example/v1.0/deviceManagement/managedDevices?$skiptoken=2"},
    )
    summary = run(h, fake, "managedDevices")
    assert of(h, "mdm:intune:device", "managedDevice") == fake.devices
    assert "points to another host (attacker.example)" in summary["streams"]["managedDevices"]["checkpoint"]
    assert "connection failed" not in h.log and summary["retries"] == 0  # never asked


def test_a_checkpoint_of_another_tenant_is_reset(fake: FakeGraph) -> None:
    h = harness()
    h.store.save(
        f"intune.{h.input_name}.auditEvents",
        {"bookmark": NOW, "server": f"{fake.server.url}/another-tenant"},
    )
    fake.audit = [audit_event(1, "2026-11-28T10:00:00.000Z")]
    summary = run(h, fake, "auditEvents")
    assert of(h, "mdm:intune:audit", "auditEvent") == fake.audit
    assert summary["streams"]["auditEvents"]["checkpoint"].startswith("reset: saved for ")
