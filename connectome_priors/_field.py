"""Load one MICrONS imaging field as a labelled, verified ``xarray.Dataset``.

Files are found and sha256-verified by :mod:`connectome_priors._fetch` before any is read.
A field that came from the download path is also cached parsed, as netCDF (h5netcdf: no
pickle, int64 ids kept), written atomically; a cache entry that cannot be read or does not
match the registry is reported with a warning, deleted and rebuilt, never used.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from . import _fetch, _registry
from ._errors import FieldDataError

VOXEL_SIZE_NM = (4.0, 4.0, 40.0)
AXES = ("x", "y", "z")
DATA_ENV = _fetch.DATA_ENV
CACHE_FORMAT = 1  # bump when the cached layout changes: older entries are then rebuilt
PAIR = ("pre", "post")
CONNECTOME_ATTRS = {"units": "synapses", "description": "EM synapse counts, rows presynaptic"}


# ---------------------------------------------------------------- reading single files


def _load_plain_npy(field: str, name: str, path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a data error of this file
        raise FieldDataError(field, name, f"not a readable numeric .npy file: {exc}") from None


def _read_ids(field: str, name: str, path: Path, n: int | None) -> np.ndarray:
    ids = _load_plain_npy(field, name, path)
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


def _read_matrix(field: str, name: str, path: Path, n: int) -> np.ndarray:
    mat = _load_plain_npy(field, name, path)
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


def _read_positions(field: str, name: str, path: Path, n: int) -> np.ndarray:
    # allow_pickle: the published file is an object array; its sha256 was verified by _fetch
    try:
        raw = np.load(path, allow_pickle=True)
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


def _read_connectome(field: str, name: str, path: Path, n: int) -> np.ndarray:
    try:
        table = pd.read_csv(path, index_col=0)
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


def _build(field: str, paths: dict[str, Path], source: str) -> xr.Dataset:
    names = {role: pattern.format(f=field) for role, pattern in _fetch.REQUIRED_FILES.items()}
    root_ids = _read_ids(field, names["root_ids"], paths[names["root_ids"]], None)
    n = len(root_ids)
    if len(np.unique(root_ids)) != n:
        raise FieldDataError(field, names["root_ids"], "duplicate root ids")
    unit_ids = _read_ids(field, names["unit_ids"], paths[names["unit_ids"]], n)
    target_ids = _read_ids(field, names["target_ids"], paths[names["target_ids"]], n)
    positions = _read_positions(field, names["positions"], paths[names["positions"]], n)
    connectome = _read_connectome(field, names["connectome"], paths[names["connectome"]], n)
    corr = _read_matrix(field, names["correlation"], paths[names["correlation"]], n)
    sttc_lower = np.tril(_read_matrix(field, names["sttc"], paths[names["sttc"]], n), -1)
    sttc = sttc_lower + sttc_lower.T + np.eye(n)  # the file stores only the strict lower triangle
    precision = _read_matrix(field, names["precision"], paths[names["precision"]], n)
    session, scan, imaging_field = (int(p) for p in field.split("_"))
    hashes = {name: _registry.field_files(field)[name].sha256 for name in sorted(paths)}
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


# ---------------------------------------------------------------- parsed cache


def _cache_path(field: str) -> Path:
    return _fetch.cache_dir() / "fields" / f"{field}.nc"


def _expected_hashes(field: str) -> dict[str, str | None]:
    files = _registry.field_files(field)
    return {name: files[name].sha256 for name in sorted(_fetch.file_names(field))}


def _read_cache(field: str, path: Path) -> xr.Dataset:
    """The cached Dataset, or FieldDataError if it is unreadable or not this field's data."""
    name = path.name
    try:
        ds = xr.load_dataset(path, engine="h5netcdf")
    except Exception as exc:  # noqa: BLE001
        raise FieldDataError(field, name, f"unreadable cache entry {path}: {exc}") from None
    if ds.attrs.get("cache_format") != CACHE_FORMAT or ds.attrs.get("field") != field:
        raise FieldDataError(field, name, f"cache entry {path} is from another format or field")
    try:
        stored = json.loads(ds.attrs.get("sha256", ""))
    except json.JSONDecodeError:
        stored = None
    if stored != _expected_hashes(field):
        raise FieldDataError(field, name, f"cache entry {path} was built from files other than the registry's")
    expected = {"positions": ("neuron", "axis")}
    expected.update({var: PAIR for var in ("connectome", "correlation", "sttc", "precision")})
    for var, dims in expected.items():
        if var not in ds or ds[var].dims != dims:
            raise FieldDataError(field, name, f"cache entry {path} lacks variable {var!r} with dims {dims}")
        _check_finite(field, name, ds[var].values)
    n = ds.sizes["neuron"]
    if ds.sizes["pre"] != n or ds.sizes["post"] != n or ds.sizes["axis"] != 3:
        raise FieldDataError(field, name, f"cache entry {path} has inconsistent sizes {dict(ds.sizes)}")
    ds.attrs.pop("cache_format")
    ds["axis"] = ("axis", [str(a) for a in ds["axis"].values])  # netCDF returns object strings
    ds.attrs["source"] = f"cache {path}"
    return ds


def _write_cache(field: str, ds: xr.Dataset) -> None:
    """Write atomically: a temporary file in the same folder, then ``os.replace``."""
    path = _cache_path(field)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        ds.assign_attrs(cache_format=CACHE_FORMAT).to_netcdf(tmp, engine="h5netcdf")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------- public API


def load_field(field: str = "6_6_2", *, data_dir: str | os.PathLike | None = None) -> xr.Dataset:
    """Load a published MICrONS field: soma positions, EM synapse counts, functional similarity.

    Looks in ``data_dir``, then ``$CONNECTOME_PRIORS_DATA`` (folders ``<field>/...`` as
    published), then the user cache, then downloads from the pinned commit (or
    ``$CONNECTOME_PRIORS_URL``). Every file is checked against the registry's sha256 before
    it is read. Positions are converted from voxels (4 x 4 x 40 nm) to µm,
    ``p_um = p_vox * (4, 4, 40) / 1000``; the STTC file's lower triangle is mirrored.

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
            sha256 mismatch, wrong shape, neuron count mismatch, NaN/inf, failed download.

    Example::

        >>> ds = load_field("5_3_8")                     # doctest: +SKIP
        >>> ds.sizes["neuron"], ds.connectome.dtype      # doctest: +SKIP
        (42, dtype('int64'))
    """
    _fetch.check_field(field)
    if _fetch._local_root(field, data_dir) is not None:
        paths, source = _fetch.locate_files(field, data_dir=data_dir)
        return _build(field, paths, source)
    cached = _cache_path(field)
    if cached.exists():
        try:
            return _read_cache(field, cached)
        except FieldDataError as exc:
            warnings.warn(f"{exc}; deleting it and rebuilding the field", RuntimeWarning, stacklevel=2)
            cached.unlink(missing_ok=True)
    paths, source = _fetch.locate_files(field)
    try:
        ds = _build(field, paths, source)
    except FieldDataError:
        shutil.rmtree(_fetch.raw_cache(field), ignore_errors=True)  # leave nothing of a bad field behind
        raise
    try:
        _write_cache(field, ds)
    except OSError as exc:  # a read-only or full cache must not cost the user a verified field
        warnings.warn(f"field {field}: could not write the parsed cache {cached} ({exc}); "
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
    _fetch.check_field(field)
    name = _fetch.SPIKES_FILE.format(f=field)
    entry = _registry.field_files(field).get(name)
    if entry is None:
        raise FieldDataError(field, name, "this field ships no spikes file (see list_fields().has_spikes)")
    ids_name = _fetch.REQUIRED_FILES["root_ids"].format(f=field)
    paths, _ = _fetch.locate_files(field, data_dir=data_dir, names=[name, ids_name])
    n = len(_read_ids(field, ids_name, paths[ids_name], None))
    try:
        raw = np.load(paths[name], allow_pickle=True)  # sha256 verified above
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
