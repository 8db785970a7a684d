"""Path normalization and Android app derivation (contract section 1, "Paths")."""

from __future__ import annotations

import re

DOWNLOADS_PROVIDER = "com.android.providers.downloads"

_ANDROID_APP_PATHS = [
    re.compile(r"^/data/data/([^/]+)(?:/|$)"),
    re.compile(r"^/data/user/\d+/([^/]+)(?:/|$)"),
    re.compile(r"^/data/user_de/\d+/([^/]+)(?:/|$)"),
    re.compile(r"^/mnt/expand/[^/]+/user/\d+/([^/]+)(?:/|$)"),
    re.compile(r"^/storage/emulated/\d+/Android/(?:data|obb|media)/([^/]+)(?:/|$)"),
]
_SHARED_STORAGE = re.compile(r"^/storage/emulated/\d+(?:/|$)")
_SHARED_APP_AREA = re.compile(r"^/storage/emulated/\d+/Android(?:/|$)")
_REMAPS = [
    ("/data/user/0/", "/data/data/"),
    ("/sdcard/", "/storage/emulated/0/"),
    ("/storage/self/primary/", "/storage/emulated/0/"),
]
REMAP_PREFIXES = tuple(old for old, _ in _REMAPS)  # a path starting with one of these is not normalized


def _resolve(path: str) -> str:
    absolute = path.startswith("/")
    stack: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if stack and stack[-1] != "..":
                stack.pop()
            elif not absolute:
                stack.append(part)
            continue
        stack.append(part)
    joined = "/".join(stack)
    return "/" + joined if absolute else joined


def normalize_path(value: str, platform: str) -> str:
    """`file://` stripped, `.`/`..`/`//` resolved, and the contract's aliases mapped."""
    text = value.strip()
    if text[:7].lower() == "file://":
        text = text[7:]
    text = _resolve(text)
    probe = text + "/"
    for old, new in _REMAPS:
        if probe.startswith(old):
            text = (new + probe[len(old) :]).rstrip("/") or "/"
            probe = text + "/"
    if platform == "ios" and probe.startswith("/var/"):
        text = "/private" + text
    return text


def android_app_from_path(path: str) -> str | None:
    for pattern in _ANDROID_APP_PATHS:
        match = pattern.match(path)
        if match:
            return match.group(1)
    return None


def is_shared_storage(path: str) -> bool:
    """Android shared storage: `/storage/emulated/<n>/` outside `Android/`."""
    return bool(_SHARED_STORAGE.match(path)) and not _SHARED_APP_AREA.match(path)


def basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]
