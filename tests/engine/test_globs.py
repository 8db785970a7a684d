from __future__ import annotations

import pytest

from mobile_ingress.engine.globs import compile_glob


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/data/data/*/cache/WebView/**", "/data/data/com.a/cache/WebView/x/y.js", True),
        ("/data/data/*/cache/WebView/**", "/data/data/com.a/cache/WebView", True),
        ("/data/data/*/cache/WebView/**", "/data/data/com.a/b/cache/WebView/x", False),
        ("/data/data/*/cache/WebView/**", "/data/data/com.a/cache/webview/x", False),
        ("**/*.framework/**", "/private/var/x/Evil.framework/Evil", True),
        ("**/*.framework/**", "Evil.framework", True),
        ("**/*.framework/**", "/private/var/x/Evil.frameworkz/Evil", False),
        ("/a/**/b", "/a/b", True),
        ("/a/**/b", "/a/x/y/b", True),
        ("/a/**/b", "/a/xb", False),
        ("/a/*.so", "/a/lib.so", True),
        ("/a/*.so", "/a/x/lib.so", False),
        ("/a/?.so", "/a/l.so", True),
        ("/a/?.so", "/a/li.so", False),
        ("/a/[x].so", "/a/[x].so", True),
    ],
)
def test_star_stays_in_a_segment_and_double_star_spans_segments(
    pattern: str, path: str, matches: bool
) -> None:
    assert bool(compile_glob(pattern, case_sensitive=True).match(path)) is matches


def test_risk_globs_ignore_case_and_allowed_paths_do_not() -> None:
    assert compile_glob("*.DEX", case_sensitive=False).match("classes.dex")
    assert not compile_glob("*.DEX", case_sensitive=True).match("classes.dex")


def test_an_empty_glob_is_refused() -> None:
    with pytest.raises(ValueError):
        compile_glob("", case_sensitive=True)
