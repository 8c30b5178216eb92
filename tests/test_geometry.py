"""Spatial embedding: distance matrices (real, lattice) and the published D* / D (compat)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import xarray as xr

from connectome_priors.priors._geometry import distance_matrix, grid_positions, lattice_shape

VOXEL_NM = np.array([4.0, 4.0, 40.0])


def _field(positions_um: np.ndarray, field_id: str = "test") -> xr.Dataset:
    n = len(positions_um)
    ids = np.arange(100, 100 + n, dtype=np.int64)
    return xr.Dataset({"positions": (("neuron", "axis"), positions_um)},
                      coords={"neuron": ids, "axis": ["x", "y", "z"]}, attrs={"field": field_id})


def _pairwise(points: np.ndarray) -> np.ndarray:
    diff = points[:, None, :] - points[None, :, :]
    return np.sqrt((diff ** 2).sum(-1))


def _offdiag(m: np.ndarray) -> np.ndarray:
    return m[~np.eye(len(m), dtype=bool)]


def _raw_voxels(microns_dir, field: str) -> np.ndarray:
    raw = np.load(microns_dir / field / f"positions_{field}.npy", allow_pickle=True)
    return np.array(raw.tolist(), dtype=np.float64)


# --- lattice -----------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 8, 12, 42, 70, 160, 312, 1000])
def test_lattice_shape_is_the_most_compact_exact_box(n):
    (a, b, c), exact = lattice_shape(n)
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    boxes = [(x, y, n // (x * y)) for x, y in itertools.product(divisors, divisors) if (n // x) % y == 0]
    best = min(x * y + y * z + z * x for x, y, z in boxes)
    assert exact and a * b * c == n and a >= b >= c
    assert a * b + b * c + c * a == best


@pytest.mark.parametrize("n", [61, 97, 193, 88])
def test_lattice_shape_avoids_lines(n):
    (a, b, c), exact = lattice_shape(n)
    assert not exact
    assert a * b * c >= n and a - c <= 1  # near-cubic enclosing box, never a line
    assert (a - 1) * b * c < n or a * b * (c - 1) < n  # and the smallest such box


def test_grid_positions_are_distinct_lattice_points():
    pts = grid_positions(61, spacing=2.5)
    assert pts.shape == (61, 3)
    assert len(np.unique(pts, axis=0)) == 61
    d = _offdiag(_pairwise(pts))
    np.testing.assert_allclose(d.min(), 2.5)


def test_lattice_shape_rejects_bad_n():
    with pytest.raises(ValueError, match="n must be a positive integer"):
        lattice_shape(0)


# --- default (corrected) distances on a small synthetic field ----------------------------

@pytest.fixture()
def small_field():
    rng = np.random.default_rng(3)
    return _field(rng.uniform(0, 400, size=(25, 3)))


def test_real_distances_match_numpy_formula(small_field):
    pos = small_field.positions.values
    ref = _pairwise(pos)
    D_um = distance_matrix(small_field, normalize=None)
    np.testing.assert_allclose(D_um.values, ref, rtol=1e-12, atol=1e-9)
    assert D_um.dims == ("pre", "post") and D_um.dtype == np.float64
    np.testing.assert_array_equal(D_um.pre.values, small_field.neuron.values)
    assert D_um.attrs["units"] == "um" and D_um.attrs["reference_compat"] == 0

    D = distance_matrix(small_field)  # default: mean-normalised
    np.testing.assert_allclose(D.values, ref / _offdiag(ref).mean(), rtol=1e-12)
    assert D.attrs["normalize"] == "mean"
    np.testing.assert_allclose(distance_matrix(small_field, normalize="max").values, ref / ref.max())


def test_grid_matches_the_real_mean_distance(small_field):
    real = distance_matrix(small_field, normalize=None).values
    grid = distance_matrix(small_field, "grid", normalize=None)
    np.testing.assert_allclose(_offdiag(grid.values).mean(), _offdiag(real).mean(), rtol=1e-12)
    # a scaled copy of the lattice: all distances proportional to the unit lattice's
    unit = _pairwise(grid_positions(25))
    ratio = _offdiag(grid.values) / _offdiag(unit)
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)
    assert grid.attrs["grid_shape"] == list(lattice_shape(25)[0])


def test_bad_arguments_name_what_is_wrong(small_field):
    with pytest.raises(ValueError, match="kind"):
        distance_matrix(small_field, "torus")
    with pytest.raises(ValueError, match="normalize"):
        distance_matrix(small_field, normalize="median")
    with pytest.raises(TypeError, match="field"):
        distance_matrix(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="positions"):
        distance_matrix(small_field.drop_vars("positions"))
    with pytest.raises(ValueError, match="published grid shape"):
        distance_matrix(small_field, "grid", reference_compat=True)


# --- real fields: corrected vs published ------------------------------------------------

@pytest.mark.parametrize("field", ["6_6_2", "5_3_8"])
def test_default_distances_follow_true_geometry(microns_dir, field):
    true_um = _pairwise(_raw_voxels(microns_dir, field) * VOXEL_NM / 1000.0)
    D = distance_matrix(field, normalize=None, data_dir=microns_dir)
    np.testing.assert_allclose(D.values, true_um, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("field", ["6_6_2", "5_3_8"])
def test_compat_reproduces_published_d_star(microns_dir, field):
    # The published recipe, from its description: reshape (N, 3) -> (3, N), min-max scale
    # each of the 3 rows, Euclidean distances between the N columns, float32.
    rows = _raw_voxels(microns_dir, field).reshape(3, -1)
    scaled = (rows - rows.min(1, keepdims=True)) / (rows.max(1, keepdims=True) - rows.min(1, keepdims=True))
    published = _pairwise(scaled.T).astype(np.float32)

    D_star = distance_matrix(field, reference_compat=True, data_dir=microns_dir)
    np.testing.assert_allclose(D_star.values, published, atol=1e-6, rtol=0)
    assert D_star.attrs["reference_compat"] == 1 and D_star.attrs["normalize"] == "none"

    # D* carries no information about where the neurons are; the default does
    true_um = _pairwise(_raw_voxels(microns_dir, field) * VOXEL_NM / 1000.0)
    r_star = np.corrcoef(_offdiag(D_star.values), _offdiag(true_um))[0, 1]
    r_default = np.corrcoef(_offdiag(distance_matrix(field, data_dir=microns_dir).values),
                            _offdiag(true_um))[0, 1]
    assert abs(r_star) < 0.05
    assert r_default > 0.999


@pytest.mark.parametrize("field, shape", [("6_6_2", (12, 13, 2)), ("5_3_8", (7, 3, 2))])
def test_compat_grid_is_the_published_integer_lattice(microns_dir, field, shape):
    x, y, z = np.meshgrid(*(np.arange(s) for s in shape))  # the published construction
    published = _pairwise(np.stack([x.ravel(), y.ravel(), z.ravel()], 1).astype(float))
    D = distance_matrix(field, "grid", reference_compat=True, data_dir=microns_dir)
    np.testing.assert_allclose(D.values, published, atol=1e-6)
    assert D.attrs["grid_shape"] == list(shape)
    # unscaled: nearest neighbours one lattice step apart, unlike the corrected grid
    assert _offdiag(D.values).min() == 1.0
    corrected = distance_matrix(field, "grid", normalize=None, data_dir=microns_dir)
    real = distance_matrix(field, normalize=None, data_dir=microns_dir)
    np.testing.assert_allclose(_offdiag(corrected.values).mean(), _offdiag(real.values).mean())


def test_a_field_with_repeated_neuron_ids_is_refused():
    import connectome_priors as cp

    repeated = cp.load_field("5_3_8").isel(neuron=[0, 1, 1, 2], pre=[0, 1, 1, 2], post=[0, 1, 1, 2])
    for make in (cp.distance_matrix, lambda ds: cp.functional_weights(ds, seed=0)):
        with pytest.raises(ValueError, match="neuron ids repeat .*select each neuron once"):
            make(repeated)
