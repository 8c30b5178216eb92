"""Per-field covariates: what a neuroscientist would check before comparing a prior's effect across fields.

:func:`field_covariates` of one field (JAX-free):

* ``n_neurons``; ``connectome_density``: the share of ordered pairs ``i != j`` with at least one EM synapse;
* ``w_star_diag_share``: ``Σ W*_ii² / Σ W*_ij²`` of the functional init (:func:`functional_weights`), averaged
  over ``seeds`` (its diagonal is a seeded lognormal draw);
* ``sttc_mean``, ``sttc_sd``, ``corr_mean``, ``corr_sd``: over the pairs ``i < j`` of the STTC and the activity
  correlation matrices;
* ``distance_median_um``, ``distance_iqr_um``: of the pairwise soma distances (µm, pairs ``i < j``);
* ``rho_sttc_synapses``, ``rho_corr_synapses``: Spearman's rank correlation of functional similarity with the
  synapse count ``n_ij + n_ji`` over the pairs ``i < j`` (how strongly function goes with wiring).

Example::

    >>> from connectome_priors.priors import field_covariates
    >>> cov = field_covariates("5_3_8")            # doctest: +SKIP
    >>> cov["n_neurons"], 0 < cov["connectome_density"] < 1   # doctest: +SKIP
    (42, True)
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import xarray as xr

COVARIATES: tuple[str, ...] = (
    "n_neurons", "connectome_density", "w_star_diag_share", "sttc_mean", "sttc_sd", "corr_mean", "corr_sd",
    "distance_median_um", "distance_iqr_um", "rho_sttc_synapses", "rho_corr_synapses",
)


def _upper(matrix: np.ndarray) -> np.ndarray:
    return matrix[np.triu_indices(matrix.shape[0], k=1)]


def field_covariates(field: xr.Dataset | str, *, seeds: Sequence[int] = (0, 1, 2, 3), measure: str = "corr*sttc",
                     data_dir: str | os.PathLike | None = None) -> dict[str, float]:
    """The covariates of :data:`COVARIATES` for one field (module docstring).

    Args:
        field: a loaded field or its name (``"6_6_2"``).
        seeds: the seeds whose functional inits are averaged for ``w_star_diag_share``.
        measure: the functional measure of the init.
        data_dir: folder of published fields, for a name.

    Returns:
        ``{covariate: value}``; NaN where a field has fewer than 3 neurons or a constant matrix.

    Raises:
        ValueError: the field lacks ``positions``, ``connectome``, ``sttc`` or ``correlation``, or ``seeds`` is
            empty.
    """
    from scipy import stats
    from scipy.spatial.distance import pdist

    from connectome_priors.fields import load_field

    from ._functional_init import diagonal_share, functional_weights

    ds = load_field(field, data_dir=data_dir) if isinstance(field, str) else field
    label = ds.attrs.get("field", "?")
    for var in ("positions", "connectome", "sttc", "correlation"):
        if var not in ds:
            raise ValueError(f"field {label}: variable {var!r} missing; field_covariates needs positions, "
                             "connectome, sttc and correlation")
    if not len(seeds):
        raise ValueError("seeds must name at least one seed (the functional init's diagonal is seeded)")
    n = int(ds.sizes["neuron"])
    counts = np.asarray(ds["connectome"].values, dtype=float)
    off = ~np.eye(n, dtype=bool)
    sttc, corr = (np.asarray(ds[v].values, dtype=float) for v in ("sttc", "correlation"))
    synapses = _upper(counts + counts.T)
    distances = pdist(np.asarray(ds["positions"].values, dtype=float))

    def spearman(x: np.ndarray) -> float:
        if x.size < 3 or np.ptp(x) == 0 or np.ptp(synapses) == 0:
            return float("nan")
        return float(stats.spearmanr(x, synapses).statistic)

    shares = [diagonal_share(functional_weights(ds, seed=int(s), measure=measure))["squared"] for s in seeds]
    q1, median, q3 = np.percentile(distances, [25, 50, 75]) if distances.size else (np.nan,) * 3
    return {
        "n_neurons": float(n),
        "connectome_density": float(np.count_nonzero(counts[off]) / off.sum()) if n > 1 else float("nan"),
        "w_star_diag_share": float(np.mean(shares)),
        "sttc_mean": float(_upper(sttc).mean()), "sttc_sd": float(_upper(sttc).std(ddof=1)),
        "corr_mean": float(_upper(corr).mean()), "corr_sd": float(_upper(corr).std(ddof=1)),
        "distance_median_um": float(median), "distance_iqr_um": float(q3 - q1),
        "rho_sttc_synapses": spearman(_upper(sttc)), "rho_corr_synapses": spearman(_upper(corr)),
    }
