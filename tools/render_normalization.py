"""Render the normalization mappings into the app's confs and the docs.

    python tools/render_normalization.py           # write the rendered files
    python tools/render_normalization.py --check   # exit 1 when one is not up to date

From src/mobile_ingress/normalize/mappings/*.yml (one per sourcetype, the same files that
`mobile-ingress detect --raw` runs) it writes:
- package/default/props.conf, eventtypes.conf, tags.conf: whole files, rendered only;
- the normalization macros in package/default/macros.conf (mobile_ingress_normalize, the contract
  fields of vendor-owned sourcetypes, the joins), between their own begin and end lines above
  tools/render_detections.py's rendered part (the rest of the file is not touched);
- the field tables of docs/data.md, below their marker line.
transforms.conf is not touched: value maps render as `case()` EVALs, so no lookup is needed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rendered_files import write_or_check

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "package" / "default"
PROPS = DEFAULT / "props.conf"
EVENTTYPES = DEFAULT / "eventtypes.conf"
TAGS = DEFAULT / "tags.conf"
MACROS = DEFAULT / "macros.conf"
DATA_DOC = ROOT / "docs" / "data.md"
DETECTIONS_MARKER = "# ---- rendered by tools/render_detections.py"


def contract_fields() -> tuple[str, ...]:
    from mobile_ingress.normalize.model import CONTRACT_FIELDS

    return CONTRACT_FIELDS


def rendered() -> dict[Path, str]:
    from mobile_ingress.normalize import load_mappings
    from mobile_ingress.normalize import render as r

    mappings = load_mappings()
    macros = MACROS.read_text(encoding="utf-8")
    doc = DATA_DOC.read_text(encoding="utf-8") if DATA_DOC.exists() else "# Data sources\n"
    tables = r.render_field_tables(mappings, contract_fields())
    return {
        PROPS: r.render_props(mappings),
        EVENTTYPES: r.render_eventtypes(mappings),
        TAGS: r.render_tags(mappings),
        MACROS: r.splice(
            macros, r.MACROS_BEGIN, r.MACROS_END, r.render_macros_section(mappings), DETECTIONS_MARKER
        ),
        DATA_DOC: r.splice(doc, r.DOCS_BEGIN, r.DOCS_END, tables, ""),
    }


def main(argv: list[str] | None = None) -> int:
    return write_or_check("render_normalization", __doc__.splitlines()[0], rendered, argv)


if __name__ == "__main__":
    sys.exit(main())
