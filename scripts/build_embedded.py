"""Build the fields embedded in the package (connectome_priors/fields/data/) from the published files.

    python scripts/build_embedded.py --source ../shared/microns            # 5_3_8 and 6_6_2
    python scripts/build_embedded.py --source DIR --out OTHER_DIR --fields 6_6_2

``--source`` is a folder in the published layout ``<field>/<file>`` (a copy of
``Model/DATA/info/`` of neurovium/CorticalBlueprintRNN at the pinned commit). Every source file
is checked against the sha256 in the package's registry before it is read; the files written
(``<field>.npz`` + ``<field>.json``) are pickle-free and exactly lossless (see
connectome_priors/_store.py), each written atomically. Rebuilding unchanged sources gives the
same arrays and metadata; tests/test_embedded.py checks that the committed files are exactly that.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # build from this checkout, not from an installed copy

from connectome_priors.fields import _embedded, _embedded_build  # noqa: E402 - after the sys.path line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, type=Path, help="folder of published <field>/ folders")
    parser.add_argument("--out", type=Path, default=REPO / "connectome_priors" / "fields" / "data",
                        help="output folder (default: the package's data folder)")
    parser.add_argument("--fields", nargs="+", default=list(_embedded.FIELDS), help="field ids")
    args = parser.parse_args(argv)
    for field in args.fields:
        meta = _embedded_build.build(field, args.source, args.out)
        print(f"{field}: {args.out / meta['arrays']['file']} {meta['arrays']['size']} bytes, "
              f"sha256 {meta['arrays']['sha256']}, encoding {meta['encoding']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
