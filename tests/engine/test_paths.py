from __future__ import annotations

import pytest

from mobile_ingress.engine.paths import android_app_from_path, is_shared_storage, normalize_path


@pytest.mark.parametrize(
    ("raw", "platform", "expected"),
    [
        ("file:///data/data/com.a/files/x.dex", "android", "/data/data/com.a/files/x.dex"),
        ("/data/data/com.a/./files//../files/x.dex", "android", "/data/data/com.a/files/x.dex"),
        ("/data/user/0/com.a/files/x.dex", "android", "/data/data/com.a/files/x.dex"),
        ("/data/user/10/com.a/files/x.dex", "android", "/data/user/10/com.a/files/x.dex"),
        ("/sdcard/Download/x.apk", "android", "/storage/emulated/0/Download/x.apk"),
        ("/storage/self/primary/Download/x.apk", "android", "/storage/emulated/0/Download/x.apk"),
        (
            "/var/mobile/Containers/Data/Application/U/x.dylib",
            "ios",
            "/private/var/mobile/Containers/Data/Application/U/x.dylib",
        ),
        ("/var/mobile/x", "android", "/var/mobile/x"),
        ("/../../etc/x", "android", "/etc/x"),
    ],
)
def test_paths_are_normalized_before_anything_reads_them(raw: str, platform: str, expected: str) -> None:
    assert normalize_path(raw, platform) == expected


@pytest.mark.parametrize(
    ("path", "app"),
    [
        ("/data/data/com.a/files/x", "com.a"),
        ("/data/user/10/com.a/files/x", "com.a"),
        ("/data/user_de/0/com.a/x", "com.a"),
        ("/mnt/expand/1234-abcd/user/0/com.a/x", "com.a"),
        ("/storage/emulated/0/Android/data/com.a/files/x", "com.a"),
        ("/storage/emulated/0/Android/obb/com.a/main.obb", "com.a"),
        ("/storage/emulated/0/Android/media/com.a/x", "com.a"),
        ("/storage/emulated/0/Download/x.apk", None),
        ("/data/local/tmp/x", None),
    ],
)
def test_android_app_comes_from_the_listed_path_forms_only(path: str, app: object) -> None:
    assert android_app_from_path(path) == app


def test_shared_storage_is_emulated_storage_outside_android_folder() -> None:
    assert is_shared_storage("/storage/emulated/0/Download/x.apk")
    assert not is_shared_storage("/storage/emulated/0/Android/data/com.a/x")
    assert not is_shared_storage("/data/data/com.a/x")
