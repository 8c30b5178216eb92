"""Surrogate fields: load_field layout, validity, marginals, and the distance-matched null."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.spatial.distance import cdist

import connectome_priors as cp
from connectome_priors import load_field, surrogate_field


@pytest.fixture(scope="module")
def field_662(microns_dir):
    return load_field("6_6_2", data_dir=microns_dir)


def _offdiag(m):
    return m[~np.eye(len(m), dtype=bool)]


def _upper(m):
    return m[np.triu_indices(len(m), 1)]


def test_layout_matches_load_field(microns_dir):
    real = load_field("5_3_8", data_dir=microns_dir)
    for ds in (surrogate_field(20, seed=0), surrogate_field(42, seed=0, like=real)):
        assert set(ds.dims) == set(real.dims)
        assert set(ds.data_vars) == set(real.data_vars)
        assert set(ds.coords) == set(real.coords)
        for name in real.variables:
            assert ds[name].dims == real[name].dims, name
            assert ds[name].dtype.kind == real[name].dtype.kind, name
        assert list(ds["axis"].values) == ["x", "y", "z"]
        assert ds.attrs["synthetic"] == 1 and "SYNTHETIC" in ds.attrs["label"]


def test_seeded_and_valid():
    a = surrogate_field(40, seed=1)
    xr.testing.assert_identical(a, surrogate_field(40, seed=1))
    assert not np.array_equal(a["correlation"].values, surrogate_field(40, seed=2)["correlation"].values)
    for name in ("correlation", "sttc"):
        m = a[name].values
        np.testing.assert_array_equal(m, m.T)
        np.testing.assert_array_equal(np.diag(m), 1.0)
    p = a["precision"].values
    np.testing.assert_array_equal(p, p.T)
    assert np.linalg.eigvalsh(p).min() > 0
    c = a["connectome"].values
    assert c.dtype == np.int64 and (c >= 0).all() and np.all(np.diag(c) == 0)


def test_marginals_close_to_real(field_662):
    sur = surrogate_field(312, seed=0)
    for ds in (sur, field_662):
        assert ds.sizes["neuron"] == 312
    dist_s = cdist(sur["positions"].values, sur["positions"].values)
    dist_r = cdist(field_662["positions"].values, field_662["positions"].values)
    assert abs(_upper(dist_s).mean() / _upper(dist_r).mean() - 1) < 0.25
    dens_s = (_offdiag(sur["connectome"].values) > 0).mean()
    dens_r = (_offdiag(field_662["connectome"].values) > 0).mean()
    assert 0.5 < dens_s / dens_r < 2.0
    for name, tol_mean in (("correlation", 0.01), ("sttc", 0.01)):
        s, r = _upper(sur[name].values), _upper(field_662[name].values)
        assert abs(s.mean() - r.mean()) < tol_mean, name
        assert 0.7 < s.std() / r.std() < 1.4, name
    # functional similarity falls with distance, as in the real field
    assert np.corrcoef(_upper(sur["correlation"].values), _upper(dist_s))[0, 1] < -0.2
    ps, pr = sur["precision"].values, field_662["precision"].values
    assert 0.5 < np.diag(ps).mean() / np.diag(pr).mean() < 2.0
    assert 0.3 < (_upper(ps) != 0).mean() < 0.85 and _upper(ps).mean() < 0


def _bins(d):
    edges = np.quantile(d, np.linspace(0, 1, 11)[1:-1])
    return np.searchsorted(edges, d, side="right")


def test_like_is_a_distance_matched_null(field_662):
    null = surrogate_field(312, seed=0, like=field_662)
    np.testing.assert_array_equal(null["positions"].values, field_662["positions"].values)
    np.testing.assert_array_equal(null["neuron"].values, field_662["neuron"].values)
    dist = cdist(field_662["positions"].values, field_662["positions"].values)

    # connectome: per distance decile, the multiset of counts is identical ...
    real_c, null_c, d = _offdiag(field_662["connectome"].values), _offdiag(null["connectome"].values), _offdiag(dist)
    bins = _bins(d)
    for b in np.unique(bins):
        np.testing.assert_array_equal(np.sort(real_c[bins == b]), np.sort(null_c[bins == b]))
    # ... but which pairs are connected is unrelated to the real wiring
    assert abs(np.corrcoef(real_c, null_c)[0, 1]) < 0.1

    # functional values: same per-decile multisets, neuron-to-neuron residual structure gone
    du = _upper(dist)
    ub = _bins(du)
    for name in ("correlation", "sttc"):
        r, s = _upper(field_662[name].values), _upper(null[name].values)
        counts = np.bincount(ub)
        resid_r = r - (np.bincount(ub, weights=r) / counts)[ub]
        resid_s = s - (np.bincount(ub, weights=s) / counts)[ub]
        for b in np.unique(ub):
            np.testing.assert_array_equal(np.sort(r[ub == b]), np.sort(s[ub == b]))
        assert abs(np.corrcoef(resid_r, resid_s)[0, 1]) < 0.1, name
    assert np.linalg.eigvalsh(null["precision"].values).min() > 0
    assert null.attrs["surrogate_of"] == "6_6_2"
    with pytest.raises(ValueError, match="n=312"):
        surrogate_field(100, seed=0, like=field_662)


def test_usable_by_the_priors():
    ds = surrogate_field(30, seed=4)
    assert cp.functional_weights(ds, seed=0).shape == (30, 30)
    try:
        distance_matrix = cp.distance_matrix
    except (AttributeError, ImportError):
        pytest.skip("distance_matrix not available yet")
    d = np.asarray(distance_matrix(ds, normalization=None) if _accepts_normalization(distance_matrix)
                   else distance_matrix(ds))
    assert d.shape == (30, 30) and np.isfinite(d).all()


def _accepts_normalization(fn):
    import inspect

    return "normalization" in inspect.signature(fn).parameters


def test_bad_arguments():
    with pytest.raises(ValueError, match="n must be"):
        surrogate_field(1, seed=0)
    with pytest.raises(ValueError, match="seed"):
        surrogate_field(10, seed=-1)
