"""Spatial embedding: pairwise soma distances of a field, and the regular-lattice control.

The wiring-cost priors penalise a weight by the distance it spans. ``distance_matrix`` gives
that distance for a MICrONS field (``kind="real"``) or for the paper's control, the same number
of neurons on a regular 3-D lattice (``kind="grid"``). JAX-free.

Corrected behaviour (default)
    * real: Euclidean distances between the correctly oriented (N, 3) soma positions in µm.
    * grid: the N lattice points of :func:`grid_positions`, scaled so the mean pairwise
      distance equals the real field's, so real-vs-grid compares geometry, not penalty size.
    * ``normalize="mean"`` divides by the mean off-diagonal distance (dimensionless, mean 1);
      ``"max"`` divides by the largest distance; ``None`` keeps µm.

``reference_compat=True`` (the published notebook, reproduced on purpose)
    * real ("D*"): the (N, 3) voxel positions are reshaped to (3, N) instead of transposed,
      which interleaves x, y and z of different neurons, then each of the three rows is
      min-max scaled to [0, 1]. The result is unrelated to the true geometry (its correlation
      with the true distances is about 0).
    * grid ("D"): integer lattice ``np.meshgrid(arange(a), arange(b), arange(c))`` of the
      published per-field shape (table below; several are lines, e.g. (193, 1, 1)), unscaled.
    * both are cast to float32 as published; ``normalize`` is not applied (recorded as
      ``normalize="none"`` in the attrs).
"""

from __future__ import annotations

import itertools
import math
import os
from typing import Any, Literal

import numpy as np
import xarray as xr
from scipy.spatial.distance import pdist, squareform

from connectome_priors._compat import compat_attrs

from ._field_arg import as_field as _as_field
from ._functional_init import select_neurons

# MICrONS minnie65 voxel size: positions are stored in voxels of 4 x 4 x 40 nm.
VOXEL_SIZE_UM = np.array([0.004, 0.004, 0.040])

# Published lattice shapes (neurons, grid) per field: reference repository Model/INF.md.
PUBLISHED_GRID_SHAPES: dict[str, tuple[int, int, int]] = {
    "4_7_2": (11, 4, 2), "4_7_4": (283, 2, 1), "4_7_6": (19, 5, 5), "4_7_8": (193, 1, 1),
    "5_3_2": (9, 7, 2), "5_3_4": (7, 5, 2), "5_3_6": (7, 5, 5), "5_3_8": (7, 3, 2),
    "5_6_2": (113, 3, 1), "5_6_4": (521, 1, 1), "5_6_6": (113, 3, 1), "5_6_8": (10, 4, 4),
    "5_7_2": (13, 6, 5), "5_7_4": (17, 8, 4), "5_7_6": (139, 1, 1), "5_7_8": (11, 5, 5),
    "6_2_2": (13, 10, 3), "6_2_4": (23, 5, 5), "6_2_6": (11, 8, 3), "6_2_8": (5, 5, 5),
    "6_4_2": (16, 13, 2), "6_4_4": (17, 7, 5), "6_4_6": (53, 7, 1), "6_4_8": (9, 5, 3),
    "6_6_2": (12, 13, 2), "6_6_4": (10, 8, 7), "6_6_6": (383, 1, 1), "6_6_8": (43, 3, 1),
    "6_7_2": (29, 4, 2), "6_7_4": (283, 2, 1), "6_7_6": (41, 13, 1), "6_7_8": (9, 9, 2),
    "7_3_2": (41, 5, 2), "7_3_4": (11, 7, 5), "7_3_6": (29, 5, 1), "7_3_8": (11, 7, 2),
    "7_4_2": (11, 9, 3), "7_4_4": (47, 5, 2), "7_4_6": (269, 2, 1), "7_4_8": (8, 7, 4),
    "7_5_2": (29, 5, 2), "7_5_4": (43, 3, 2), "7_5_6": (283, 1, 1), "7_5_8": (61, 1, 1),
    "8_5_2": (13, 7, 5), "8_5_4": (467, 1, 1), "8_5_6": (257, 2, 1), "8_5_8": (19, 5, 2),
    "9_3_2": (79, 4, 2), "9_3_4": (19, 7, 4), "9_3_6": (109, 5, 1), "9_4_2": (11, 7, 5),
    "9_4_4": (479, 1, 1), "9_4_6": (23, 23, 1), "9_6_2": (211, 2, 1), "9_6_4": (19, 17, 1),
}

Kind = Literal["real", "grid"]
Normalize = Literal["mean", "max"] | None


def lattice_shape(n: int, *, max_aspect: float = 4.0) -> tuple[tuple[int, int, int], bool]:
    """The most cubic lattice for ``n`` points: ``((a, b, c), exact)`` with a >= b >= c.

    Rule: among the exact factorizations ``a * b * c == n``, take the one with the smallest
    surface ``ab + bc + ca`` (the most compact box). If even that one is more elongated than
    ``max_aspect`` (``a / c``; e.g. prime n, whose only box is a line), take instead the
    smallest near-cubic box (sides differing by at most one) holding at least ``n`` points;
    ``exact`` is then False and :func:`grid_positions` fills it only partially.

    Example::

        >>> lattice_shape(312)
        ((13, 6, 4), True)
        >>> lattice_shape(61)   # prime: no line of 61, a 4 x 4 x 4 box with 3 points left out
        ((4, 4, 4), False)
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer number of neurons, got {n!r}")
    n = int(n)
    best = None
    for c in range(1, int(round(n ** (1 / 3))) + 2):
        if n % c:
            continue
        for b in range(c, int(math.isqrt(n // c)) + 1):
            if (n // c) % b:
                continue
            a = n // (b * c)
            key = (a * b + b * c + c * a, a)
            if best is None or key < best[0]:
                best = (key, (a, b, c))
    a, b, c = best[1]
    if a / c <= max_aspect:
        return (a, b, c), True
    # smallest near-cubic enclosing box: k^3, then k^2 (k+1), then k (k+1)^2, ...
    k = max(1, int(math.floor(n ** (1 / 3))))
    for shape in ((k, k, k), (k + 1, k, k), (k + 1, k + 1, k), (k + 1, k + 1, k + 1)):
        if math.prod(shape) >= n:
            return shape, False
    raise AssertionError("unreachable: (k+1)^3 > n")


def grid_positions(n: int, *, spacing: float = 1.0, max_aspect: float = 4.0) -> np.ndarray:
    """(n, 3) points of a regular 3-D lattice with the given spacing (see :func:`lattice_shape`).

    Points are listed in C order of the (a, b, c) box; for a partially filled box the last
    layer along the first axis is incomplete, so the point cloud stays near-cubic.

    Example::

        >>> grid_positions(12).shape
        (12, 3)
        >>> grid_positions(8, spacing=2.0).max(axis=0).tolist()
        [2.0, 2.0, 2.0]
    """
    shape, _ = lattice_shape(n, max_aspect=max_aspect)
    points = np.array(list(itertools.product(*(range(s) for s in shape))), dtype=np.float64)
    return points[:n] * float(spacing)


def _positions_um(ds: xr.Dataset) -> np.ndarray:
    if "positions" not in ds:
        raise ValueError("field has no 'positions' variable (expected (neuron, axis) in µm)")
    pos = np.asarray(ds["positions"].transpose("neuron", "axis").values, dtype=np.float64)
    if pos.ndim != 2 or pos.shape[1] != 3:
        raise ValueError(f"field 'positions' must have shape (N, 3), got {pos.shape}")
    if not np.all(np.isfinite(pos)):
        raise ValueError("field 'positions' contains NaN or inf")
    return pos


def _offdiag_mean(d: np.ndarray) -> float:
    n = len(d)
    return float(d.sum() / (n * (n - 1))) if n > 1 else 0.0


def _published_real(pos_um: np.ndarray) -> np.ndarray:
    # The published bug, on purpose: reshape (N, 3) -> (3, N) instead of transposing.
    voxels = pos_um / VOXEL_SIZE_UM
    rows = voxels.reshape(3, -1)
    lo, hi = rows.min(axis=1, keepdims=True), rows.max(axis=1, keepdims=True)
    scaled = (rows - lo) / (hi - lo)
    return squareform(pdist(scaled.T)).astype(np.float32).astype(np.float64)


def _published_grid(field_id: str, n: int) -> tuple[np.ndarray, tuple[int, int, int]]:
    shape = PUBLISHED_GRID_SHAPES.get(field_id)
    if shape is None:
        raise ValueError(f"reference_compat grid: no published grid shape for field {field_id!r}; "
                         f"the published table covers only the 56 released fields")
    if math.prod(shape) != n:
        raise ValueError(f"reference_compat grid: published shape {shape} of field {field_id!r} "
                         f"holds {math.prod(shape)} points, the field has {n} neurons")
    axes = np.meshgrid(*(np.arange(s) for s in shape))  # default 'xy' indexing, as published
    points = np.stack([a.ravel() for a in axes], axis=1).astype(np.float64)
    return squareform(pdist(points)).astype(np.float32).astype(np.float64), shape


def distance_matrix(
    field: xr.Dataset | str,
    kind: Kind = "real",
    *,
    normalize: Normalize = "mean",
    reference_compat: bool = False,
    data_dir: str | os.PathLike | None = None,
    neurons: Any = None,
) -> xr.DataArray:
    """Pairwise distance matrix D[pre, post] of a field's neurons (real somata or a lattice).

    D_ij = ||x_i - x_j||_2, with x the soma positions in µm (``kind="real"``) or lattice points
    scaled so that mean_{i != j} D_ij equals the real field's (``kind="grid"``), then divided by
    mean_{i != j} D_ij (``normalize="mean"``, default: dimensionless, off-diagonal mean 1), by
    max D (``"max"``) or left in µm (``None``). ``reference_compat=True`` returns the published
    D* / D instead (see module docstring); ``normalize`` then does not apply.

    Args:
        field: a Dataset from :func:`load_field` or a field id such as ``"6_6_2"``.
        kind: ``"real"`` or ``"grid"``.
        normalize: ``"mean"``, ``"max"`` or ``None``.
        reference_compat: reproduce the published notebook's matrices.
        data_dir: where the field lives, when ``field`` is an id.
        neurons: only these neurons, in this order: a sequence of neuron ids (the field's
            ``neuron`` coordinate) or a ``MICrONSInit`` (its ``selected_neurons()``: the same
            neurons, in the same order, as the rows of the matrix it makes). ``None``: all.
            Normalization and the grid are computed for the selected neurons only.

    Returns:
        float64 DataArray, dims (pre, post), attrs kind / normalize / reference_compat /
        units / scale_um (µm per unit of D) / grid_shape (grid only) / n_selected (with ``neurons``).

    Raises:
        ValueError: a bad ``kind`` / ``normalize``, fewer than 2 neurons, a selection that is not
            neurons of the field (see :func:`~connectome_priors.priors.select_neurons`).

    Example::

        >>> import numpy as np
        >>> import connectome_priors as cp
        >>> D = cp.distance_matrix("5_3_8")
        >>> round(float(D.values[~np.eye(len(D), dtype=bool)].mean()), 6)
        1.0
        >>> init = cp.MICrONSInit("5_3_8", n_neurons=10, seed=0)      # the 10 neurons nearest the centroid
        >>> cp.distance_matrix("5_3_8", neurons=init).shape          # D of exactly init's neurons
        (10, 10)
    """
    if kind not in ("real", "grid"):
        raise ValueError(f"kind must be 'real' or 'grid', got {kind!r}")
    if normalize not in ("mean", "max", None):
        raise ValueError(f"normalize must be 'mean', 'max' or None, got {normalize!r}")
    ds = select_neurons(_as_field(field, data_dir), neurons)
    pos = _positions_um(ds)
    n = len(pos)
    if n < 2:
        raise ValueError(f"field has {n} neuron(s); a distance matrix needs at least 2")
    field_id = str(ds.attrs.get("field", ""))
    attrs: dict = {"kind": kind, "field": field_id, **compat_attrs(reference_compat)}
    if neurons is not None:
        attrs["n_selected"] = n

    if reference_compat:
        if kind == "real":
            d = _published_real(pos)
            attrs.update(units="1", description="published D*: positions reshaped (N,3)->(3,N), "
                                                "per-row min-max scaled (reference_compat)")
        else:
            d, shape = _published_grid(field_id, n)
            attrs.update(units="lattice steps", grid_shape=list(shape),
                         description="published integer grid D (reference_compat)")
        attrs["normalize"] = "none"
    else:
        real = squareform(pdist(pos))
        if kind == "real":
            d = real
        else:
            shape, exact = lattice_shape(n)
            lattice = squareform(pdist(grid_positions(n)))
            d = lattice * (_offdiag_mean(real) / _offdiag_mean(lattice))
            attrs.update(grid_shape=list(shape), grid_exact=int(exact))
        divisor = {"mean": _offdiag_mean(d), "max": float(d.max()), None: 1.0}[normalize]
        if divisor <= 0:
            raise ValueError("all neurons of the field sit at the same position; cannot normalize")
        d = d / divisor
        attrs.update(normalize=str(normalize).lower(), units="um" if normalize is None else "1",
                     scale_um=divisor)

    coords = {}
    if "neuron" in ds.coords and ds.sizes.get("neuron") == n:
        ids = ds["neuron"].values
        coords = {"pre": ("pre", ids), "post": ("post", ids)}
    return xr.DataArray(d, dims=("pre", "post"), coords=coords, attrs=attrs, name="distance")
