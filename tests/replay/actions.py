"""What happens on a device, before any source reports it: requests, files written, code loaded,
state changes. `sources.py` renders each action into every source that would see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from .model import Device


@dataclass
class FileWrite:
    time: float
    device: Device
    app_id: str | None
    path: str  # as the EDR reports it (not normalized)
    size: int
    mime: str
    sha256: str
    index_delay: float | None = None  # seconds from the event to its indexing (None: the source's lag)


@dataclass
class Request:
    """One HTTP(S) request and its response. Requests with the same `conn` share one connection
    (HTTP keep-alive): one Zeek uid, one Suricata flow_id."""

    time: float
    device: Device
    app_id: str | None
    host: str
    ip: str
    uri: str
    mime: str
    size: int
    content: str  # identifies the response body (its hashes)
    scheme: str = "https"
    status: int = 200
    edr_method: str = "http"  # the EDR's network.method
    background: bool = False
    conn: str | None = None
    edr: bool = True  # the EDR reports it (an app's retrieval)
    amapi: bool = True  # Android network activity logs report it (DNS, CONNECT)
    network: bool = True  # the site's sensor sees it when the device is on site
    context: dict[str, object] = field(default_factory=dict)
    file: FileWrite | None = None  # where the response lands, if the EDR sees it written
    user_agent: str = ""

    @property
    def port(self) -> int:
        return 443 if self.scheme == "https" else 80

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}{self.uri}"


@dataclass
class CodeLoad:
    time: float
    device: Device
    app_id: str
    path: str
    method: str
    sha256: str


@dataclass
class State:
    """EDR app.state, device.lock or user.interaction."""

    time: float
    device: Device
    kind: str
    app_id: str | None
    context: dict[str, object]


@dataclass
class Keyguard:
    """Android security log: the keyguard secured (locked) or dismissed (unlocked)."""

    time: float
    device: Device
    secured: bool


@dataclass
class ProcessStart:
    """Android security log: an app's process started."""

    time: float
    device: Device
    app_id: str
    apk_sha256: str


Action = Union[Request, FileWrite, CodeLoad, State, Keyguard, ProcessStart]


def action_time(action: Action) -> float:
    return action.time
