"""Pickle-free storage of a parsed field: ``<stem>.npz`` (arrays) + ``<stem>.json`` (metadata).

One format serves the embedded default fields (``connectome_priors/fields/data/``) and the user cache
of downloaded fields. The ``.npz`` is a plain zip of ``.npy`` arrays (numeric dtypes only, read
with ``allow_pickle=False``), written deterministically (fixed zip timestamps, sorted keys), so
rebuilding unchanged data gives the same bytes with the same zlib. The ``.json`` beside it
records the format, the field, how each array is encoded, the source files' sha256 and the
``.npz``'s own size and sha256, which is checked *before* the arrays are read.

Encodings are exactly lossless and chosen per array when writing:

* ``plain``: the array as is;
* ``sparse``: an integer matrix as the row-major flat indices and values of its nonzeros;
* ``symmetric-lower``: a float matrix that is *bitwise* symmetric (``m.view(uint64)`` equals its
  transpose, so signed zeros too) as its lower triangle with the diagonal; a matrix that is not
  bitwise symmetric is stored ``plain``.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from connectome_priors._atomic import write_bytes

from ._errors import FieldDataError

FORMAT = "connectome-priors/field-arrays"
FORMAT_VERSION = 2  # 1 was the netCDF parsed cache (<field>.nc)

# the parsed field: name -> (dtype, shape in units of n = number of neurons)
ARRAYS = {
    "root_ids": (np.int64, ("n",)),
    "unit_ids": (np.int64, ("n",)),
    "target_ids": (np.int64, ("n",)),
    "positions": (np.float64, ("n", 3)),
    "connectome": (np.int64, ("n", "n")),
    "correlation": (np.float64, ("n", "n")),
    "sttc": (np.float64, ("n", "n")),
    "precision": (np.float64, ("n", "n")),
}
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- encode / decode


def _bitwise_symmetric(m: np.ndarray) -> bool:
    if m.dtype != np.float64 or m.ndim != 2 or m.shape[0] != m.shape[1]:
        return False
    bits = np.ascontiguousarray(m).view(np.uint64)
    return bool(np.array_equal(bits, bits.T))


def encode(arrays: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Stored arrays (npz keys) and the encoding of each field array (see module docstring)."""
    stored: dict[str, np.ndarray] = {}
    encoding: dict[str, str] = {}
    for name, (dtype, _) in ARRAYS.items():
        arr = np.ascontiguousarray(arrays[name])
        if arr.dtype != dtype:
            raise TypeError(f"{name}: expected dtype {np.dtype(dtype)}, got {arr.dtype}")
        if name == "connectome":
            flat = arr.ravel()
            index = np.flatnonzero(flat).astype(np.int64)
            stored[f"{name}__index"] = index
            stored[f"{name}__values"] = flat[index]
            encoding[name] = "sparse"
        elif arr.ndim == 2 and arr.shape[0] == arr.shape[1] and _bitwise_symmetric(arr):
            stored[f"{name}__lower"] = arr[np.tril_indices(arr.shape[0])]
            encoding[name] = "symmetric-lower"
        else:
            stored[name] = arr
            encoding[name] = "plain"
    return stored, encoding


def decode(stored: dict[str, np.ndarray], encoding: dict[str, str]) -> dict[str, np.ndarray]:
    """Inverse of :func:`encode`; raises ``ValueError`` naming the array on any inconsistency."""
    if set(encoding) != set(ARRAYS):
        raise ValueError(f"metadata encodes arrays {sorted(encoding)}, expected {sorted(ARRAYS)}")
    plain = {name: stored[name] for name, how in encoding.items() if how == "plain" and name in stored}
    if "root_ids" not in plain:
        raise ValueError("root_ids must be stored plain")
    n = len(plain["root_ids"])
    out: dict[str, np.ndarray] = {}
    for name, how in encoding.items():
        dtype, shape = ARRAYS[name]
        shape = tuple(n if s == "n" else s for s in shape)
        try:
            if how == "plain":
                arr = stored[name]
            elif how == "sparse":
                index, values = stored[f"{name}__index"], stored[f"{name}__values"]
                if index.shape != values.shape or index.ndim != 1 or not np.issubdtype(index.dtype, np.integer):
                    raise ValueError("sparse index/values of different shapes or non-integer index")
                if len(index) and (index.min() < 0 or index.max() >= n * n or np.any(np.diff(index) <= 0)):
                    raise ValueError("sparse index out of range or not strictly increasing")
                arr = np.zeros(n * n, dtype=values.dtype)
                arr[index] = values
                arr = arr.reshape(n, n)
            elif how == "symmetric-lower":
                lower = stored[f"{name}__lower"]
                if lower.shape != (n * (n + 1) // 2,):
                    raise ValueError(f"lower triangle of {lower.shape[0] if lower.ndim == 1 else lower.shape} "
                                     f"values, expected {n * (n + 1) // 2}")
                arr = np.zeros((n, n), dtype=lower.dtype)
                rows, cols = np.tril_indices(n)
                arr[rows, cols] = lower
                arr[cols, rows] = lower
            else:
                raise ValueError(f"unknown encoding {how!r}")
        except KeyError as exc:
            raise ValueError(f"{name}: stored array {exc} is missing") from None
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
        if arr.dtype != dtype or arr.shape != shape:
            raise ValueError(f"{name}: expected {np.dtype(dtype)} of shape {shape}, "
                             f"got {arr.dtype} of shape {arr.shape}")
        out[name] = arr
    return out


def npz_bytes(stored: dict[str, np.ndarray]) -> bytes:
    """A deterministic, compressed ``.npz`` (readable by ``np.load(..., allow_pickle=False)``)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for key in sorted(stored):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(stored[key]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buf.getvalue()


def read_npz(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


# ---------------------------------------------------------------- files


def metadata_bytes(meta: dict[str, Any]) -> bytes:
    return (json.dumps(meta, indent=1, sort_keys=True) + "\n").encode()


def write(folder: Path, stem: str, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> dict[str, Any]:
    """Write ``<stem>.npz`` and ``<stem>.json`` into ``folder`` atomically; returns the metadata.

    Each file goes through the atomic writer (:mod:`connectome_priors._atomic`), the ``.json``
    last, so a reader sees the old pair, the new pair, or (after a crash between the two) a
    ``.json`` whose sha256 does not match the ``.npz``, which it refuses.
    """
    stored, encoding = encode(arrays)
    data = npz_bytes(stored)
    meta = dict(meta, format=FORMAT, format_version=FORMAT_VERSION, encoding=encoding,
                arrays={"file": f"{stem}.npz", "size": len(data), "sha256": sha256_bytes(data)})
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_bytes(folder / f"{stem}.npz", data)
    write_bytes(folder / f"{stem}.json", metadata_bytes(meta))  # last: it vouches for the .npz
    return meta


def read(folder, stem: str, field: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Arrays and metadata of ``<stem>.npz``/``.json`` in ``folder`` (a Path or a Traversable).

    The ``.npz`` is checked against the size and sha256 in the ``.json`` before it is read.
    Raises :class:`FieldDataError` naming the file and the problem.
    """
    meta_file = folder.joinpath(f"{stem}.json")
    try:
        meta = json.loads(meta_file.read_bytes())
    except FileNotFoundError:
        raise FieldDataError(field, f"{stem}.json", f"missing metadata file {meta_file}") from None
    except (OSError, ValueError) as exc:
        raise FieldDataError(field, f"{stem}.json", f"unreadable metadata file {meta_file}: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
        got = (meta.get("format"), meta.get("format_version")) if isinstance(meta, dict) else type(meta).__name__
        raise FieldDataError(field, f"{stem}.json",
                             f"{meta_file} is not {FORMAT} version {FORMAT_VERSION} (found {got})")
    if meta.get("field") != field:
        raise FieldDataError(field, f"{stem}.json", f"{meta_file} describes field {meta.get('field')!r}")
    name = f"{stem}.npz"
    npz_file = folder.joinpath(name)
    try:
        data = npz_file.read_bytes()
    except OSError as exc:
        raise FieldDataError(field, name, f"cannot read {npz_file}: {exc}") from None
    expected = meta.get("arrays") if isinstance(meta.get("arrays"), dict) else {}
    if len(data) != expected.get("size") or sha256_bytes(data) != expected.get("sha256"):
        raise FieldDataError(
            field, name,
            f"{npz_file} does not match its metadata {meta_file.name} (size {len(data)} bytes, expected "
            f"{expected.get('size')}; sha256 {sha256_bytes(data)}, expected {expected.get('sha256')}): "
            "a corrupted or altered file, refused before reading",
        )
    try:
        arrays = decode(read_npz(data), meta.get("encoding") or {})
    except Exception as exc:  # noqa: BLE001 - any parse failure is a data error of this file
        raise FieldDataError(field, name, f"unreadable arrays in {npz_file}: {exc}") from None
    return arrays, meta
