"""REST handler classes of the setup page's tabs (globalConfig.json `restHandlerModule` =
`mobile_ingress_setup_rh`): UCC generates `bin/TA_mobile_ingress_rh_<tab>.py`, which builds the
tab's model (with the globalConfig field validators) and runs the class named by
`restHandlerClass` through splunktaucclib's `admin_external.handle`.

The classes are thin: the entries live in the KV store collections and the settings in the macros
that the detections read, not in a conf file of the add-on, so list, create, edit and delete are
answered by the plain modules in `mobile_ingress_splunk/` (setup_store.py, setup_settings.py),
through splunkd's REST API with the caller's session. A refusal is a `RestError(400, message)`:
splunkd returns it to the page, which shows the message under the form.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from mobile_ingress_splunk.setup_entries import EntryError, table_for
from mobile_ingress_splunk.setup_settings import DESCRIPTIONS, NAMES, DetectionSettings, SettingRefused
from mobile_ingress_splunk.setup_splunkd import SplunkdError, SplunkdSetup
from mobile_ingress_splunk.setup_store import AllowlistStore
from splunklib.client import Service
from splunktaucclib.rest_handler.admin_external import (
    AdminExternalHandler,
    get_splunkd_endpoint,
    make_conf_item,
)
from splunktaucclib.rest_handler.entity import RestEntity
from splunktaucclib.rest_handler.error import RestError

APP_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP = os.path.basename(APP_DIR)
LOOKUPS_DIR = os.path.join(APP_DIR, "lookups")


class _SetupHandler(AdminExternalHandler):
    """Common parts: the splunkd client with the caller's session, and answers in UCC's form."""

    def _splunkd(self) -> SplunkdSetup:
        uri = urlsplit(get_splunkd_endpoint())
        service = Service(
            scheme=uri.scheme, host=uri.hostname, port=uri.port, token=self.getSessionKey(),
            owner="nobody", app=APP,
        )  # fmt: skip
        return SplunkdSetup(service, APP)

    def _answer(self, confInfo: Any, items: list[tuple[str, dict[str, str]]]) -> None:
        for name, content in items:
            entity = RestEntity(name, content, self.endpoint.model(name), "nobody", APP)
            make_conf_item(confInfo[name], entity.content, entity.eai)

    def _fields_check(self, name: str, existing: dict[str, str] | None) -> Any:
        """The globalConfig validators, as UCC's own handlers run them server-side; the plain
        modules call it after the engine's check, whose message is the clearer one."""

        def check(values: dict[str, str]) -> None:
            self.endpoint.validate(name, dict(values), existing)

        return check

    def _refuse(self, exc: Exception) -> RestError:
        if isinstance(exc, SplunkdError):
            return RestError(500, str(exc))
        return RestError(400, str(exc))


class AllowlistHandler(_SetupHandler):
    """The allowlist tabs: one KV store collection each (the tab name is the lookup's short name)."""

    def _store(self) -> AllowlistStore:
        return AllowlistStore(self._splunkd(), table_for(self.endpoint.config_name), LOOKUPS_DIR)

    @staticmethod
    def _content(entry: Any) -> dict[str, str]:
        return {**entry.values, "origin": entry.origin}

    def handleList(self, confInfo: Any) -> None:
        try:
            entries = self._store().entries()
        except (EntryError, SplunkdError) as exc:
            raise self._refuse(exc) from None
        wanted = self.callerArgs.id
        items = [(e.name, self._content(e)) for e in entries if not wanted or e.name == wanted]
        if wanted and not items:
            raise RestError(404, f'"{wanted}" does not exist')
        self._answer(confInfo, items)

    def handleCreate(self, confInfo: Any) -> None:
        name = self.callerArgs.id
        try:
            entry = self._store().create(name, self.payload, self._fields_check(name, None))
        except (EntryError, SplunkdError) as exc:
            raise self._refuse(exc) from None
        self._answer(confInfo, [(entry.name, self._content(entry))])

    def handleEdit(self, confInfo: Any) -> None:
        name = self.callerArgs.id
        try:
            entry = self._store().edit(name, self.payload, self._fields_check(name, {}))
        except (EntryError, SplunkdError) as exc:
            raise self._refuse(exc) from None
        self._answer(confInfo, [(entry.name, self._content(entry))])

    def handleRemove(self, confInfo: Any) -> None:
        try:
            self._store().remove(self.callerArgs.id)
        except (EntryError, SplunkdError) as exc:
            raise self._refuse(exc) from None


class DetectionSettingsHandler(_SetupHandler):
    """The detection settings tab: one row per scalar element, its value the macro's definition."""

    def _settings(self) -> DetectionSettings:
        return DetectionSettings(self._splunkd())

    def handleList(self, confInfo: Any) -> None:
        try:
            values = self._settings().values()
        except SplunkdError as exc:
            raise self._refuse(exc) from None
        wanted = self.callerArgs.id
        names = [n for n in NAMES if not wanted or n == wanted]
        if wanted and not names:
            raise RestError(404, f'"{wanted}" does not exist')
        self._answer(confInfo, [(n, {"value": values[n], "description": DESCRIPTIONS[n]}) for n in names])

    def handleCreate(self, confInfo: Any) -> None:
        try:
            self._settings().create(self.callerArgs.id)
        except (SettingRefused, SplunkdError) as exc:
            raise self._refuse(exc) from None

    def handleEdit(self, confInfo: Any) -> None:
        name = self.callerArgs.id
        try:
            check = self._fields_check(name, {})
            change = self._settings().edit(
                name, self.payload.get("value", ""), lambda value: check({"value": value})
            )
        except (SettingRefused, SplunkdError) as exc:
            raise self._refuse(exc) from None
        self._answer(confInfo, [(name, {"value": change.value, "description": DESCRIPTIONS[name]})])

    def handleRemove(self, confInfo: Any) -> None:
        try:
            self._settings().remove(self.callerArgs.id)
        except SettingRefused as exc:
            raise self._refuse(exc) from None
