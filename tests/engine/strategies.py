"""Hypothesis strategies: small fleets of correlated normalized events."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from mobile_ingress.engine import lookups as lookups_module

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


# The mix of activities of each fleet shape (as the simulator's shapes: simulate/shapes.py).
SHAPES: dict[str, list[str]] = {
    "default": ["retrieval"] * 4 + ["file_create"] * 4 + ["load", "unpack", "handoff", "state"],
    "retrieval-heavy": ["retrieval"] * 9 + ["file_create"] * 8 + ["state"] * 3 + ["load"],
    "state-heavy": ["state"] * 8 + ["retrieval"] * 2 + ["file_create"] * 2 + ["load"],
    "file-heavy": ["file_create"] * 9 + ["retrieval"] * 2 + ["state", "load", "unpack"],
}
# Device inventory for flows (retrievals known only by src_ip): one address per device, one shared
# by two rows (ambiguous), one covering only an hour, none for 10.9.9.9.
INVENTORY = [
    {
        "device_id": "d1",
        "platform": "android",
        "ip": "10.0.0.11",
        "user": "u1",
        "first_seen": "",
        "last_seen": "",
    },
    {"device_id": "d3", "platform": "ios", "ip": "10.0.0.13", "user": "", "first_seen": "", "last_seen": ""},
    {
        "device_id": "d2",
        "platform": "android",
        "ip": "10.0.0.12",
        "user": "",
        "first_seen": "",
        "last_seen": "",
    },
    {
        "device_id": "old",
        "platform": "android",
        "ip": "10.0.0.12",
        "user": "",
        "first_seen": "",
        "last_seen": str(BASE + 1000),
    },
    {
        "device_id": "d2",
        "platform": "",
        "ip": "10.0.0.14",
        "user": "",
        "first_seen": str(BASE),
        "last_seen": str(BASE + 3600),
    },
]
if hasattr(lookups_module, "INVENTORY_ATTRIBUTION_COLUMNS"):  # device attribution's lease spans
    # an address leased to a randomized MAC no MDM reports: a flow from it stays unresolved
    INVENTORY.append(
        {
            "device_id": "",
            "platform": "",
            "ip": "10.0.0.15",
            "user": "",
            "first_seen": "",
            "last_seen": "",
            "mac": "da:a1:19:00:00:01",
            "mac_randomized": "true",
        }
    )
FLOW_SOURCES = ["10.0.0.11", "10.0.0.12", "10.0.0.13", "10.0.0.14", "10.0.0.15", "10.9.9.9"]


@st.composite
def event(draw: st.DrawFn, index: int, repeated_ids: bool = False, shape: str = "default") -> dict[str, Any]:
    device = draw(st.sampled_from(sorted(DEVICES)))
    platform = DEVICES[device]
    ios = platform == "ios"
    activity = draw(st.sampled_from(SHAPES[shape]))
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
        if draw(st.booleans()):  # as EDR sensors send them: the host also in dest (else from the URL)
            out["dest"] = dest
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
    draw: st.DrawFn, min_size: int = 1, max_size: int = 60, repeated_ids: bool = False, shape: str = "default"
) -> list[dict[str, Any]]:
    size = draw(st.integers(min_size, max_size))
    return [draw(event(i, repeated_ids, shape)) for i in range(size)]


# Ways a record is untidy: each either changes nothing the engine sees, or makes a skip or a warning
# (or a value normalization must fix), so the record must take the full path of normalization.
UNTIDY = [
    "ms",
    "text_time",
    "iso",
    "padded_time",
    "upper_activity",
    "padded_activity",
    "upper_platform",
    "flow",
    "flow_keep_platform",
    "bad_number",
    "text_number",
    "negative_number",
    "bool_number",
    "big_port",
    "text_bool",
    "word_bool",
    "int_bool",
    "bad_bool",
    "upper_state",
    "bad_state",
    "padded_device",
    "number_id",
    "padded_id",
    "nested",
    "list_value",
    "empty_strings",
    "dest_port_suffix",
    "dest_upper",
    "dest_trailing_dot",
    "star_dest",
    "no_dest",
    "loopback_dest",
    "loopback_url",
    "loopback_ip",
    "bad_ip",
    "url_no_scheme",
    "url_query_host",
    "alias_path",
    "file_url_path",
    "dot_path",
    "trailing_slash",
    "no_app",
    "padded_name",
    "type_params",
    "upper_type",
    "unknown_method",
    "upper_method",
    "unknown_load",
    "non_ascii_name",
    "slash_name",
    "no_ext_big",
    "framework_path",
]


def untidy(record: dict[str, Any], how: str) -> dict[str, Any]:
    """RECORD made untidy in the way HOW names (see UNTIDY)."""
    e = dict(record)
    activity = e["activity"]
    size_field = "bytes_in" if activity == "retrieval" else "file_size"
    if how == "ms":
        e["_time"] = int(e["_time"] * 1000)
    elif how == "text_time":
        e["_time"] = str(e["_time"])
    elif how == "iso":
        e["_time"] = "2023-11-14T22:13:20Z"
    elif how == "padded_time":
        e["_time"] = f" {e['_time']} "
    elif how == "upper_activity":
        e["activity"] = activity.upper()
    elif how == "padded_activity":
        e["activity"] = f" {activity}"
    elif how == "upper_platform":
        e["platform"] = e["platform"].capitalize()
    elif how in ("flow", "flow_keep_platform"):
        e.pop("device_id", None)
        if how == "flow":
            e.pop("platform", None)
        e["src_ip"] = FLOW_SOURCES[len(str(e.get("event_id"))) % len(FLOW_SOURCES)]
    elif how == "bad_number":
        e[size_field] = "lots"
    elif how == "text_number":
        e[size_field] = "20000"
    elif how == "negative_number":
        e[size_field] = -5
    elif how == "bool_number":
        e[size_field] = True
    elif how == "big_port":
        e["dest_port"] = 70000
    elif how == "text_bool":
        e["device_locked"] = "true"
    elif how == "word_bool":
        e["device_locked"] = "YES"
    elif how == "int_bool":
        e["recent_user_interaction"] = 0
    elif how == "bad_bool":
        e["dest_corroborated"] = "maybe"
    elif how == "upper_state":
        e["app_state"] = "Background"
    elif how == "bad_state":
        e["app_state"] = "sideways"
    elif how == "padded_device":
        e["device_id"] = f" {e['device_id']} "
    elif how == "number_id":
        e["event_id"] = 7
    elif how == "padded_id":
        e["event_id"] = f" {e.get('event_id', 'x')} "
    elif how == "nested":
        e["app_id"] = {"name": e.get("app_id")}
    elif how == "list_value":
        e["device_locked"] = [True]
    elif how == "empty_strings":
        for name in ("app_state", "device_locked", "recent_user_interaction", "dest_ip", "src_ip"):
            e.setdefault(name, "")
    elif how == "dest_port_suffix":
        e["dest"] = "evil.example:8443"
    elif how == "dest_upper":
        e["dest"] = "EVIL.Example"
    elif how == "dest_trailing_dot":
        e["dest"] = "evil.example."
    elif how == "star_dest":
        e["dest"] = "*"
    elif how == "no_dest":
        e.pop("dest", None)
    elif how == "loopback_dest":
        e["dest"] = "127.0.0.1"
    elif how == "loopback_url":
        e["url"] = "http://127.0.0.1:8080/p.dex"
    elif how == "loopback_ip":
        e["dest_ip"] = "127.0.0.5"
    elif how == "bad_ip":
        e["dest_ip"] = "10.0.0.300"
    elif how == "url_no_scheme":
        e["url"] = "evil.example/dl/p.dex"
    elif how == "url_query_host":
        e["url"] = "https://evil.example?x=/y#z/p.dex"
    elif how == "alias_path" and "file_path" in e:
        e["file_path"] = (
            e["file_path"].replace("/data/data/", "/data/user/0/").replace("/storage/emulated/0/", "/sdcard/")
        )
    elif how == "file_url_path" and "file_path" in e:
        e["file_path"] = "file://" + e["file_path"]
    elif how == "dot_path" and "file_path" in e:
        e["file_path"] = e["file_path"].replace("/files/", "/files/./")
    elif how == "trailing_slash" and "file_path" in e:
        e["file_path"] = e["file_path"] + "/"
    elif how == "no_app":
        e.pop("app_id", None)
    elif how == "padded_name":
        e["file_name"] = " p.dex "
    elif how == "type_params":
        e["file_type"] = "application/zip; charset=binary"
    elif how == "upper_type":
        e["file_type"] = "Application/Vnd.Android.Package-Archive"
    elif how == "unknown_method":
        e["retrieval_method"] = "carrier-pigeon"
    elif how == "upper_method":
        e["retrieval_method"] = "HTTP"
    elif how == "unknown_load":
        e["load_method"] = "reflection"
    elif how == "non_ascii_name":
        e["file_name"] = "PAYLOAD.DEX" if activity != "file_create" else "şablon.apk"
    elif how == "slash_name":
        e["file_name"] = "a/b.apk"
    elif how == "no_ext_big":
        e["file_name"] = "blob"
        e["file_size"] = 20000
    elif how == "framework_path" and "file_path" in e:
        e["file_path"] = e["file_path"].rsplit("/", 1)[0] + "/X.Framework/x"
    return e


@st.composite
def untidy_fleets(
    draw: st.DrawFn, max_size: int = 60, shape: str = "default", share: float = 0.25
) -> list[dict[str, Any]]:
    """A fleet of SHAPE with about SHARE of its records untidy in some way."""
    events = draw(fleets(max_size=max_size, repeated_ids=True, shape=shape))
    out = []
    for record in events:
        if draw(st.floats(0, 1)) < share:
            record = untidy(record, draw(st.sampled_from(UNTIDY)))
        out.append(record)
    return out


@st.composite
def neighbourhoods(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A chain and what lies just beyond its reach (window 60 s, skew 5 s: reach 131 s): retrievals
    whose bytes may join its byte sum, each perhaps repeating the event id of one a window or so
    before it; context set long before, sometimes by a duplicate or by two events of identical
    content; quiet events between. The cases where the neighbourhood rule's parts matter."""
    t = BASE + 5000
    app = "com.flash.pro"
    base = {"platform": "android", "device_id": "d1", "app_id": app}
    url = "https://evil.example/dl/"
    r_time = t - draw(st.sampled_from([0, 30, 60]))
    events: list[dict[str, Any]] = [
        {
            **base,
            "_time": t,
            "activity": "file_create",
            "event_id": "f",
            "file_path": f"/data/data/{app}/files/p.dex",
        },
        {
            **base,
            "_time": r_time,
            "activity": "retrieval",
            "event_id": "r",
            "url": url + "p.dex",
            "bytes_in": draw(st.sampled_from([5000, 20000])),
        },
    ]
    for k in range(draw(st.integers(0, 2))):
        c_time = r_time - draw(st.sampled_from([30, 59, 60]))
        events.append(
            {
                **base,
                "_time": c_time,
                "activity": "retrieval",
                "event_id": f"c{k}",
                "url": url + "x",
                "bytes_in": 5000,
            }
        )
        if draw(st.booleans()):
            gap = draw(st.sampled_from([30, 59, 60, 61, 90]))
            events.append(
                {
                    **base,
                    "_time": c_time - gap,
                    "activity": "retrieval",
                    "event_id": f"c{k}",
                    "url": url + "y",
                    "bytes_in": 1,
                }
            )
    for k in range(draw(st.integers(0, 4))):
        when = t - draw(st.sampled_from([20, 200, 1000, 1030, 3000]))
        setter: dict[str, Any] = {**base, "_time": when, "activity": "state", "event_id": f"s{k}"}
        name = draw(st.sampled_from(["device_locked", "app_state", "recent_user_interaction"]))
        setter[name] = (
            draw(st.sampled_from(["foreground", "background"]))
            if name == "app_state"
            else draw(st.booleans())
        )
        if draw(st.booleans()):
            setter["app_id"] = draw(st.sampled_from([app, "com.notes"]))
        events.append(setter)
        twist = draw(st.sampled_from(["none", "none", "duplicate", "twin", "both"]))
        if twist in ("duplicate", "both"):  # an earlier event with its id: the setter is a duplicate
            events.append(
                {
                    **base,
                    "_time": when - draw(st.sampled_from([10, 60, 61])),
                    "activity": "state",
                    "event_id": f"s{k}",
                    "device_locked": draw(st.booleans()),
                }
            )
        if twist in ("twin", "both"):  # identical content, another id, at the same time
            events.append({**setter, "event_id": f"t{k}"})
    for k in range(draw(st.integers(0, 6))):
        events.append({**base, "_time": t - 2000 - 100 * k, "activity": "state", "event_id": f"q{k}"})
    return events
