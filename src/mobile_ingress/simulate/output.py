"""Writing events.ndjson in asc, desc or shuffled order with bounded memory.

Devices are generated one at a time; their serialized lines are gathered into batches of at most
`run_events` lines. asc/desc: each batch is sorted and, when there is more than one, spilled to a
temporary run file; the runs are then merged with heapq.merge (k-way merge, one line per run in
memory). shuffled: at most `shuffle_events` lines are shuffled in memory; above that the lines are
scattered to uniformly random bucket files and each bucket is shuffled in memory in turn, which is
an exact uniform shuffle whose memory is bounded by the bucket size (about shuffle_events lines).
"""

from __future__ import annotations

import heapq
import math
import os
import random
import shutil
import tempfile
from collections.abc import Iterable
from contextlib import ExitStack
from typing import IO

KEY_WIDTH = 15 + 7 + 7  # ms, device, sequence


def sort_key(ms: int, device: int, seq: int) -> str:
    return f"{ms:015d}{device:07d}{seq:07d}"


class EventWriter:
    """Consumes (key, line) pairs device by device and writes them in the requested order."""

    def __init__(
        self,
        path: str,
        order: str,
        seed: int,
        run_events: int,
        shuffle_events: int,
        estimate: int,
        tmp_parent: str | None = None,
    ) -> None:
        if order not in ("asc", "desc", "shuffled"):
            raise ValueError(f"unknown order {order!r}")
        self.path = path
        self.order = order
        self.run_events = max(1, run_events)
        self.batch: list[str] = []
        self.runs: list[str] = []
        self.count = 0
        self.rng = random.Random(f"{seed}:shuffle")
        self.tmp = tempfile.mkdtemp(prefix=".simulate-", dir=tmp_parent)
        self.buckets: list[IO[str]] = []
        self.bucket_paths: list[str] = []
        if order == "shuffled" and estimate > shuffle_events:
            n = math.ceil(estimate / max(1, shuffle_events))
            for i in range(n):
                p = os.path.join(self.tmp, f"bucket-{i:05d}.ndjson")
                self.bucket_paths.append(p)
                # kept open while devices stream in; closed in close()
                self.buckets.append(open(p, "w", encoding="utf-8"))  # noqa: SIM115

    def add(self, items: Iterable[tuple[str, str]]) -> None:
        if self.order == "shuffled":
            if self.buckets:
                n = len(self.buckets)
                for _key, line in items:
                    self.buckets[self.rng.randrange(n)].write(line + "\n")
                    self.count += 1
            else:
                for _key, line in items:
                    self.batch.append(line)
                    self.count += 1
            return
        for key, line in items:
            self.batch.append(key + "\t" + line + "\n")
            self.count += 1
        if len(self.batch) >= self.run_events:
            self._spill()

    def _spill(self) -> None:
        self.batch.sort(reverse=self.order == "desc")
        p = os.path.join(self.tmp, f"run-{len(self.runs):05d}.txt")
        with open(p, "w", encoding="utf-8") as fh:
            fh.writelines(self.batch)
        self.runs.append(p)
        self.batch = []

    def close(self) -> int:
        try:
            with open(self.path, "w", encoding="utf-8") as out:
                if self.order == "shuffled":
                    self._finish_shuffled(out)
                else:
                    self._finish_sorted(out)
        finally:
            for fh in self.buckets:
                if not fh.closed:
                    fh.close()
            shutil.rmtree(self.tmp, ignore_errors=True)
        return self.count

    def _finish_sorted(self, out: IO[str]) -> None:
        desc = self.order == "desc"
        if not self.runs:
            self.batch.sort(reverse=desc)
            for line in self.batch:
                out.write(line[KEY_WIDTH + 1 :])
            self.batch = []
            return
        if self.batch:
            self._spill()
        runs = self.runs
        # keep the number of open files modest: merge in groups first when there are very many runs
        while len(runs) > 256:
            merged: list[str] = []
            for i in range(0, len(runs), 256):
                group = runs[i : i + 256]
                p = os.path.join(self.tmp, f"merge-{len(merged):05d}-{len(runs)}.txt")
                self._merge(group, p, desc, strip=False)
                merged.append(p)
            runs = merged
        with ExitStack() as stack:
            files = [stack.enter_context(open(p, encoding="utf-8")) for p in runs]
            for line in heapq.merge(*files, reverse=desc):
                out.write(line[KEY_WIDTH + 1 :])

    def _merge(self, paths: list[str], dest: str, desc: bool, strip: bool) -> None:
        with ExitStack() as stack:
            files = [stack.enter_context(open(p, encoding="utf-8")) for p in paths]
            with open(dest, "w", encoding="utf-8") as fh:
                for line in heapq.merge(*files, reverse=desc):
                    fh.write(line[KEY_WIDTH + 1 :] if strip else line)
        for p in paths:
            os.remove(p)

    def _finish_shuffled(self, out: IO[str]) -> None:
        if not self.buckets:
            self.rng.shuffle(self.batch)
            for line in self.batch:
                out.write(line + "\n")
            self.batch = []
            return
        for fh in self.buckets:
            fh.close()
        order = list(range(len(self.bucket_paths)))
        self.rng.shuffle(order)
        for i in order:
            with open(self.bucket_paths[i], encoding="utf-8") as fh:
                lines = fh.readlines()
            self.rng.shuffle(lines)
            out.writelines(lines)
            del lines
            os.remove(self.bucket_paths[i])
