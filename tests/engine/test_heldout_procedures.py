"""A held-out set of chains modelled on the procedure examples that MITRE ATT&CK publishes for
T1544 (Ingress Tool Transfer, mobile) and T1407 (Download New Code at Runtime): malware that
fetches a second stage and runs it in its own process (Joker and Bread loading dex files, Skygofree
and Windshift fetching modules, Phenakite's iOS implant).
https://attack.mitre.org/techniques/T1544/ and https://attack.mitre.org/techniques/T1407/

Each payload is staged where a benign cache lives (an allowed path of the shipped lookups) and then
loaded in-process. Before issue 15 every one of these was suppressed by the path row; a path row
never covers a file that is then loaded in-process (contract section 2). The twin of each, the same
cache write with no in-process load, stays covered: the caches are what the rows are for.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from .support import make_lookups, orderings, run

T0 = 1_700_000_000
ANDROID_APP = "com.holiday.wallpapers"
IOS_APP = "com.example.secure-chat"
IOS_CONTAINER = "/private/var/mobile/Containers/Data/Application/5C0FFEE0-1111-4222-8333-944455556666"


@dataclass(frozen=True)
class Procedure:
    name: str
    platform: str
    app_id: str
    path: str
    load_method: str
    url: str
    file_type: str | None = None  # what the sensor's magic says, when the name does not


PROCEDURES = [
    Procedure(  # Joker-style: a dex pulled over OkHttp, loaded with DexClassLoader
        "dex_in_the_okhttp_cache",
        "android", ANDROID_APP,
        f"/data/data/{ANDROID_APP}/cache/okhttp/d41d8cd98f00b204e9800998ecf8427e.1",
        "dexclassloader", "https://img-cdn.holiday-wp.example/api/v2/theme?id=9",
        "Dalvik dex file version 035",
    ),
    Procedure(  # Bread-style: a payload dressed as a Play Feature Delivery split
        "dex_in_files_splitcompat",
        "android", ANDROID_APP,
        f"/data/data/{ANDROID_APP}/files/splitcompat/1042/verified-splits/config.arm64_v8a.dex",
        "dexclassloader", "https://update.holiday-wp.example/split/config.arm64_v8a.dex",
    ),
    Procedure(  # Skygofree/Windshift-style: a native module hidden among cached images
        "so_in_the_glide_cache",
        "android", ANDROID_APP,
        f"/data/data/{ANDROID_APP}/cache/image_manager_disk_cache/5d41402abc4b2a76.0.so",
        "loadlibrary", "https://img-cdn.holiday-wp.example/i/5d41402abc4b2a76.so",
    ),
    Procedure(  # Phenakite-style: a Mach-O fetched into the WKWebView cache and dlopen'ed
        "macho_in_the_wkwebview_cache",
        "ios", IOS_APP,
        f"{IOS_CONTAINER}/Library/Caches/WebKit/NetworkCache/Version 16/Records/A1B2/Blob/7e3f",
        "dlopen", "https://static.chat-assets.example/emoji/pack-7e3f", "application/x-mach-binary",
    ),
    Procedure(  # the same dex in a work profile's OkHttp cache (/data/user/10)
        "dex_in_a_work_profile_okhttp_cache",
        "android", ANDROID_APP,
        f"/data/user/10/{ANDROID_APP}/cache/okhttp/aa11bb22cc33dd44.1.dex",
        "dexclassloader", "https://img-cdn.holiday-wp.example/api/v2/theme?id=11",
    ),
]  # fmt: skip


def events(p: Procedure, loaded: bool) -> list[dict[str, object]]:
    device = "phone-1"
    out: list[dict[str, object]] = [
        {"_time": T0 - 30, "activity": "state", "platform": p.platform, "device_id": device,
         "app_id": p.app_id, "app_state": "background", "device_locked": True, "event_id": "s1"},
        {"_time": T0, "activity": "retrieval", "platform": p.platform, "device_id": device,
         "app_id": p.app_id, "url": p.url, "bytes_in": 48_213, "event_id": "r1"},
        {"_time": T0 + 2, "activity": "file_create", "platform": p.platform, "device_id": device,
         "app_id": p.app_id, "file_path": p.path, "file_size": 48_213,
         "file_type": p.file_type, "event_id": "f1"},
    ]  # fmt: skip
    if loaded:
        out.append({"_time": T0 + 9, "activity": "load", "platform": p.platform, "device_id": device,
                    "app_id": p.app_id, "file_path": p.path, "load_method": p.load_method,
                    "event_id": "l1"})  # fmt: skip
    return [{k: v for k, v in e.items() if v is not None} for e in out]


SHIPPED = make_lookups()


@pytest.mark.parametrize("procedure", PROCEDURES, ids=lambda p: p.name)
def test_a_payload_staged_in_an_allowed_cache_and_loaded_in_process_is_found(procedure: Procedure) -> None:
    for label, order, ordered in orderings(events(procedure, loaded=True)):
        findings, _, report = run(ordered, SHIPPED, order=order)
        assert len(findings) == 1, (label, report.messages)
        finding = findings[0]
        assert finding["file_path"] == procedure.path
        assert finding["stages"] == ["retrieval", "staging", "load"]
        assert finding["context"] == ["background", "device_locked"]
        assert finding["severity"] == "critical"


@pytest.mark.parametrize("procedure", PROCEDURES, ids=lambda p: p.name)
def test_the_same_cache_write_without_an_in_process_load_stays_covered(procedure: Procedure) -> None:
    findings, tuning, _ = run(events(procedure, loaded=False), SHIPPED, suppressed=True)
    assert findings == []
    assert len(tuning) == 1 and str(tuning[0]["suppressed_by"]).startswith("mobile_ingress_allowed_paths: ")
