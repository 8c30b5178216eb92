"""Functional initialization of recurrent weights (the paper's Eq. 7), JAX-free.

The recurrent matrix starts from how similarly the recorded neurons fire::

    W_bio = lognormal(mu=-0.5, sigma=0.5) ⊙ F1 ⊙ F2

with ``F_k`` the min-max scaled functional similarity matrices of one MICrONS field
(default: spike-count correlation ⊙ STTC), then rescaled to mean 0.1, floored at 0.01 on
its nonzero entries and rescaled to spectral radius 0.95.

The published pipeline min-max scales each similarity matrix over ALL entries, including
its unit diagonal (self-similarity = 1 is the maximum, so it maps to 1 while the small
off-diagonal similarities map to values near 0). The result is a self-recurrent,
identity-like matrix: on 6_6_2 (corr*sttc) about 99% of the squared weight (40% of the
absolute weight) sits on the diagonal. ``diagonal="keep" | "zero" | "only"`` separates the
identity-like part from the functional structure.
"""

from __future__ import annotations

import os
from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr

from connectome_priors._compat import compat_attrs

from ._field_arg import as_field as _as_field

__all__ = ["functional_weights", "nearest_centroid_subset", "select_neurons"]

MEASURES = ("corr*sttc", "precision*sttc", "sttc")
DIAGONALS = ("keep", "zero", "only")
PERMUTES = (None, "nodes", "entries")
SIGNS = (None, "nonneg")
LOGNORMAL_MU = -0.5
LOGNORMAL_SIGMA = 0.5
_SIMILARITY_VARIABLES = {"corr": "correlation", "precision": "precision", "sttc": "sttc"}


def _field_label(ds: xr.Dataset) -> str:
    return str(ds.attrs.get("field", "<unnamed field>"))


def _nearest_centroid_index(ds: xr.Dataset, n: int) -> np.ndarray:
    """Positions (in the field's ``neuron`` order, ascending) of the ``n`` neurons nearest the soma centroid."""
    n_field = ds.sizes["neuron"]
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or not 1 <= n <= n_field:
        raise ValueError(
            f"n_neurons must be an integer in [1, {n_field}] for field {_field_label(ds)} (N={n_field}), got {n!r}; "
            "for more neurons use surrogate_field(n, seed)"
        )
    positions = np.asarray(ds["positions"].transpose("neuron", "axis").values, dtype=np.float64)
    dist = np.linalg.norm(positions - positions.mean(axis=0), axis=1)
    return np.sort(np.argsort(dist, kind="stable")[:n])


def _isel_neurons(ds: xr.Dataset, index: np.ndarray) -> xr.Dataset:
    """``ds`` restricted to the neurons at ``index`` on every neuron axis it has (neuron, pre, post)."""
    return ds.isel({dim: index for dim in ("neuron", "pre", "post") if dim in ds.dims})


def nearest_centroid_subset(ds: xr.Dataset, n: int) -> xr.Dataset:
    """The ``n`` neurons whose somata lie nearest the field's centroid (original order kept).

    Deterministic (no seed): a spatially compact sub-field, so distance-dependent structure
    survives subsampling. Ties in distance are broken by the neurons' order in the field. This is
    the rule ``MICrONSInit(..., n_neurons=n)`` uses; ``init.selected_neurons()`` returns the ids
    of the same neurons.

    Args:
      ds: a field Dataset (``load_field`` / ``surrogate_field`` layout; needs ``positions``).
      n: how many neurons to keep, 1 <= n <= the field's size.

    Returns:
      The sub-field: ``ds`` restricted to those neurons on its ``neuron``, ``pre`` and ``post``
      axes, in the field's order.

    Raises:
      ValueError: ``n`` is not an integer in [1, N].

    Example::

        >>> import connectome_priors as cp
        >>> from connectome_priors.priors import nearest_centroid_subset
        >>> field = cp.load_field("5_3_8")
        >>> sub = nearest_centroid_subset(field, 10)
        >>> sub.sizes["neuron"], sub.sizes["pre"], bool(set(sub.neuron.values) <= set(field.neuron.values))
        (10, 10, True)
    """
    return _isel_neurons(ds, _nearest_centroid_index(ds, n))


def select_neurons(ds: xr.Dataset, neurons: Any) -> xr.Dataset:
    """``ds`` restricted to ``neurons`` (the ``neurons=`` argument of the priors), in the given order.

    Args:
      ds: a field Dataset with a ``neuron`` coordinate (the neuron ids, e.g. EM root ids).
      neurons: ``None`` (the whole field), a 1-D sequence of neuron ids (values of
        ``ds.neuron``, not positions), or an object with a ``selected_neurons()`` method such as a
        ``MICrONSInit`` (its ids; its field name, when it has one, must be ``ds``'s).

    Returns:
      The sub-field on its ``neuron``, ``pre`` and ``post`` axes (``ds`` itself for ``None``).

    Raises:
      ValueError: empty, not one-dimensional, repeated ids, ids that are not neurons of the field,
        or a ``MICrONSInit`` of another field.

    Example::

        >>> import connectome_priors as cp
        >>> field = cp.load_field("5_3_8")
        >>> ids = field.neuron.values[[5, 2]]
        >>> sub = select_neurons(field, ids)
        >>> sub.sizes["neuron"], bool((sub.neuron.values == ids).all())
        (2, True)
        >>> select_neurons(field, [0, 1])
        Traceback (most recent call last):
        ...
        ValueError: neurons=: 2 of 2 ids are not neurons of field 5_3_8 (e.g. 0); pass ...
    """
    if neurons is None:
        return ds
    label = _field_label(ds)
    if hasattr(neurons, "selected_neurons"):
        source = getattr(neurons, "metadata", {}).get("field")
        if isinstance(source, str) and source != "<dataset>" and "field" in ds.attrs and source != label:
            raise ValueError(f"neurons=: the selection comes from field {source} ({type(neurons).__name__}), "
                             f"but the matrix is asked for field {label}; pass the same field")
        neurons = neurons.selected_neurons()
    ids = np.asarray(neurons)
    if ids.ndim != 1 or ids.size == 0:
        raise ValueError(f"neurons=: expected a non-empty 1-D sequence of neuron ids, got shape {ids.shape}")
    if "neuron" not in ds.coords:
        raise ValueError(f"neurons=: field {label} has no 'neuron' coordinate to select by id")
    unique, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"neurons=: {int((counts - 1).sum())} repeated id(s), e.g. {unique[counts > 1][0].item()!r}; "
                         "select each neuron once")
    index = pd.Index(ds["neuron"].values).get_indexer(ids)
    missing = ids[index < 0]
    if missing.size:
        raise ValueError(f"neurons=: {missing.size} of {ids.size} ids are not neurons of field {label} "
                         f"(e.g. {missing[0].item()!r}); pass values of the field's 'neuron' coordinate, e.g. "
                         "init.selected_neurons() of a MICrONSInit on this field")
    return _isel_neurons(ds, index)


def _similarity_matrix(ds: xr.Dataset, name: str, reference_compat: bool) -> np.ndarray:
    var = _SIMILARITY_VARIABLES[name]
    if var not in ds:
        raise ValueError(f"field {_field_label(ds)} has no variable {var!r} needed by measure {name!r}")
    m = np.array(ds[var].values, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"field {_field_label(ds)}: {var} must be square (N, N), got shape {m.shape}")
    if not np.all(np.isfinite(m)):
        raise ValueError(f"field {_field_label(ds)}: {var} contains NaN or inf")
    if name == "sttc":
        if reference_compat:
            # Published: mirror the stored strict lower triangle, ignore the upper one.
            lower = np.tril(m, -1)
            return lower + lower.T + np.diag(np.diag(m))
        if not np.allclose(m, m.T, rtol=0, atol=1e-10):
            raise ValueError(
                f"field {_field_label(ds)}: sttc is not symmetric; STTC is symmetric by definition "
                "(load_field mirrors the published lower-triangle storage). Symmetrize it, or pass "
                "reference_compat=True to mirror the lower triangle as the published code does."
            )
        return m
    if name == "precision" and not reference_compat:
        # Corrected: partial correlation -P_ij / sqrt(P_ii P_jj) (unit diagonal), so that larger
        # means "more similar" like corr and STTC; the raw precision has the opposite sign and
        # a per-neuron diagonal scale.
        d = np.diag(m)
        if np.any(d <= 0):
            raise ValueError(f"field {_field_label(ds)}: precision has a non-positive diagonal entry")
        partial = -m / np.sqrt(np.outer(d, d))
        np.fill_diagonal(partial, 1.0)
        return partial
    return m


def _min_max(x: np.ndarray) -> np.ndarray:
    """(x - min x) / (max x - min x) over all entries; a constant matrix maps to ones."""
    lo, hi = x.min(), x.max()
    if hi == lo:
        return np.ones_like(x)
    return (x - lo) / (hi - lo)


def diagonal_share(w: np.ndarray) -> dict[str, float]:
    """Share of the weight on the diagonal: ``l1`` = Σ|W_ii| / Σ|W_ij|, ``squared`` = Σ W_ii² / Σ W_ij².

    Example::

        >>> diagonal_share(np.eye(3))
        {'l1': 1.0, 'squared': 1.0}
    """
    w = np.asarray(w, dtype=np.float64)
    a, s = np.abs(w).sum(), (w**2).sum()
    d = np.diag(w)
    return {"l1": float(np.abs(d).sum() / a) if a > 0 else 0.0, "squared": float((d**2).sum() / s) if s > 0 else 0.0}


def spectral_radius_of(w: np.ndarray) -> float:
    """max |λ| over the eigenvalues of ``w`` (float64)."""
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(w, dtype=np.float64)))))


def _check_options(measure, diagonal, permute, spectral_radius, mean, floor, sign) -> None:
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
    if diagonal not in DIAGONALS:
        raise ValueError(f"diagonal must be one of {DIAGONALS}, got {diagonal!r}")
    if permute not in PERMUTES:
        raise ValueError(f"permute must be one of {PERMUTES}, got {permute!r}")
    if sign not in SIGNS:
        raise ValueError(f"sign must be one of {SIGNS}, got {sign!r}")
    for name, value, ok in (
        ("spectral_radius", spectral_radius, lambda v: v > 0),
        ("mean", mean, lambda v: v > 0),
        ("floor", floor, lambda v: v >= 0),
    ):
        if not isinstance(value, (int, float, np.floating, np.integer)) or not np.isfinite(value) or not ok(value):
            kind = "non-negative" if name == "floor" else "positive"
            raise ValueError(f"{name} must be a finite {kind} number, got {value!r}")


def functional_weights(
    field: xr.Dataset | str,
    *,
    seed: int,
    measure: str = "corr*sttc",
    diagonal: Literal["keep", "zero", "only"] = "keep",
    permute: Literal["nodes", "entries"] | None = None,
    spectral_radius: float = 0.95,
    mean: float = 0.1,
    floor: float = 0.01,
    sign: Literal["nonneg"] | None = None,
    reference_compat: bool = False,
    data_dir: str | os.PathLike | None = None,
) -> np.ndarray:
    """Functional initialization W_bio (paper Eq. 7), float32 (N, N) indexed [pre, post].

    Order of operations (N neurons, ``rng = numpy.random.default_rng(seed)``)::

        1. S_k      similarity matrices of ``measure``: "corr*sttc" -> (correlation, sttc),
                    "precision*sttc" -> (precision, sttc), "sttc" -> (sttc,)
        2. F_k      = (S_k - min S_k) / (max S_k - min S_k)   over ALL N² entries (diagonal included;
                    a constant S_k gives ones), F = Π_k F_k
        3. L_ij     ~ LogNormal(mu=-0.5, sigma=0.5) i.i.d.,   W = L ⊙ F
        4. diagonal "keep": W as is (published; identity-like)
                    "zero": W_ii = 0 (functional structure only)
                    "only": W_ij = 0 for i != j (the diagonal-only control)
        5. W        = W · mean / mean(W)                      (mean over all N² entries)
        6. W_ij     = max(W_ij, floor) where W_ij != 0        (exact zeros stay zero)
        7. permute  "nodes":   W = P W Pᵀ, P a uniform random permutation (the published W!)
                    "entries": the N² entries shuffled uniformly
        8. sign     "nonneg": W = max(W, 0) (W is nonnegative by construction; recorded for
                    models that also constrain the sign during training)
        9. W        = W · spectral_radius / max|eig(W)|

    Step 9 rescales after step 5, so the final mean is ``mean · spectral_radius / ρ`` (as
    published), not ``mean``; ``floor`` is a floor relative to that mean. For "zero"/"only"
    including the diagonal in step 2 changes F off the diagonal only by a constant factor
    (the diagonal is each matrix's maximum), which step 5 removes.

    ``reference_compat=False`` (default, corrected):
      - precision enters as the partial correlation ``-P_ij / sqrt(P_ii P_jj)`` (unit
        diagonal), so that larger means more similar as for corr and STTC;
      - STTC must be symmetric (it is by definition; ``load_field`` mirrors the stored
        lower triangle), otherwise a ValueError;
      - L is drawn from ``numpy.random.default_rng(seed)``.
    ``reference_compat=True`` (published code, choice for choice):
      - the raw precision matrix is min-max scaled (its negative entries, i.e. positive
        partial correlations, get the smallest weights; its diagonal varies per neuron);
      - STTC is mirrored from its strict lower triangle, the upper triangle ignored;
      - L is drawn from ``numpy.random.RandomState(seed).lognormal`` so the matrix equals the
        notebook's ``Ws[0]`` after ``np.random.seed(seed)`` (with ``permute=None``).
    Steps 2 (min-max with the unit diagonal) and 4-9 are the published ones in both modes.

    Args:
      field: a field name (loaded with ``load_field``) or a Dataset with its layout
        (``load_field``/``surrogate_field``).
      seed: integer seed; same seed -> identical matrix, different seeds -> different.
      measure: ``"corr*sttc"``, ``"precision*sttc"`` or ``"sttc"``.
      diagonal: ``"keep"``, ``"zero"`` or ``"only"`` (step 4).
      permute: ``None``, ``"nodes"`` or ``"entries"`` (step 7).
      spectral_radius, mean, floor: steps 9, 5, 6.
      sign: ``None`` or ``"nonneg"`` (step 8).
      reference_compat: reproduce the published code (see above).
      data_dir: directory of the field folders when ``field`` is a name.

    Returns:
      float32 array (N, N), rows presynaptic, columns postsynaptic (``h_post = h_pre @ W``).

    Example::

        >>> import numpy as np
        >>> import connectome_priors as cp
        >>> w = cp.functional_weights(cp.surrogate_field(40, seed=0), seed=1)
        >>> w.shape, w.dtype
        ((40, 40), dtype('float32'))
        >>> bool(abs(max(abs(np.linalg.eigvals(w))) - 0.95) < 1e-4)
        True
    """
    if seed is None or isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    _check_options(measure, diagonal, permute, spectral_radius, mean, floor, sign)
    compat = bool(compat_attrs(reference_compat)["reference_compat"])
    ds = _as_field(field, data_dir)

    similarity = [_similarity_matrix(ds, name, compat) for name in measure.split("*")]
    n = similarity[0].shape[0]
    functional = np.prod([_min_max(s) for s in similarity], axis=0)

    if compat:
        if seed >= 2**32:
            raise ValueError("reference_compat=True uses numpy.random.RandomState, which needs seed < 2**32; "
                             f"got {seed}")
        rng = np.random.RandomState(int(seed))
    else:
        rng = np.random.default_rng(int(seed))
    w = rng.lognormal(LOGNORMAL_MU, LOGNORMAL_SIGMA, size=(n, n)) * functional

    if diagonal == "zero":
        np.fill_diagonal(w, 0.0)
    elif diagonal == "only":
        w = np.diag(np.diag(w))

    current = w.mean()
    if current > 0:
        w = w * (mean / current)
    w = np.maximum(w, floor * (w != 0))

    if permute == "nodes":
        order = rng.permutation(n)
        w = w[np.ix_(order, order)]
    elif permute == "entries":
        w = rng.permutation(w.ravel()).reshape(n, n)

    if sign == "nonneg":
        w = np.maximum(w, 0.0)

    rho = spectral_radius_of(w)
    if rho > 0:
        w = w * (spectral_radius / rho)
    return w.astype(np.float32)
