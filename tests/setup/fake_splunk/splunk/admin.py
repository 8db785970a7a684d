"""A stand-in for splunkd's private `splunk.admin` module, for running a UCC-generated REST handler
file (`bin/TA_mobile_ingress_rh_<tab>.py`) as splunkd runs it: as `__main__`, ending in
`admin_external.handle(...)` -> `admin.init(handler_class, ctxInfo)`.

It has only what splunktaucclib's `AdminExternalHandler` uses: `MConfigHandler` (`callerArgs.id`,
`callerArgs.data`, `requestedAction`, `supportedArgs`, `getSessionKey()`), the action constants and
`init`. The request comes from the `SETUP_REQUEST` environment variable (JSON: action, id, data,
session_key); `init` prints one JSON answer: the entries the handler put in `confInfo`, or, when it
raised, splunkd's text for an uncaught handler exception (`Unexpected error "<class ...>" from python
handler: "<exception>". See splunkd.log/python.log for more details.`), the form UCC's page parses
to show the message.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

ACTION_CREATE = 1
ACTION_LIST = 2
ACTION_EDIT = 4
ACTION_REMOVE = 8
CONTEXT_APP_ONLY = 1
_ACTIONS = {"create": ACTION_CREATE, "list": ACTION_LIST, "edit": ACTION_EDIT, "remove": ACTION_REMOVE}
_METHODS = {ACTION_CREATE: "handleCreate", ACTION_LIST: "handleList", ACTION_EDIT: "handleEdit",
            ACTION_REMOVE: "handleRemove"}  # fmt: skip


class _Args:
    def __init__(self) -> None:
        self.required: list[str] = []
        self.optional: list[str] = []

    def addReqArg(self, name: str) -> None:
        self.required.append(name)

    def addOptArg(self, name: str) -> None:
        self.optional.append(name)


class _CallerArgs:
    def __init__(self, id: str | None, data: dict[str, list[str]]) -> None:
        self.id = id
        self.data = data


class _ConfItem(dict):  # type: ignore[type-arg]
    def __init__(self) -> None:
        super().__init__()
        self.metadata: dict[str, Any] = {}

    def setMetadata(self, key: str, value: Any) -> None:
        self.metadata[key] = value


class _ConfInfo(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> _ConfItem:
        item = self[key] = _ConfItem()
        return item


def _request() -> dict[str, Any]:
    return json.loads(os.environ["SETUP_REQUEST"])  # type: ignore[no-any-return]


class MConfigHandler:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        request = _request()
        self.requestedAction = _ACTIONS[request["action"]]
        self.callerArgs = _CallerArgs(request.get("id"), {k: [v] for k, v in request.get("data", {}).items()})
        self.supportedArgs = _Args()
        self._session_key = request["session_key"]

    def getSessionKey(self) -> str:
        return self._session_key


def init(handler_class: type, ctxInfo: Any) -> None:
    handler = handler_class()
    conf_info = _ConfInfo()
    try:
        handler.setup()
        getattr(handler, _METHODS[handler.requestedAction])(conf_info)
    except Exception as exc:
        text = (
            f'Unexpected error "{type(exc)}" from python handler: "{exc}". '
            "See splunkd.log/python.log for more details."
        )
        print(json.dumps({"status": 500, "text": text}))
        sys.exit(0)
    entries = {
        name: {"content": dict(item), "acl": item.metadata.get("eai:acl")} for name, item in conf_info.items()
    }
    print(json.dumps({"status": 200, "entries": entries}))
