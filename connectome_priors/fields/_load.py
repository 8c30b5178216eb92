"""Load one MICrONS imaging field as a labelled, verified ``xarray.Dataset``.

Where a field comes from, in order: ``data_dir``; ``$CONNECTOME_PRIORS_DATA``; the fields
embedded in the package (:mod:`connectome_priors.fields._embedded`); the user cache of parsed fields;
a download (:mod:`connectome_priors.fields._download`). Each published file is read into memory
once, sha256-verified, and parsed from those same bytes (a file swapped after its check is never
parsed). Embedded fields and the parsed cache share one pickle-free format (``.npz`` + ``.json``,
:mod:`connectome_priors.fields._cache`) whose ``.npz`` is checked against the sha256 in its ``.json``
before it is read. A cache entry that cannot be read or does not match the registry is
reported with a warning, deleted and rebuilt, never used; a cache that cannot be written costs
one warning, never the verified field.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from . import _cache, _download, _embedded, _registry
from ._errors import FieldDataError

VOXEL_SIZE_NM = (4.0, 4.0, 40.0)
AXES = ("x", "y", "z")
DATA_ENV = _download.DATA_ENV
CACHE_FORMAT = _cache.FORMAT_VERSION  # bump when the cached layout changes: older entries are then rebuilt
PAIR = ("pre", "post")
CONNECTOME_ATTRS = {"units": "synapses", "description": "EM synapse counts, rows presynaptic"}


# ---------------------------------------------------------------- reading single files


def _load_plain_npy(field: str, name: str, data: bytes) -> np.ndarray:
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a data error of this file
        raise FieldDataError(field, name, f"not a readable numeric .npy file: {exc}") from None


def _read_ids(field: str, name: str, data: bytes, n: int | None) -> np.ndarray:
    ids = _load_plain_npy(field, name, data)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise FieldDataError(field, name, f"expected a 1-D integer id array, got {ids.dtype} of shape {ids.shape}")
    if n is not None and len(ids) != n:
        raise FieldDataError(field, name, f"neuron count mismatch: {len(ids)} ids, root_ids has {n}")
    return ids.astype(np.int64)


def _check_finite(field: str, name: str, arr: np.ndarray) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise FieldDataError(field, name, f"{int(bad.sum())} NaN/inf values (first at index {where})")


def _read_matrix(field: str, name: str, data: bytes, n: int) -> np.ndarray:
    mat = _load_plain_npy(field, name, data)
    if mat.ndim != 2 or mat.shape[0] != mat.shape[1]:
        raise FieldDataError(field, name, f"expected a square N x N matrix, got shape {mat.shape}")
    if mat.shape[0] != n:
        raise FieldDataError(
            field, name, f"neuron count mismatch: {mat.shape[0]} x {mat.shape[1]}, root_ids has {n}"
        )
    if not np.issubdtype(mat.dtype, np.number):
        raise FieldDataError(field, name, f"expected numbers, got dtype {mat.dtype}")
    mat = mat.astype(np.float64)
    _check_finite(field, name, mat)
    return mat


# What a pickled numpy object array may name: the array, its dtype and their reconstructors (numpy 1.x and 2.x
# module paths). Anything else in a data file is refused before it is looked up.
_NUMPY_PICKLE_GLOBALS = frozenset({
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"), ("numpy.core.multiarray", "scalar"),
})


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that builds numpy arrays and nothing else (no other global is ever imported)."""

    def find_class(self, module: str, name: str):  # noqa: D102 - pickle's hook
        if (module, name) not in _NUMPY_PICKLE_GLOBALS:
            raise pickle.UnpicklingError(f"refused: the file names {module}.{name}, not a part of a numpy array")
        return super().find_class(module, name)


def load_object_npy(data: bytes) -> np.ndarray:
    """An ``.npy`` file's array from its bytes; an object array (the published positions and spike trains are
    pickled lists of arrays) is unpickled by :class:`_NumpyOnlyUnpickler`, so a file can name no code to run.

    Args:
        data: the file's bytes (already checked against the registry's sha256 by the caller).

    Returns:
        The array.

    Raises:
        ValueError: not an ``.npy`` file; pickle.UnpicklingError: a pickle that names anything but numpy arrays.
    """
    stream = io.BytesIO(data)
    version = np.lib.format.read_magic(stream)
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, _, dtype = read_header(stream)
    if not dtype.hasobject:
        return np.load(io.BytesIO(data), allow_pickle=False)
    array = _NumpyOnlyUnpickler(stream).load()
    if not isinstance(array, np.ndarray) or array.shape != tuple(shape):
        raise ValueError(f"the pickled payload is not the {shape} array its header announces")
    return array


def _read_positions(field: str, name: str, data: bytes, n: int) -> np.ndarray:
    # the published file is an object array: read by a numpy-only unpickler, from bytes that passed the sha256
    try:
        raw = load_object_npy(data)
        vox = np.stack([np.asarray(p) for p in raw]) if raw.dtype == object else np.asarray(raw)
    except Exception as exc:  # noqa: BLE001
        raise FieldDataError(field, name, f"cannot read soma positions: {exc}") from None
    if vox.shape != (n, 3):
        raise FieldDataError(field, name, f"expected {n} positions of (x, y, z), got shape {vox.shape}")
    if not np.issubdtype(vox.dtype, np.number):
        raise FieldDataError(field, name, f"expected numeric voxel coordinates, got dtype {vox.dtype}")
    vox = vox.astype(np.float64)
    _check_finite(field, name, vox)
    return vox * np.asarray(VOXEL_SIZE_NM) / 1000.0  # voxels -> µm, axis order kept (no reshape)


def _read_connectome(field: str, name: str, data: bytes, n: int) -> np.ndarray:
    try:
        table = pd.read_csv(io.BytesIO(data), index_col=0)
    except Exception as exc:  # noqa: BLE001
        raise FieldDataError(field, name, f"not a readable CSV matrix: {exc}") from None
    if table.shape[0] != table.shape[1]:
        raise FieldDataError(field, name, f"expected a square N x N matrix, got shape {table.shape}")
    if table.shape[0] != n:
        raise FieldDataError(
            field, name, f"neuron count mismatch: {table.shape[0]} x {table.shape[1]}, root_ids has {n}"
        )
    values = table.to_numpy()
    if not np.issubdtype(values.dtype, np.number):
        raise FieldDataError(field, name, "non-numeric entries in the synapse-count matrix")
    values = values.astype(np.float64)
    _check_finite(field, name, values)
    if (values < 0).any() or (values != np.round(values)).any():
        raise FieldDataError(field, name, "synapse counts must be non-negative integers")
    return values.astype(np.int64)


# ---------------------------------------------------------------- the Dataset


def read_published(field: str, data: dict[str, bytes]) -> dict[str, np.ndarray]:
    """The parsed arrays of a field from the verified contents of its published files.

    Args:
        field: field id.
        data: file name -> the bytes that passed the registry's check (:func:`_download.read_files`).

    Raises:
        FieldDataError: a file does not parse into the expected arrays (the error names the file and
            the problem).
    """
    names = {role: pattern.format(f=field) for role, pattern in _download.REQUIRED_FILES.items()}
    root_ids = _read_ids(field, names["root_ids"], data[names["root_ids"]], None)
    n = len(root_ids)
    if len(np.unique(root_ids)) != n:
        raise FieldDataError(field, names["root_ids"], "duplicate root ids")
    sttc_lower = np.tril(_read_matrix(field, names["sttc"], data[names["sttc"]], n), -1)
    return {
        "root_ids": root_ids,
        "unit_ids": _read_ids(field, names["unit_ids"], data[names["unit_ids"]], n),
        "target_ids": _read_ids(field, names["target_ids"], data[names["target_ids"]], n),
        "positions": _read_positions(field, names["positions"], data[names["positions"]], n),
        "connectome": _read_connectome(field, names["connectome"], data[names["connectome"]], n),
        "correlation": _read_matrix(field, names["correlation"], data[names["correlation"]], n),
        # the file stores only the strict lower triangle
        "sttc": sttc_lower + sttc_lower.T + np.eye(n),
        "precision": _read_matrix(field, names["precision"], data[names["precision"]], n),
    }


def _dataset(field: str, arrays: dict[str, np.ndarray], source: str) -> xr.Dataset:
    root_ids = arrays["root_ids"]
    positions, connectome = arrays["positions"], arrays["connectome"]
    corr, sttc, precision = arrays["correlation"], arrays["sttc"], arrays["precision"]
    unit_ids, target_ids = arrays["unit_ids"], arrays["target_ids"]
    session, scan, imaging_field = (int(p) for p in field.split("_"))
    hashes = _expected_hashes(field)
    return xr.Dataset(
        {
            "positions": (("neuron", "axis"), positions, {"units": "um", "description": "soma position"}),
            "connectome": (PAIR, connectome, CONNECTOME_ATTRS),
            "correlation": (PAIR, corr, {"description": "Pearson correlation of spike counts in 0.2 s bins"}),
            "sttc": (PAIR, sttc, {"description": "spike time tiling coefficient, dt = 0.1 s (symmetrized)"}),
            "precision": (PAIR, precision, {"description": "GraphicalLassoCV precision of 0.2 s binned counts"}),
        },
        coords={
            "neuron": ("neuron", root_ids, {"description": "EM root (segment) id"}),
            "pre": ("pre", root_ids, {"description": "EM root id of the presynaptic neuron"}),
            "post": ("post", root_ids, {"description": "EM root id of the postsynaptic neuron"}),
            "axis": ("axis", list(AXES)),
            "unit_id": ("neuron", unit_ids, {"description": "functional unit id (calcium imaging)"}),
            "target_id": ("neuron", target_ids, {"description": "coregistration target id"}),
        },
        attrs={
            "field": field,
            "session": session,
            "scan": scan,
            "imaging_field": imaging_field,
            "position_units": "um",
            "voxel_size_nm": json.dumps(list(VOXEL_SIZE_NM)),
            "source": source,
            "repository": _registry.REPOSITORY,
            "commit": _registry.COMMIT,
            "sha256": json.dumps(hashes, sort_keys=True),
            "synthetic": 0,
        },
    )


# ---------------------------------------------------------------- stored fields (embedded, cache)


def _cache_folder() -> Path:
    return _download.cache_dir() / "fields"


def _expected_hashes(field: str) -> dict[str, str | None]:
    files = _registry.field_files(field)
    return {name: files[name].sha256 for name in sorted(_download.file_names(field))}


def _check_arrays(field: str, name: str, arrays: dict[str, np.ndarray]) -> None:
    """The content checks of the published files, for arrays read back from storage."""
    n = len(arrays["root_ids"])
    if len(np.unique(arrays["root_ids"])) != n:
        raise FieldDataError(field, name, "duplicate root ids")
    for var in ("positions", "correlation", "sttc", "precision"):
        _check_finite(field, name, arrays[var])
    if (arrays["connectome"] < 0).any():
        raise FieldDataError(field, name, "synapse counts must be non-negative integers")


def _load_stored(field: str, folder, source: str) -> xr.Dataset:
    """A field from the ``.npz`` + ``.json`` pair in ``folder``, verified; else FieldDataError."""
    arrays, meta = _cache.read(folder, field, field)
    name = f"{field}.json"
    try:
        stored = {file: entry.get("sha256") for file, entry in meta["source"]["files"].items()}
    except (KeyError, TypeError, AttributeError):
        stored = None
    if stored != _expected_hashes(field):
        raise FieldDataError(field, name, f"{folder.joinpath(name)} was built from files other than the registry's")
    _check_arrays(field, f"{field}.npz", arrays)
    return _dataset(field, arrays, source)


def _load_embedded(field: str) -> xr.Dataset:
    folder = _embedded.root()
    try:
        return _load_stored(field, folder, f"embedded {folder.joinpath(field + '.npz')} "
                                           f"({_registry.REPOSITORY}@{_registry.COMMIT})")
    except FieldDataError as exc:
        raise FieldDataError(
            field, exc.file,
            f"{exc.problem}. The data embedded in this installation of connectome-priors is damaged: "
            f"reinstall the package, or point ${DATA_ENV} at a folder of the published files",
        ) from None


def _remove_cache_entry(field: str) -> None:
    folder = _cache_folder()
    for suffix in (".json", ".npz", ".nc"):  # .nc: the format-1 (netCDF) entry
        try:
            (folder / f"{field}{suffix}").unlink(missing_ok=True)
        except OSError:  # a read-only cache: the entry is ignored anyway, and rewriting it will warn
            pass


def _write_cache(field: str, arrays: dict[str, np.ndarray]) -> None:
    """Write the parsed field atomically (:func:`connectome_priors.fields._cache.write`)."""
    _cache.write(_cache_folder(), field, arrays, _embedded.metadata(field, _download.file_names(field), embedded=False))
    (_cache_folder() / f"{field}.nc").unlink(missing_ok=True)  # a format-1 entry is now obsolete


# ---------------------------------------------------------------- public API


def load_field(field: str = "6_6_2", *, data_dir: str | os.PathLike | None = None) -> xr.Dataset:
    """Load a published MICrONS field: soma positions, EM synapse counts, functional similarity.

    Looks in ``data_dir``, then ``$CONNECTOME_PRIORS_DATA`` (folders ``<field>/...`` as
    published), then the fields embedded in the package (6_6_2 and 5_3_8; no network), then
    the user cache, then downloads from the pinned commit (or ``$CONNECTOME_PRIORS_URL``).
    Every published file is checked against the registry's sha256 before it is read, every
    embedded or cached file against the sha256 in its metadata. Positions are converted from
    voxels (4 x 4 x 40 nm) to µm, ``p_um = p_vox * (4, 4, 40) / 1000``; the STTC file's lower
    triangle is mirrored. Wherever it comes from, a field gives the same Dataset; only
    ``attrs["source"]`` says where it came from.

    Returns:
        Dataset with dims ``neuron``, ``axis`` (x, y, z), ``pre``, ``post`` (dimension
        coordinates ``neuron``/``pre``/``post`` = EM root ids, int64; ``unit_id`` and
        ``target_id`` along ``neuron``) and variables ``positions`` (neuron, axis) in µm,
        ``connectome`` (pre, post) int64 synapse counts, rows presynaptic, and
        ``correlation``, ``sttc``, ``precision`` (pre, post) float64. ``attrs`` hold the field
        id, session, scan, imaging field, units, voxel size, source, repository and commit,
        the sha256 of each file (JSON) and ``synthetic = 0``.

    Raises:
        FieldDataError: unknown field id (with close matches), missing file, size or
            sha256 mismatch, wrong shape, neuron count mismatch, NaN/inf, failed download,
            damaged embedded file.

    Example::

        >>> ds = load_field("5_3_8")                     # doctest: +SKIP
        >>> ds.sizes["neuron"], ds.connectome.dtype      # doctest: +SKIP
        (42, dtype('int64'))
    """
    _download.check_field(field)
    if _download._local_root(field, data_dir) is not None:
        contents, _, source = _download.read_files(field, data_dir=data_dir)
        return _dataset(field, read_published(field, contents), source)
    if field in _embedded.fields():
        return _load_embedded(field)
    folder = _cache_folder()
    if (folder / f"{field}.json").exists() or (folder / f"{field}.npz").exists():
        try:
            return _load_stored(field, folder, f"cache {folder / (field + '.npz')}")
        except FieldDataError as exc:
            warnings.warn(f"{exc}; deleting the cache entry and rebuilding the field", RuntimeWarning, stacklevel=2)
            _remove_cache_entry(field)
    contents, _, source = _download.read_files(field)
    try:
        arrays = read_published(field, contents)
    except FieldDataError:
        shutil.rmtree(_download.raw_cache(field), ignore_errors=True)  # leave nothing of a bad field behind
        raise
    ds = _dataset(field, arrays, source)
    try:
        _write_cache(field, arrays)
    except Exception as exc:  # noqa: BLE001 - a cache that cannot be written must not cost a verified field
        warnings.warn(
            f"field {field}: could not write the parsed-field cache in {folder} ({type(exc).__name__}: {exc}); "
            "the field is loaded but will be parsed again next time", RuntimeWarning, stacklevel=2)
    return ds


def load_spikes(field: str, *, data_dir: str | os.PathLike | None = None) -> list[np.ndarray]:
    """Spike times (seconds, sorted) of each neuron of a field, in the field's neuron order.

    Only some fields ship a spikes file (see ``list_fields().has_spikes``); the file is read
    only if the registry has its sha256 and the file matches it.

    Example::

        >>> spikes = load_spikes("5_3_8")                # doctest: +SKIP
        >>> len(spikes), spikes[0].dtype                 # doctest: +SKIP
        (42, dtype('float64'))
    """
    _download.check_field(field)
    name = _download.SPIKES_FILE.format(f=field)
    entry = _registry.field_files(field).get(name)
    if entry is None:
        raise FieldDataError(field, name, "this field ships no spikes file (see list_fields().has_spikes)")
    ids_name = _download.REQUIRED_FILES["root_ids"].format(f=field)
    contents, _, _ = _download.read_files(field, data_dir=data_dir, names=[name, ids_name])
    n = len(_read_ids(field, ids_name, contents[ids_name], None))
    try:  # the bytes that passed the registry's sha256, never the file again
        raw = load_object_npy(contents[name])
    except Exception as exc:  # noqa: BLE001
        raise FieldDataError(field, name, f"cannot read spike trains: {exc}") from None
    if raw.ndim != 1 or len(raw) != n:
        raise FieldDataError(field, name, f"neuron count mismatch: {raw.shape} spike trains, root_ids has {n}")
    trains = []
    for i, train in enumerate(raw):
        t = np.asarray(train, dtype=np.float64)
        if t.ndim != 1:
            raise FieldDataError(field, name, f"spike train {i} has shape {t.shape}, expected 1-D times")
        _check_finite(field, name, t)
        if np.any(np.diff(t) < 0):
            raise FieldDataError(field, name, f"spike train {i} is not sorted in time")
        trains.append(t)
    return trains
