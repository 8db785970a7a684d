from __future__ import annotations

import pytest

from mobile_ingress.engine.globs import STEPS, compile_glob, glob_regex


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


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/a/**/**/b", "/a/b", True),
        ("/a/**/**/b", "/a/x/y/b", True),
        ("**/**", "/any/thing", True),
        ("/data/**/**/*.dex", "/data/data/com.a/files/p.dex", True),
        ("/data/**/**/*.dex", "/data/data/com.a/files/p.so", False),
    ],
)
def test_consecutive_double_stars_act_as_one(pattern: str, path: str, matches: bool) -> None:
    assert bool(compile_glob(pattern, case_sensitive=True).match(path)) is matches


def test_the_rendered_regex_also_collapses_consecutive_double_stars() -> None:
    import re

    assert re.fullmatch(glob_regex("/a/**/**/b"), "/a/x/b")
    assert re.fullmatch(glob_regex("/a/**/**/b"), "/a/b")


def _steps(pattern: str, text: str) -> tuple[bool, int]:
    glob = compile_glob(pattern, case_sensitive=True)
    before = STEPS.steps
    matched = glob.match(text)
    return matched, STEPS.steps - before


# Patterns a backtracking matcher takes time polynomial (or exponential) in the text for.
ADVERSARIAL = [
    ("*-*-*-*-*.tmp", "-" * 4000 + "x"),
    ("*a*a*a*a*a*b", "a" * 4000),
    ("*?*?*?*?*?*?x", "y" * 4000),
    ("/**/a/**/a/**/a/**/b", "/" + "/".join(["a"] * 4000)),
    ("**/*-*-*-*/**/x", "/".join(["-" * 50] * 80)),
]


@pytest.mark.parametrize(("pattern", "text"), ADVERSARIAL)
def test_adversarial_patterns_cost_steps_linear_in_the_text(pattern: str, text: str) -> None:
    matched, steps = _steps(pattern, text)
    assert matched is False
    assert steps <= 4 * len(pattern) * (len(text) + 1), steps


@pytest.mark.parametrize(("pattern", "text"), ADVERSARIAL)
def test_doubling_the_text_at_most_doubles_the_steps(pattern: str, text: str) -> None:
    """Linear: a backtracking matcher's steps grow with a power of the text (11 s per file event)."""
    _, small = _steps(pattern, text)
    doubled = text + text[1:] if text.startswith("/") else text + text
    _, large = _steps(pattern, doubled)
    assert large <= 2 * small + 4 * len(pattern), (small, large)


def test_a_matching_adversarial_text_is_still_found() -> None:
    assert _steps("*-*-*-*-*.tmp", "-" * 4000 + ".tmp")[0] is True
    assert _steps("*a*a*a*a*a*b", "a" * 4000 + "b")[0] is True
