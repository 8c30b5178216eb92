"""Build the embedded files of a field from the published files (the one writer of ``data/``).

Kept apart from :mod:`connectome_priors.fields._embedded` (which only reads) because building needs the
loader (``_field``, ``_fetch``), and the loader needs the reader: one module for both would be an
import cycle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import _cache, _download, _embedded, _load


def build(field: str, source: str | Path, out_dir: str | Path) -> dict[str, Any]:
    """Build the embedded files of ``field`` from a folder of published fields; returns the metadata.

    Every source file is verified against the registry's sha256 before it is read (the
    published positions file is a pickled object array), by the loader's own code.
    """
    contents, _, _ = _download.read_files(field, data_dir=source)  # data_dir: verified, never a download
    arrays = _load.read_published(field, contents)
    return _cache.write(Path(out_dir), field, arrays, _embedded.metadata(field, sorted(contents), embedded=True))
