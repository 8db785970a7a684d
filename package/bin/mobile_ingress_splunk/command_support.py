"""What the app's search commands share: the lookups in force, the KV store through the search's own
splunkd session, the app's log file, and option values parsed by the engine.

The commands (`bin/ingresscorrelate.py`, `bin/ingressprefilter.py`) are thin: they adapt the search
command protocol; everything they decide is here or in the engine.
"""

from __future__ import annotations

import logging
import logging.handlers
import math
import os
import sys
from typing import Any

from mobile_ingress.engine.errors import EngineError
from mobile_ingress.engine.lookups import LOOKUP_NAMES, LookupSource, csv_file_source, lookup_name
from mobile_ingress.engine.settings import parse_bool, parse_setting

from .kvstore import KVStoreReader

LOG_PREFIX = "ta_mobile_ingress"
# The inputs' log format (mobile_ingress_inputs/modinput.py): the Data health dashboard reads both.
LOG_FORMAT = "%(asctime)s %(levelname)s pid=%(process)d command=%(command)s | %(message)s"


def app_name(app_dir: str) -> str:
    """The app's folder name: its KV store collections live in that app's namespace (an admin may
    install the package under another folder name, e.g. a renamed copy)."""
    return os.path.basename(os.path.normpath(app_dir))


def lookup_sources(app_dir: str, kvstore: KVStoreReader | None) -> dict[str, list[LookupSource]]:
    """For each lookup (contract section 2): the KV store collection (when splunkd is reachable),
    the `_local` CSV, then the shipped CSV in APP_DIR/lookups; the first non-empty one is used."""
    folder = os.path.join(app_dir, "lookups")
    sources: dict[str, list[LookupSource]] = {}
    for name in LOOKUP_NAMES:
        chain = [] if kvstore is None else [kvstore.source(lookup_name(name))]
        chain.append(csv_file_source(os.path.join(folder, lookup_name(name) + "_local.csv")))
        chain.append(csv_file_source(os.path.join(folder, lookup_name(name) + ".csv")))
        sources[name] = chain
    return sources


def kvstore_of(command: Any, app_dir: str) -> KVStoreReader | None:
    """The KV store of the app through splunkd, when the getinfo message says where splunkd is
    (`searchinfo.splunkd_uri` and `session_key`); None outside Splunk."""
    searchinfo = command.metadata.searchinfo
    if not getattr(searchinfo, "splunkd_uri", None) or not getattr(searchinfo, "session_key", None):
        return None
    service = command.service
    return None if service is None else KVStoreReader(service, app_name(app_dir))


def search_latest_time(command: Any) -> float | None:
    """The searched period's end (epoch seconds) from the getinfo message, when it is one."""
    value = getattr(command.metadata.searchinfo, "latest_time", None)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


class Invalid:
    """A value the engine refused: kept so `prepare` reports the engine's own message."""

    def __init__(self, raw: object, message: str) -> None:
        self.raw = raw
        self.message = message


def parse_option(name: str, value: object) -> object:
    """An option's typed value by the engine's parser, or `Invalid` with the engine's message.
    `suppressed` is a boolean; `warmup_days` a number of days (0 or more)."""
    if value is None:
        return None
    try:
        if name == "suppressed":
            return parse_bool(value)
        if name == "warmup_days":
            days = float(str(value))
            if not math.isfinite(days) or days < 0:
                raise ValueError
            return days
        return parse_setting(name, value)
    except (EngineError, ValueError) as exc:
        message = str(exc)
        if name == "suppressed":
            message = f"suppressed must be true or false (or 1/0), got {value!r}"
        elif name == "warmup_days":
            message = f"warmup_days must be a number of days (0 or more), got {value!r}"
        return Invalid(value, message)


def format_option(value: object) -> str:
    if isinstance(value, Invalid):
        return str(value.raw)
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)


class _Command(logging.Filter):
    def __init__(self, command: str) -> None:
        super().__init__()
        self.command = command

    def filter(self, record: logging.LogRecord) -> bool:
        record.command = self.command
        return True


def command_logger(command: str) -> logging.Logger:
    """The command's own log, $SPLUNK_HOME/var/log/splunk/ta_mobile_ingress_<command>.log, which
    splunkd indexes into _internal (the Data health dashboard shows its warnings); stderr (the
    search's search.log) when SPLUNK_HOME is unknown."""
    logger = logging.getLogger(f"{LOG_PREFIX}.{command}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    if not logger.handlers:
        home = os.environ.get("SPLUNK_HOME")
        handler: logging.Handler
        if home:
            folder = os.path.join(home, "var", "log", "splunk")
            os.makedirs(folder, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(
                os.path.join(folder, f"{LOG_PREFIX}_{command}.log"), maxBytes=10_000_000, backupCount=3
            )
        else:
            handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.addFilter(_Command(command))
        logger.addHandler(handler)
    return logger
