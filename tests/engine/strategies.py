"""Hypothesis strategies: small fleets of correlated normalized events."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

BASE = 1_700_000_000
DEVICES = {"d1": "android", "d2": "android", "d3": "ios"}
APPS = ["com.flash.pro", "com.notes", None]
IOS_APPS = ["com.acme.notes", "com.acme.game"]
DESTS = ["evil.example", "cdn.example.com", "play.googleapis.com", "10.0.0.5", "a.evil.example"]
NAMES = ["p.dex", "lib.so", "img.png", "a.zip", "payload", "index.html", "notes.json"]
IOS_NAMES = ["x.dylib", "a.zip", "page.html", "blob", "data.json"]
SETTINGS = {"time_window": 60, "clock_skew": 5}
LOOKUPS: dict[str, list[dict[str, Any]]] = {
    "allowed_destinations": [
        {"destination": "play.googleapis.com", "app_id": "*", "comment": ""},
        {"destination": "cdn.example.com", "app_id": "com.notes", "comment": ""},
    ],
    "destination_baseline": [
        {"app_id": "com.flash.pro", "dest": "cdn.example.com", "first_seen": "", "last_seen": "", "count": 3},
        {"app_id": "*", "dest": "10.0.0.5", "first_seen": BASE + 1500, "last_seen": "", "count": 1},
    ],
    "managed_apps": [
        {
            "platform": "ios",
            "app_id": "com.acme.notes",
            "managed": "true",
            "approved_roles": "",
            "source": "t",
        },
        {
            "platform": "android",
            "app_id": "com.notes",
            "managed": "true",
            "approved_roles": "",
            "source": "t",
        },
    ],
}


@st.composite
def event(draw: st.DrawFn, index: int, repeated_ids: bool = False) -> dict[str, Any]:
    device = draw(st.sampled_from(sorted(DEVICES)))
    platform = DEVICES[device]
    ios = platform == "ios"
    activity = draw(
        st.sampled_from(["retrieval"] * 4 + ["file_create"] * 4 + ["load", "unpack", "handoff", "state"])
    )
    app = draw(st.sampled_from([*IOS_APPS, None] if ios else APPS))
    out: dict[str, Any] = {
        # Bursts a window wide, spread over many reaches: chains form, and batches run between them.
        "_time": BASE + draw(st.sampled_from([0, 700, 1400, 2100, 2800])) + draw(st.integers(0, 90)),
        "activity": activity,
        "platform": platform,
        "device_id": device,
        "event_id": f"e{index}",
    }
    if repeated_ids and draw(st.booleans()):
        # A few ids shared by events of different content: the duplicate rule by event id.
        out["event_id"] = f"r{draw(st.integers(0, 1))}"
    if app is not None:
        out["app_id"] = app
    if activity == "retrieval":
        dest = draw(st.sampled_from(DESTS))
        name = draw(st.sampled_from(IOS_NAMES if ios else NAMES))
        out["url"] = f"https://{dest}/dl/{name}"
        out["bytes_in"] = draw(st.sampled_from([None, 100, 5000, 9000, 20000, 1.5e308]))
        out["retrieval_method"] = draw(st.sampled_from(["http", "download_manager"]))
        # Issue 15: a name the sensor only read in a Host header, and the download's own name.
        out["dest_corroborated"] = draw(st.sampled_from([None, None, True, False]))
        if draw(st.integers(0, 3)) == 0:
            out["dest_ip"] = draw(st.sampled_from(["10.0.0.5", "203.0.113.9"]))
        if draw(st.integers(0, 3)) == 0:
            out["file_name"] = draw(st.sampled_from(IOS_NAMES if ios else NAMES))
    elif activity != "state":
        owner = app or (IOS_APPS[0] if ios else APPS[0])
        if ios:
            out["app_id"] = owner
            folder = f"/private/var/mobile/Containers/Data/Application/U-{owner}/Library/Caches"
            name = draw(st.sampled_from(IOS_NAMES))
        else:
            folder = draw(st.sampled_from([f"/data/data/{owner}/files", "/storage/emulated/0/Download"]))
            name = draw(st.sampled_from(NAMES))
        out["file_path"] = f"{folder}/{name}"
        if activity == "file_create":
            out["file_size"] = draw(st.sampled_from([None, 2000, 10000]))
        if activity == "unpack":
            out["target_path"] = f"{folder}/unz"
        if activity == "load":
            out["load_method"] = draw(st.sampled_from(["dexclassloader", "webview"]))
            if draw(st.booleans()):
                out["file_path"] = f"{folder}/unz/{name}"
    if draw(st.integers(0, 4)) == 0:
        out["app_state"] = draw(st.sampled_from(["foreground", "background"]))
    if draw(st.integers(0, 6)) == 0:
        out["device_locked"] = draw(st.booleans())
    if draw(st.integers(0, 6)) == 0:
        out["recent_user_interaction"] = draw(st.booleans())
    out = {k: v for k, v in out.items() if v is not None}
    return out


@st.composite
def fleets(
    draw: st.DrawFn, min_size: int = 1, max_size: int = 60, repeated_ids: bool = False
) -> list[dict[str, Any]]:
    size = draw(st.integers(min_size, max_size))
    return [draw(event(i, repeated_ids)) for i in range(size)]
