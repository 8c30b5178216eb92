"""Find the verified files of a published MICrONS field: local folder, cache, or download.

Where the files come from, in order:

1. ``data_dir`` if given (a folder in the published layout ``<field>/<file>``; no fallback);
2. the folder named by ``$CONNECTOME_PRIORS_DATA``, if it holds a ``<field>/`` folder;
3. the user cache (``$CONNECTOME_PRIORS_CACHE``, default ``pooch.os_cache("connectome-priors")``);
4. a download from ``$CONNECTOME_PRIORS_URL`` (default: the raw files of the paper's
   repository at the pinned commit), into the cache.

(``load_field`` looks at the fields embedded in the package, already parsed, between 2 and 3:
see :mod:`connectome_priors.fields._load`. This module finds the published files themselves.)

Every file is checked against the size and sha256 in the registry shipped with the package
before anything reads it, wherever it came from: the positions and spikes files are pickled
numpy object arrays, and unpickling an unverified file can execute arbitrary code. A download
that fails the check is deleted and fetched once more; a local file that fails is refused.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import shutil
import uuid
from pathlib import Path

import pandas as pd

from . import _registry
from ._errors import FieldDataError

DATA_ENV = "CONNECTOME_PRIORS_DATA"
CACHE_ENV = "CONNECTOME_PRIORS_CACHE"
URL_ENV = "CONNECTOME_PRIORS_URL"

# files every field must provide, by role; ``{f}`` is the field id
REQUIRED_FILES = {
    "connectome": "connectome_{f}.csv",
    "positions": "positions_{f}.npy",
    "root_ids": "root_ids_{f}.npy",
    "unit_ids": "unit_ids_{f}.npy",
    "target_ids": "target_ids_{f}.npy",
    "correlation": "corr_matrix.npy",
    "sttc": "sttc_matrix.npy",
    "precision": "precision_matrix.npy",
}
SPIKES_FILE = "spikes_{f}.npy"


def cache_dir() -> Path:
    """The user cache of downloaded and parsed fields.

    ``$CONNECTOME_PRIORS_CACHE`` if set, else the platform cache folder of
    ``pooch.os_cache("connectome-priors")``. Safe to delete at any time.

    Example::

        >>> isinstance(cache_dir(), Path)
        True
    """
    value = os.environ.get(CACHE_ENV)
    if value:
        return Path(value).expanduser()
    import pooch

    return Path(pooch.os_cache("connectome-priors"))


def base_url() -> str:
    """Base URL of the published files (``$CONNECTOME_PRIORS_URL`` or the pinned commit)."""
    url = os.environ.get(URL_ENV) or _registry.DEFAULT_BASE_URL
    return url if url.endswith("/") else url + "/"


def check_field(field: str) -> str:
    """Return ``field`` if it is a published field id, else raise naming close matches."""
    if not isinstance(field, str):
        raise FieldDataError(str(field), None, f"field id must be a string like '6_6_2', got {type(field).__name__}")
    known = _registry.field_ids()
    if field not in known:
        close = difflib.get_close_matches(field, known, n=5, cutoff=0.6)
        hint = f"close matches: {', '.join(close)}" if close else f"known fields: {', '.join(known)}"
        raise FieldDataError(field, None, f"unknown field id ({len(known)} published fields; {hint})")
    return field


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _entry(field: str, name: str) -> _registry.RegistryEntry:
    entry = _registry.field_files(field).get(name)
    if entry is None:
        raise FieldDataError(field, name, "not a file of this field in the registry")
    if entry.sha256 is None:
        raise FieldDataError(
            field, name, "the registry has no sha256 for this file, so it cannot be verified and is not read"
        )
    return entry


def verify_file(field: str, name: str, path: Path) -> None:
    """Raise :class:`FieldDataError` unless ``path`` has the registry's size and sha256."""
    entry = _entry(field, name)
    if not path.is_file():
        raise FieldDataError(field, name, f"missing file (looked for {path})")
    size = path.stat().st_size
    if entry.size is not None and size != entry.size:
        raise FieldDataError(
            field, name, f"size {size} bytes, registry says {entry.size} (truncated or altered file at {path})"
        )
    got = _sha256(path)
    if got != entry.sha256:
        raise FieldDataError(field, name, f"sha256 mismatch at {path}: expected {entry.sha256}, got {got}")


def file_names(field: str, *, include_spikes: bool = False) -> list[str]:
    """File names of one field (required ones, plus the spikes file if asked)."""
    names = [pattern.format(f=field) for pattern in REQUIRED_FILES.values()]
    if include_spikes:
        names.append(SPIKES_FILE.format(f=field))
    return names


def _local_root(field: str, data_dir: str | os.PathLike | None) -> tuple[Path, str] | None:
    """The local field folder to read, and a label for ``source``; None: use cache/download."""
    if data_dir is not None:
        root = Path(data_dir).expanduser()
        if not root.is_dir():
            raise FieldDataError(field, None, f"data_dir {root} is not a directory")
        return root / field, f"local dir {root}"
    env = os.environ.get(DATA_ENV)
    if env:
        root = Path(env).expanduser()
        if (root / field).is_dir():
            return root / field, f"local dir {root} (${DATA_ENV})"
    return None


def raw_cache(field: str) -> Path:
    """Cache folder of a field's downloaded (verified) files."""
    return cache_dir() / "raw" / field


def _download(field: str, names: list[str], dest: Path) -> None:
    """Download ``names`` into ``dest``, all or nothing: staged, verified, then moved in."""
    import pooch
    import requests

    url = base_url()
    dest.mkdir(parents=True, exist_ok=True)
    staging = dest / f".staging-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        for name in names:
            target = staging / name
            for attempt in (1, 2):  # a failing file is deleted and fetched once more
                try:
                    pooch.HTTPDownloader(progressbar=False, timeout=60)(f"{url}{field}/{name}", str(target), None)
                except (requests.RequestException, OSError) as exc:
                    raise FieldDataError(field, name, f"download from {url}{field}/{name} failed: {exc}") from exc
                try:
                    verify_file(field, name, target)
                    break
                except FieldDataError as exc:
                    target.unlink(missing_ok=True)
                    if attempt == 2:
                        raise FieldDataError(
                            field, name, f"downloaded twice from {url}, refused both times: {exc.problem}"
                        ) from None
        for name in names:
            os.replace(staging / name, dest / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def locate_files(
    field: str,
    *,
    data_dir: str | os.PathLike | None = None,
    include_spikes: bool = False,
    names: list[str] | None = None,
) -> tuple[dict[str, Path], str]:
    """Verified paths of a field's files and where they came from (see module docstring).

    ``names`` restricts the search to those files (default: :func:`file_names`).
    """
    check_field(field)
    if names is None:
        names = file_names(field, include_spikes=include_spikes)
    local = _local_root(field, data_dir)
    if local is not None:
        root, source = local
        paths = {name: root / name for name in names}
        for name, path in paths.items():
            verify_file(field, name, path)  # a local mismatch is refused, never "repaired"
        return paths, source
    for name in names:
        _entry(field, name)  # refuse unverifiable files before any download
    dest = raw_cache(field)
    stale = []
    for name in names:
        path = dest / name
        if path.exists():
            try:
                verify_file(field, name, path)
            except FieldDataError:
                path.unlink()  # corrupted cache copy: fetch it again
                stale.append(name)
        else:
            stale.append(name)
    if stale:
        _download(field, stale, dest)
        source = f"download {base_url()} ({_registry.REPOSITORY}@{_registry.COMMIT})"
    else:
        source = f"cache {dest}"
    return {name: dest / name for name in names}, source


def fetch_field_files(
    field: str, *, data_dir: str | os.PathLike | None = None, include_spikes: bool = False
) -> dict[str, Path]:
    """Paths of a field's published files, each verified against the registry's sha256.

    Reads ``data_dir``, else ``$CONNECTOME_PRIORS_DATA``, else the cache, else downloads
    (see :mod:`connectome_priors.fields._download`). Raises :class:`FieldDataError` for an unknown
    field, a missing file, or a file whose size or sha256 differs from the registry.

    Example::

        >>> paths = fetch_field_files("5_3_8")          # doctest: +SKIP
        >>> sorted(paths)[0]                             # doctest: +SKIP
        'connectome_5_3_8.csv'
    """
    return locate_files(field, data_dir=data_dir, include_spikes=include_spikes)[0]


def list_fields() -> pd.DataFrame:
    """Table of the published fields, from the registry shipped with the package (no network).

    Columns: ``field``, ``session``, ``scan``, ``imaging_field``, ``n_neurons`` (from the
    size of ``root_ids_<field>.npy``: 8-byte ids after a 128-byte header), ``has_spikes``
    (the field ships a spikes file) and ``spikes_verifiable`` (the registry has its sha256,
    so :func:`~connectome_priors.load_spikes` can read it) and ``embedded`` (the field ships
    inside the package, so :func:`~connectome_priors.load_field` needs no download).

    Example::

        >>> table = list_fields()
        >>> len(table), int(table.set_index("field").loc["6_6_2", "n_neurons"])
        (56, 312)
    """
    from . import _embedded

    embedded = set(_embedded.fields())
    rows = []
    for field in _registry.field_ids():
        files = _registry.field_files(field)
        session, scan, imaging_field = (int(p) for p in field.split("_"))
        ids = files.get(f"root_ids_{field}.npy")
        n = (ids.size - _registry.NPY_HEADER_BYTES) // 8 if ids is not None and ids.size else None
        spikes = files.get(SPIKES_FILE.format(f=field))
        rows.append(
            {
                "field": field,
                "session": session,
                "scan": scan,
                "imaging_field": imaging_field,
                "n_neurons": n,
                "has_spikes": spikes is not None,
                "spikes_verifiable": spikes is not None and spikes.sha256 is not None,
                "embedded": field in embedded,
            }
        )
    return pd.DataFrame(rows)
