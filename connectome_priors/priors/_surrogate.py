"""Synthetic MICrONS-like fields: an embedded default and a distance-matched null model.

``surrogate_field(n, seed)`` builds a field of any size with the same ``xarray.Dataset``
layout as ``load_field`` (so every prior accepts it), labelled ``synthetic=1``. Its generative
model is calibrated on the five shared reference fields (4_7_2, 5_3_4, 5_3_8, 5_6_8, 6_6_2;
pooled over their 136,680 ordered pairs, measured with ``load_field``):

=======================  ===================================================  ==========================
quantity                 measured on the reference fields                     surrogate model
=======================  ===================================================  ==========================
soma positions (µm)      x 494-1538 (width ~1000), y (depth) band ~100-134    uniform in the slab
                         wide (6_6_2: 352-486), z 600-1100 (width ~470);      x∈[590,1410], y∈[360,480],
                         mean pair distance 245-348 (6_6_2: 319)              z∈[640,1060] (any n; mean
                                                                              pair distance ≈ 334)
connection probability   0.00312 over ordered pairs; distance dependence      P(i→j) = p0·exp(-d_ij/λ),
                         weak: exponential ML fit λ ≈ 2475 µm                  λ = 2475 µm, p0 set so the
                                                                              expected density is 0.00312
synapses per connection  1: 94.4%, 2: 4.7%, 3-4: 0.9%; mean 1.070             1 + Geometric, mean 1.070
correlation (off-diag)   mean 0.020-0.033, sd 0.022-0.033; mean falls with    empirical correlation of
                         distance from ~0.065 (<50 µm) to ~0.01 (>400 µm)      T=2000 Gaussian samples with
                                                                              Σ_ij = 0.005 + 0.065·e^{-d/200}
STTC (off-diag)          ≈ 0.69·corr - 0.024 (r = 0.85-0.97), residual sd     0.69·corr - 0.024 + N(0, 0.0065²)
                         ≈ 0.0065; diagonal 1                                 symmetric, diagonal 1
precision                diagonal mean 12.5-25.6; 45-80% of off-diagonal      inverse of the shrunk corr,
                         entries nonzero, mostly negative                     partial corrs soft-thresholded
                                                                              to 55% nonzero, diagonal
                                                                              ~LogNormal(median 15, σ 0.25);
                                                                              positive definite
=======================  ===================================================  ==========================

``surrogate_field(n, seed, like=field)`` keeps that field's positions, ids and the values
of every matrix, but reassigns them to pairs at random within distance bins (deciles of the
pair distances), a distance-matched null: synapse counts are permuted among ordered pairs
(so P(connection | distance) and the count distribution per bin are preserved exactly, degree
and reciprocity structure destroyed), and the (corr, STTC, precision) triplets among
unordered pairs with one permutation (so their joint distribution and distance trend are
preserved exactly). The precision diagonal is kept and raised by the smallest constant that
restores positive definiteness (recorded in ``attrs['precision_diagonal_shift']``).
"""

from __future__ import annotations

import os

import numpy as np
import xarray as xr
from scipy.spatial.distance import cdist

__all__ = ["surrogate_field"]

SLAB_UM = {"x": (590.0, 1410.0), "y": (360.0, 480.0), "z": (640.0, 1060.0)}
CONNECTION_DENSITY = 0.00312
CONNECTION_LENGTH_UM = 2475.0
MEAN_SYNAPSES_PER_CONNECTION = 1.070
CORR_BASELINE = 0.005
CORR_AMPLITUDE = 0.065
CORR_LENGTH_UM = 200.0
CORR_SAMPLES = 2000
STTC_SLOPE, STTC_INTERCEPT, STTC_NOISE = 0.69, -0.024, 0.0065
PRECISION_SHRINKAGE = 0.1
PRECISION_NONZERO_FRACTION = 0.55
PRECISION_DIAG_MEDIAN, PRECISION_DIAG_SIGMA = 15.0, 0.25
N_DISTANCE_BINS = 10
_MIN_EIGENVALUE = 1e-3  # relative to the mean precision diagonal


def _check_seed(seed) -> int:
    if seed is None or isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _field_dataset(positions, connectome, corr, sttc, precision, ids, unit_ids, target_ids, attrs) -> xr.Dataset:
    """Assemble the ``load_field`` layout (dims neuron/axis/pre/post)."""
    pair = ("pre", "post")
    ids = np.asarray(ids, dtype=np.int64)
    tag = "SYNTHETIC "
    return xr.Dataset(
        {
            "positions": (("neuron", "axis"), np.asarray(positions, dtype=np.float64),
                          {"units": "um", "description": tag + "soma position"}),
            "connectome": (pair, np.asarray(connectome, dtype=np.int64),
                           {"units": "synapses", "description": tag + "synapse counts, rows presynaptic"}),
            "correlation": (pair, np.asarray(corr, dtype=np.float64),
                            {"description": tag + "spike-count correlation"}),
            "sttc": (pair, np.asarray(sttc, dtype=np.float64),
                     {"description": tag + "spike time tiling coefficient (symmetric)"}),
            "precision": (pair, np.asarray(precision, dtype=np.float64),
                          {"description": tag + "precision matrix (positive definite)"}),
        },
        coords={
            "neuron": ("neuron", ids, {"description": "neuron id"}),
            "pre": ("pre", ids, {"description": "id of the presynaptic neuron"}),
            "post": ("post", ids, {"description": "id of the postsynaptic neuron"}),
            "axis": ("axis", ["x", "y", "z"]),
            "unit_id": ("neuron", np.asarray(unit_ids, dtype=np.int64)),
            "target_id": ("neuron", np.asarray(target_ids, dtype=np.int64)),
        },
        attrs=attrs,
    )


def _make_positive_definite(precision: np.ndarray) -> tuple[np.ndarray, float]:
    """Raise the diagonal by the smallest constant making λ_min ≥ 1e-3 · mean diagonal."""
    target = _MIN_EIGENVALUE * float(np.mean(np.diag(precision)))
    lam_min = float(np.linalg.eigvalsh(precision).min())
    shift = max(0.0, target - lam_min)
    return precision + shift * np.eye(len(precision)), shift


def _synthetic(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    lo = np.array([SLAB_UM[a][0] for a in "xyz"])
    hi = np.array([SLAB_UM[a][1] for a in "xyz"])
    positions = rng.uniform(lo, hi, size=(n, 3))
    dist = cdist(positions, positions)
    off = ~np.eye(n, dtype=bool)

    # synapse counts: Bernoulli(p0 e^{-d/λ}) connections, 1 + Geometric synapses each
    decay = np.exp(-dist / CONNECTION_LENGTH_UM)
    p0 = CONNECTION_DENSITY / decay[off].mean() if n > 1 else 0.0
    connected = (rng.random((n, n)) < np.minimum(p0 * decay, 1.0)) & off
    counts = rng.geometric(1.0 / MEAN_SYNAPSES_PER_CONNECTION, size=(n, n))
    connectome = np.where(connected, counts, 0)

    # correlation: empirical correlation of Gaussian samples with a distance-decaying covariance
    cov = CORR_BASELINE + CORR_AMPLITUDE * np.exp(-dist / CORR_LENGTH_UM)
    np.fill_diagonal(cov, 1.0)  # PSD: c0·11ᵀ + c1·exp kernel + (1-c0-c1)·I
    samples = rng.standard_normal((CORR_SAMPLES, n)) @ np.linalg.cholesky(cov).T
    corr = np.corrcoef(samples, rowvar=False)
    corr = (corr + corr.T) / 2
    np.fill_diagonal(corr, 1.0)

    noise = np.triu(rng.normal(0.0, STTC_NOISE, size=(n, n)), 1)
    sttc = np.clip(STTC_INTERCEPT + STTC_SLOPE * corr + noise + noise.T, -1.0, 1.0)
    np.fill_diagonal(sttc, 1.0)

    # precision: sparse partial correlations of the shrunk correlation, per-neuron scale
    theta = np.linalg.inv((1 - PRECISION_SHRINKAGE) * corr + PRECISION_SHRINKAGE * np.eye(n))
    d = np.sqrt(np.diag(theta))
    partial = -theta / np.outer(d, d)
    if n > 1:
        cut = np.quantile(np.abs(partial[off]), 1.0 - PRECISION_NONZERO_FRACTION)
        partial = np.sign(partial) * np.maximum(np.abs(partial) - cut, 0.0)
    unit = np.eye(n) - np.where(off, partial, 0.0)
    unit, _ = _make_positive_definite(unit)
    scale = np.sqrt(rng.lognormal(np.log(PRECISION_DIAG_MEDIAN), PRECISION_DIAG_SIGMA, size=n) / np.diag(unit))
    precision = unit * np.outer(scale, scale)  # congruence keeps it positive definite
    precision = (precision + precision.T) / 2  # exact symmetry despite rounding in inv()
    return {"positions": positions, "connectome": connectome, "corr": corr, "sttc": sttc, "precision": precision}


def _distance_bins(dist: np.ndarray, pairs: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    d = dist[pairs]
    n_bins = max(1, min(N_DISTANCE_BINS, len(d) // 20))
    edges = np.quantile(d, np.linspace(0, 1, n_bins + 1)[1:-1])
    return np.searchsorted(edges, d, side="right")


def _permute_within_bins(values: np.ndarray, bins: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An index array that permutes positions uniformly within each bin."""
    order = np.arange(len(values))
    for b in np.unique(bins):
        members = np.flatnonzero(bins == b)
        order[members] = rng.permutation(members)
    return order


def _distance_matched_null(ds: xr.Dataset, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], float]:
    positions = np.asarray(ds["positions"].transpose("neuron", "axis").values, dtype=np.float64)
    n = len(positions)
    dist = cdist(positions, positions)

    ordered = np.nonzero(~np.eye(n, dtype=bool))
    connectome = np.zeros((n, n), dtype=np.int64)
    counts = np.asarray(ds["connectome"].transpose("pre", "post").values)[ordered]
    connectome[ordered] = counts[_permute_within_bins(counts, _distance_bins(dist, ordered), rng)]

    upper = np.triu_indices(n, 1)
    order = _permute_within_bins(upper[0], _distance_bins(dist, upper), rng)
    out = {"positions": positions, "connectome": connectome}
    for name, var in (("corr", "correlation"), ("sttc", "sttc"), ("precision", "precision")):
        m = np.asarray(ds[var].values, dtype=np.float64)
        values = m[upper][order] if name != "sttc" else np.tril(m, -1).T[upper][order]
        new = np.zeros((n, n))
        new[upper] = values
        out[name] = new + new.T + np.diag(np.diag(m))
    out["precision"], shift = _make_positive_definite(out["precision"])
    return out, shift


def surrogate_field(
    n: int,
    seed: int,
    like: xr.Dataset | str | None = None,
    *,
    data_dir: str | os.PathLike | None = None,
) -> xr.Dataset:
    """A synthetic MICrONS-like field with the ``load_field`` layout (``attrs['synthetic'] = 1``).

    Without ``like``: ``n`` neurons drawn from the generative model in this module's
    docstring (positions in a cortical slab, distance-dependent synapse counts, functional
    similarity with the reference fields' marginal statistics). With ``like`` (a Dataset or a
    field name): the distance-matched null of that field (same positions and ids, pair values
    permuted within distance deciles); ``n`` must equal its number of neurons.

    Args:
      n: number of neurons (≥ 2).
      seed: non-negative integer; same seed -> identical field.
      like: optional field to build a null model of.
      data_dir: folder of the field folders when ``like`` is a name.

    Returns:
      Dataset with dims neuron/axis/pre/post and variables positions, connectome,
      correlation, sttc, precision; ``attrs`` field, synthetic=1, label, seed, surrogate_of.

    Example::

        >>> import connectome_priors as cp
        >>> ds = cp.surrogate_field(50, seed=0)
        >>> ds.sizes["neuron"], ds.attrs["synthetic"]
        (50, 1)
    """
    seed = _check_seed(seed)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    n = int(n)
    rng = np.random.default_rng(seed)
    if like is None:
        parts = _synthetic(n, rng)
        ids = np.arange(n, dtype=np.int64)
        attrs = {
            "field": f"surrogate_n{n}_seed{seed}",
            "session": -1, "scan": -1, "imaging_field": -1,
            "position_units": "um",
            "source": "connectome_priors.surrogate_field (generative model)",
            "repository": "", "commit": "", "sha256": "",
            "synthetic": 1,
            "label": "SYNTHETIC surrogate field (MICrONS-like generative model), not recorded data",
            "seed": seed,
            "surrogate_of": "",
            "precision_diagonal_shift": 0.0,
        }
        return _field_dataset(parts["positions"], parts["connectome"], parts["corr"], parts["sttc"],
                              parts["precision"], ids, ids, ids, attrs)

    from ._functional_init import _as_field

    ds = _as_field(like, data_dir)
    n_field = ds.sizes["neuron"]
    if n != n_field:
        raise ValueError(
            f"n={n} but like= field {ds.attrs.get('field', '<unnamed>')} has {n_field} neurons; the "
            f"distance-matched null keeps the field's neurons, so pass n={n_field}"
        )
    parts, shift = _distance_matched_null(ds, rng)
    source = str(ds.attrs.get("field", "<unnamed field>"))
    attrs = dict(ds.attrs)
    # the synthetic values are not the published files: keep their provenance under other names
    for key in ("sha256", "repository", "commit"):
        if key in attrs:
            attrs[f"surrogate_of_{key}"] = attrs.pop(key)
    attrs.update({
        "field": f"surrogate_of_{source}_seed{seed}",
        "source": f"connectome_priors.surrogate_field(like={source}); values from: {attrs.get('source', '?')}",
        "synthetic": 1,
        "label": f"SYNTHETIC distance-matched null of field {source} (pair values permuted within "
                 "distance deciles), not recorded data",
        "seed": seed,
        "surrogate_of": source,
        "precision_diagonal_shift": float(shift),
    })
    return _field_dataset(parts["positions"], parts["connectome"], parts["corr"], parts["sttc"], parts["precision"],
                          ds["neuron"].values, ds["unit_id"].values, ds["target_id"].values, attrs)
