"""MICrONSInit as a brainpy Initializer and a braintools/brainstate Initialization."""

from __future__ import annotations

import brainpy
import brainstate
import braintools
import numpy as np
import pytest

from connectome_priors import MICrONSInit, functional_weights, load_field, surrogate_field
from connectome_priors.priors._functional_init import nearest_centroid_subset


@pytest.fixture(scope="module")
def field_538(microns_dir):
    return load_field("5_3_8", data_dir=microns_dir)


def test_both_protocols():
    init = MICrONSInit(field=surrogate_field(12, seed=0), seed=0)
    assert isinstance(init, brainpy.init.Initializer)
    assert isinstance(init, braintools.init.Initialization)


def test_brainpy_rnn_cell_gets_w_pre_post(field_538):
    init = MICrONSInit(field=field_538, seed=4)
    cell = brainpy.dyn.RNNCell(3, 42, Wh_initializer=init)
    expected = functional_weights(field_538, seed=4)
    wh = np.asarray(cell.Wh)
    # RNNCell computes h @ Wh, so Wh must be W[pre, post] as is (W is asymmetric: not transposed)
    np.testing.assert_allclose(wh, expected, rtol=1e-6)
    assert not np.allclose(wh, expected.T)


def test_brainstate_module_and_param(field_538):
    init = MICrONSInit(field=field_538, seed=4)
    layer = brainstate.nn.Linear(42, 42, w_init=init, b_init=None)
    np.testing.assert_allclose(np.asarray(layer.weight.value["weight"]), functional_weights(field_538, seed=4),
                               rtol=1e-6)
    w = braintools.init.param(init, (42, 42))
    assert w.shape == (42, 42) and w.dtype == np.float32


def test_unseeded_draws_from_brainstate_random(field_538):
    init = MICrONSInit(field=field_538)
    brainstate.random.seed(123)
    a, b = np.asarray(init((42, 42))), np.asarray(init((42, 42)))
    assert not np.allclose(a, b)  # successive networks differ
    brainstate.random.seed(123)
    np.testing.assert_array_equal(np.asarray(init((42, 42))), a)
    seeded = init.with_seed(9)
    np.testing.assert_array_equal(np.asarray(seeded((42, 42))), np.asarray(seeded((42, 42))))
    np.testing.assert_allclose(np.asarray(seeded((42, 42))), functional_weights(field_538, seed=9), rtol=1e-6)
    assert seeded.metadata["seed"] == 9 and init.seed is None
    gen = np.asarray(init((42, 42), rng=np.random.default_rng(0)))
    np.testing.assert_array_equal(gen, np.asarray(init((42, 42), rng=np.random.default_rng(0))))


def test_unseeded_init_inside_brainpy_cell_is_reproducible(field_538):
    """brainpy builds parameters inside a jit, so the seed is traced: the matrix must still be
    the functional init of a concrete seed drawn from brainstate.random."""
    brainstate.random.seed(7)
    a = np.asarray(brainpy.dyn.RNNCell(3, 42, Wh_initializer=MICrONSInit(field=field_538)).Wh)
    brainstate.random.seed(7)
    b = np.asarray(brainpy.dyn.RNNCell(3, 42, Wh_initializer=MICrONSInit(field=field_538)).Wh)
    np.testing.assert_array_equal(a, b)
    assert abs(np.max(np.abs(np.linalg.eigvals(a))) - 0.95) < 1e-4
    c = np.asarray(brainpy.dyn.RNNCell(3, 42, Wh_initializer=MICrONSInit(field=field_538)).Wh)
    assert not np.allclose(a, c)  # the next network gets the next seed


def test_shape_mismatch_error_and_subsampling(field_538):
    with pytest.raises(ValueError, match=r"N=42.*n_neurons=10"):
        MICrONSInit(field=field_538, seed=0)((10, 10))
    with pytest.raises(ValueError, match="square"):
        MICrONSInit(field=field_538, seed=0)((42, 10))
    init = MICrONSInit(field=field_538, seed=0, n_neurons=10)
    sub = nearest_centroid_subset(field_538, 10)
    np.testing.assert_allclose(np.asarray(init((10, 10))), functional_weights(sub, seed=0), rtol=1e-6)
    # the rule: every kept neuron is at least as close to the centroid as every dropped one
    pos = field_538["positions"].values
    dist = np.linalg.norm(pos - pos.mean(axis=0), axis=1)
    kept = np.isin(field_538["neuron"].values, sub["neuron"].values)
    assert kept.sum() == 10 and dist[kept].max() <= dist[~kept].min()
    with pytest.raises(ValueError, match="n_neurons=10"):
        init((12, 12))


def test_dale_and_nonneg(field_538):
    init = MICrONSInit(field=field_538, dale=0.8, seed=2, spectral_radius=0.9)
    w = np.asarray(init((42, 42)), dtype=np.float64)
    positive_rows = (w >= 0).all(axis=1)
    negative_rows = (w <= 0).all(axis=1)
    assert np.all(positive_rows | negative_rows)  # each presynaptic neuron has one sign
    assert positive_rows.sum() == round(0.8 * 42) == init.metadata["n_excitatory"]
    np.testing.assert_allclose(w.sum(axis=0), 0.0, atol=1e-5 * np.abs(w).sum(axis=0).max())
    assert abs(np.max(np.abs(np.linalg.eigvals(w))) - 0.9) < 1e-4
    nonneg = np.asarray(MICrONSInit(field=field_538, sign="nonneg", seed=2)((42, 42)))
    assert (nonneg >= 0).all()
    with pytest.raises(ValueError, match="exclusive"):
        MICrONSInit(field=field_538, sign="nonneg", dale=0.8)
    with pytest.raises(ValueError, match="dale"):
        MICrONSInit(field=field_538, dale=1.5)


def test_metadata_records_every_option(field_538):
    init = MICrONSInit(field=field_538, measure="sttc", diagonal="zero", permute="nodes", seed=1,
                       reference_compat=True)
    init((42, 42))
    md = init.metadata
    for key, value in dict(field="5_3_8", measure="sttc", diagonal="zero", permute="nodes", seed=1,
                           reference_compat=1, spectral_radius=0.95, sign=None, dale=None, n_neurons=None).items():
        assert md[key] == value, key
    assert md["last_seed"] == 1 and abs(md["spectral_radius_measured"] - 0.95) < 1e-6
    assert md["diagonal_share"]["l1"] == 0.0


def test_surrogate_field_as_source():
    ds = surrogate_field(25, seed=3)
    w = np.asarray(MICrONSInit(field=ds, seed=0)((25, 25)))
    assert w.shape == (25, 25) and np.isfinite(w).all()
    assert MICrONSInit(field=ds).metadata["synthetic"] == 1
