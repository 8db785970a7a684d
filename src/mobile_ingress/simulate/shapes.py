"""Fleet shapes: the mix of benign traffic a simulated fleet sends (`mobile-ingress simulate --shape`).

The planted cases are the same in every shape (plan.py); only the benign traffic around them
changes, so a shape measures what the engine costs on that mix without changing what it must find.

- `default`: the fleet as it always was (byte for byte: a shape other than this one is the only
  thing that draws the extra random numbers below).
- `retrieval-heavy`: sessions that mostly download media from each app's baselined CDN hosts and
  save it (about 45 % retrievals, 40 % file creations, nearly all benign media, 15 % state).
- `state-heavy`: app switches, notifications and screen locks between every step of a session
  (over half of the events are state events).
- `file-heavy`: apps writing local files (databases, logs, thumbnails, JSON caches) between the
  steps of a session (about two thirds of the events are benign file creations).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shape:
    name: str
    media_share: float | None  # session step: a media download for any app, else the default choice
    steps: tuple[int, int]  # steps per app session (inclusive)
    cache_share: float  # an allowed-path cache entry after a step
    state_flips: tuple[int, int] | None  # state events (app switches, locks) after each step
    local_files: tuple[int, int] | None  # benign local files an app writes after each step
    json_file_share: float  # a JSON exchange saves its answer as a file
    flow_share: float  # an app's retrieval is also seen by the network sensor as a flow (no app)
    events_per_hour: int  # about how many events 1,000 devices send an hour (sizes the benchmark runs)


SHAPES: dict[str, Shape] = {
    shape.name: shape
    for shape in (
        Shape("default", None, (3, 9), 0.22, None, None, 0.45, 0.18, 51_000),
        Shape("retrieval-heavy", 0.95, (5, 11), 0.02, None, None, 0.9, 0.04, 63_000),
        Shape("state-heavy", None, (3, 9), 0.22, (1, 4), None, 0.45, 0.18, 138_000),
        Shape("file-heavy", None, (3, 9), 0.22, None, (3, 7), 0.45, 0.18, 141_000),
    )
}
DEFAULT = SHAPES["default"]


def shape_named(name: str) -> Shape:
    try:
        return SHAPES[name]
    except KeyError:
        raise ValueError(f"unknown shape {name!r}; known: {', '.join(SHAPES)}") from None
