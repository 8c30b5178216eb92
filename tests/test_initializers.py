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
    """MICrONSInit(dale=f) is the one Dale's law of connectome_priors.priors._dale: the first round(f N) rows
    excitatory, the inhibitory rows scaled so the whole matrix sums to 0, then the spectral radius."""
    init = MICrONSInit(field=field_538, dale=0.8, seed=2, spectral_radius=0.9)
    w = np.asarray(init((42, 42)), dtype=np.float64)
    positive_rows = (w >= 0).all(axis=1)
    negative_rows = (w <= 0).all(axis=1)
    assert np.all(positive_rows | negative_rows)  # each presynaptic neuron has one sign
    assert positive_rows[:34].all() and negative_rows[34:].all() and not positive_rows[34:].any()
    assert init.metadata["n_excitatory"] == round(0.8 * 42) == 34 and init.metadata["sign"] == "dale"
    assert abs(w.sum()) < 1e-5 * np.abs(w).sum()  # total excitation = total inhibition
    assert abs(np.max(np.abs(np.linalg.eigvals(w))) - 0.9) < 1e-4
    # magnitudes: the functional init's, the inhibitory rows scaled by one common factor
    base = functional_weights(field_538, seed=2).astype(np.float64)
    nz = base != 0
    assert np.all(w[~nz] == 0)
    ratio_e, ratio_i = np.abs(w[:34])[nz[:34]] / base[:34][nz[:34]], np.abs(w[34:])[nz[34:]] / base[34:][nz[34:]]
    np.testing.assert_allclose(ratio_e, ratio_e[0], rtol=1e-4)
    np.testing.assert_allclose(ratio_i, ratio_i[0], rtol=1e-4)
    assert not np.isclose(ratio_e[0], ratio_i[0])  # the inhibitory rows were rescaled
    # sign="dale" alone takes the default fraction; the same matrix
    np.testing.assert_array_equal(np.asarray(MICrONSInit(field=field_538, sign="dale", seed=2, spectral_radius=0.9)(
        (42, 42))), np.asarray(init((42, 42))))
    nonneg = np.asarray(MICrONSInit(field=field_538, sign="nonneg", seed=2)((42, 42)))
    assert (nonneg >= 0).all()
    with pytest.raises(ValueError, match="exclusive"):
        MICrONSInit(field=field_538, sign="nonneg", dale=0.8)
    with pytest.raises(ValueError, match=r"dale=.*fraction must be in \(0, 1\], got 1.5"):
        MICrONSInit(field=field_538, dale=1.5)
    with pytest.raises(ValueError, match=r"sign=None is not one of \('free', 'nonneg', 'dale'\)"):
        MICrONSInit(field=field_538, sign=None)


def test_dale_with_the_users_own_excitatory_mask(field_538):
    mask = np.zeros(42, bool)
    mask[::3] = True
    init = MICrONSInit(field=field_538, dale=mask, seed=0)
    w = np.asarray(init((42, 42)), np.float64)
    assert (w[mask] >= 0).all() and (w[~mask] <= 0).all() and (w[~mask] < 0).any()
    assert init.metadata["dale"] == mask.tolist() and init.metadata["n_excitatory"] == 14
    assert "dale=mask(14 of 42 excitatory)" in repr(init)
    with pytest.raises(ValueError, match="mask has 40 entries for N=42"):
        MICrONSInit(field=field_538, dale=mask[:40], seed=0)((42, 42))


def test_one_dale_law_and_one_sign_vocabulary():
    from connectome_priors.priors import SIGNS, apply_dale, balance_magnitudes, check_sign, dale_signs

    assert SIGNS == ("free", "nonneg", "dale")
    assert check_sign("dale") == "dale"
    with pytest.raises(ValueError, match=r"--sign='dale' is not one of \('free', 'nonneg'\)"):
        check_sign("dale", ("free", "nonneg"), name="--sign")
    w0 = np.random.default_rng(0).normal(size=(6, 6))
    w, exc = apply_dale(w0, 0.5)
    assert exc.tolist() == [True] * 3 + [False] * 3 and dale_signs(6, 0.5).tolist() == [1.0] * 3 + [-1.0] * 3
    np.testing.assert_allclose(w[:3], np.abs(w0[:3]))  # excitatory rows: the magnitudes as they were
    np.testing.assert_allclose(w.sum(), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.abs(w), balance_magnitudes(w0, exc))  # a mask gives the same as the fraction
    assert np.all(balance_magnitudes(np.ones((3, 3)), 1.0) == 1.0)  # no inhibitory row: nothing to balance
    for bad, message in ((0.0, "must be in"), (0.01, "leaves no excitatory"), ([1, 0, 1, 0, 1, 0], "boolean mask")):
        with pytest.raises(ValueError, match=message):
            dale_signs(6, bad)


def test_metadata_records_every_option(field_538):
    init = MICrONSInit(field=field_538, measure="sttc", diagonal="zero", permute="nodes", seed=1,
                       reference_compat=True)
    init((42, 42))
    md = init.metadata
    for key, value in dict(field="5_3_8", measure="sttc", diagonal="zero", permute="nodes", seed=1,
                           reference_compat=1, spectral_radius=0.95, sign="free", dale=None, n_neurons=None).items():
        assert md[key] == value, key
    assert md["last_seed"] == 1 and abs(md["spectral_radius_measured"] - 0.95) < 1e-6
    assert md["diagonal_share"]["l1"] == 0.0


def test_surrogate_field_as_source():
    ds = surrogate_field(25, seed=3)
    w = np.asarray(MICrONSInit(field=ds, seed=0)((25, 25)))
    assert w.shape == (25, 25) and np.isfinite(w).all()
    assert MICrONSInit(field=ds).metadata["synthetic"] == 1
