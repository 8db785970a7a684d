"""The parse floor: the standard library's json.loads over every line of an NDJSON file, nothing else."""

from __future__ import annotations

import json
import sys


def main(path: str) -> None:
    count = 0
    loads = json.loads
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                loads(line)
                count += 1
    print(count)


if __name__ == "__main__":
    main(sys.argv[1])
