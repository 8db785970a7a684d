"""The limits.conf settings the executor applies, read from the vendored excerpt of Splunk's
default limits.conf (tests/data/executor/limits.conf, see its README)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .conf import read_conf

DATA = Path(__file__).resolve().parents[1] / "data" / "executor"


@dataclass(frozen=True)
class Limits:
    subsearch_maxout: int
    subsearch_maxtime: int
    kv_max_rows_per_query: int
    kv_max_documents_per_batch_save: int
    spath_extraction_cutoff: int
    kv_limit: int
    list_maxsize: int
    max_stream_window: int
    maxresultrows: int

    @classmethod
    def default(cls) -> Limits:
        conf = read_conf(DATA / "limits.conf")
        return cls(
            subsearch_maxout=int(conf["subsearch"]["maxout"]),
            subsearch_maxtime=int(conf["subsearch"]["maxtime"]),
            kv_max_rows_per_query=int(conf["kvstore"]["max_rows_per_query"]),
            kv_max_documents_per_batch_save=int(conf["kvstore"]["max_documents_per_batch_save"]),
            spath_extraction_cutoff=int(conf["spath"]["extraction_cutoff"]),
            kv_limit=int(conf["kv"]["limit"]),
            list_maxsize=int(conf["stats"]["list_maxsize"]),
            max_stream_window=int(conf["stats"]["max_stream_window"]),
            maxresultrows=int(conf["searchresults"]["maxresultrows"]),
        )
