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
before anything parses it, wherever it came from: the positions and spikes files are pickled
numpy object arrays, and unpickling an unverified file can execute arbitrary code. A file is
read into memory once, hashed, and parsed from those same bytes (:func:`read_verified`), so no
one can swap it between the check and the use. A download streams at most the registry's size
(a longer body is refused without reading it to the end), is verified in memory and only then
written into the cache through the atomic writer; a download that fails the check is fetched
once more, a local file that fails is refused.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import os
import shutil
import warnings
from pathlib import Path

import pandas as pd

from connectome_priors._atomic import remove_stale_temporaries, write_bytes

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


def _entry(field: str, name: str) -> _registry.RegistryEntry:
    entry = _registry.field_files(field).get(name)
    if entry is None:
        raise FieldDataError(field, name, "not a file of this field in the registry")
    if entry.sha256 is None:
        raise FieldDataError(
            field, name, "the registry has no sha256 for this file, so it cannot be verified and is not read"
        )
    return entry


def check_bytes(field: str, name: str, data: bytes, where: str) -> bytes:
    """``data`` if it has the registry's size and sha256 for ``name``, else :class:`FieldDataError`.

    Args:
        field: field id.
        name: the file's name in the registry.
        data: the file's complete contents.
        where: where the bytes came from, for the error message.

    Returns:
        ``data`` itself, to be parsed by the caller (never the file again).

    Raises:
        FieldDataError: the registry does not know the file or has no sha256 for it, or the size or
            sha256 differs.
    """
    entry = _entry(field, name)
    if entry.size is not None and len(data) != entry.size:
        raise FieldDataError(
            field, name, f"size {len(data)} bytes, registry says {entry.size} (truncated or altered file at {where})"
        )
    got = hashlib.sha256(data).hexdigest()
    if got != entry.sha256:
        raise FieldDataError(field, name, f"sha256 mismatch at {where}: expected {entry.sha256}, got {got}")
    return data


def read_verified(field: str, name: str, path: Path) -> bytes:
    """The contents of ``path``, read once and checked against the registry (see :func:`check_bytes`).

    Parse the returned bytes, never the path: a file swapped after the check is then never read.

    Raises:
        FieldDataError: the file is missing, unreadable, or not the registry's file.
    """
    _entry(field, name)  # refuse unknown / unverifiable files before touching the disk
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise FieldDataError(field, name, f"missing file (looked for {path})") from None
    except OSError as exc:
        raise FieldDataError(field, name, f"cannot read {path}: {exc}") from None
    return check_bytes(field, name, data, str(path))


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


def _fetch_capped(url: str, limit: int, timeout: float = 60.0) -> bytes:
    """The body at ``url``, refused as soon as it is longer than ``limit`` bytes (never read to the end)."""
    import requests

    with requests.get(url, stream=True, timeout=timeout) as response:
        response.raise_for_status()
        announced = response.headers.get("Content-Length")
        if announced is not None and announced.isdigit() and int(announced) > limit:
            raise ValueError(f"the server announces {int(announced)} bytes, the registry {limit}")
        chunks, total = [], 0
        for chunk in response.iter_content(chunk_size=1 << 16):
            total += len(chunk)
            if total > limit:
                raise ValueError(f"the body is longer than the registry's {limit} bytes (stopped reading)")
            chunks.append(chunk)
    return b"".join(chunks)


def _download(field: str, names: list[str], dest: Path) -> dict[str, bytes]:
    """Download ``names`` into ``dest``, all or nothing: each streamed with the registry's size as a
    cap and verified in memory; only when every file passed are they written (atomically) into the
    cache, so a refused or killed download leaves no file behind (a killed writer's temporary file
    is removed by the next run)."""
    import requests

    url = base_url()
    verified: dict[str, bytes] = {}
    for name in names:
        entry = _entry(field, name)
        limit = entry.size if entry.size is not None else 1 << 30
        for attempt in (1, 2):  # a file that fails the check is fetched once more
            try:
                verified[name] = check_bytes(field, name, _fetch_capped(f"{url}{field}/{name}", limit),
                                             f"{url}{field}/{name}")
                break
            except requests.RequestException as exc:
                raise FieldDataError(field, name, f"download from {url}{field}/{name} failed: {exc}") from exc
            except (FieldDataError, ValueError) as exc:
                if attempt == 2:
                    problem = exc.problem if isinstance(exc, FieldDataError) else str(exc)
                    raise FieldDataError(
                        field, name, f"downloaded twice from {url}, refused both times: {problem}"
                    ) from None
    try:
        dest.mkdir(parents=True, exist_ok=True)
        for name, data in verified.items():
            write_bytes(dest / name, data)
    except OSError as exc:  # a cache that cannot be written must not cost the verified download
        warnings.warn(
            f"field {field}: could not write the download cache in {dest} ({type(exc).__name__}: {exc}); "
            "the files are used from memory and will be downloaded again next time", RuntimeWarning, stacklevel=3)
    return verified


def _clean(dest: Path) -> None:
    """Remove what killed processes left in a cache folder: temporary files, old staging folders."""
    try:
        if not dest.is_dir():
            return
        remove_stale_temporaries(dest)
        for stale in dest.glob(".staging-*"):  # the download layout of versions before the atomic writer
            shutil.rmtree(stale, ignore_errors=True)
    except OSError:  # an unreadable cache folder: nothing of ours to clean there
        pass


def read_files(
    field: str,
    *,
    data_dir: str | os.PathLike | None = None,
    include_spikes: bool = False,
    names: list[str] | None = None,
) -> tuple[dict[str, bytes], dict[str, Path], str]:
    """The verified contents of a field's files, their paths and where they came from.

    Each file is read once and checked against the registry; the returned bytes are those that
    passed (parse them, never the paths). A download's bytes are returned as verified in memory.

    Args:
        field: field id.
        data_dir: a folder in the published layout ``<field>/<file>`` (default: see the module docstring).
        include_spikes: also the spikes file.
        names: only these files (default: :func:`file_names`).

    Returns:
        ``(contents, paths, source)``: file name -> bytes, file name -> path, and a label of the source.

    Raises:
        FieldDataError: an unknown field or file, a file missing or not matching the registry, or a
            failed download.
    """
    check_field(field)
    if names is None:
        names = file_names(field, include_spikes=include_spikes)
    local = _local_root(field, data_dir)
    if local is not None:
        root, source = local
        paths = {name: root / name for name in names}
        # a local mismatch is refused, never "repaired"
        return {name: read_verified(field, name, path) for name, path in paths.items()}, paths, source
    for name in names:
        _entry(field, name)  # refuse unverifiable files before any download
    dest = raw_cache(field)
    _clean(dest)
    contents, stale = {}, []
    for name in names:
        path = dest / name
        if path.exists():
            try:
                contents[name] = read_verified(field, name, path)
            except FieldDataError:
                with contextlib.suppress(OSError):  # a read-only cache keeps it; the download replaces it in memory
                    path.unlink()  # corrupted cache copy: fetch it again
                stale.append(name)
        else:
            stale.append(name)
    if stale:
        contents.update(_download(field, stale, dest))
        source = f"download {base_url()} ({_registry.REPOSITORY}@{_registry.COMMIT})"
    else:
        source = f"cache {dest}"
    return {name: contents[name] for name in names}, {name: dest / name for name in names}, source


def locate_files(
    field: str,
    *,
    data_dir: str | os.PathLike | None = None,
    include_spikes: bool = False,
    names: list[str] | None = None,
) -> tuple[dict[str, Path], str]:
    """Verified paths of a field's files and where they came from (see :func:`read_files`)."""
    _, paths, source = read_files(field, data_dir=data_dir, include_spikes=include_spikes, names=names)
    return paths, source


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
