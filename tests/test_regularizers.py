"""Regularizers: formulas against NumPy/SciPy, gradients on real fields, compat pins, brainstate."""

from __future__ import annotations

import doctest
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
import scipy.stats

import connectome_priors.regularizers as regs
from connectome_priors.priors._communicability import empirical_communicability
from connectome_priors.priors._geometry import distance_matrix
from connectome_priors.regularizers._penalties import (
    communicability_cost,
    communicability_emd,
    l1,
    wasserstein_1d,
    wiring_cost,
)


def _comm(W, eps=None):
    """C from the formula: row-sum strengths, zero strength isolated (or + eps), SciPy expm."""
    a = np.abs(np.asarray(W, dtype=np.float64))
    s = a.sum(1)
    d = 1 / np.sqrt(s + eps) if eps is not None else np.where(s > 0, 1 / np.sqrt(np.where(s > 0, s, 1)), 0)
    c = scipy.linalg.expm(d[:, None] * a * d[None, :])
    np.fill_diagonal(c, 0)
    return c


def _offdiag(m):
    return m[~np.eye(len(m), dtype=bool)]


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(11)
    W = rng.standard_normal((12, 12)) * (rng.random((12, 12)) < 0.6)
    W[5] = 0.0  # a silent neuron
    D = rng.uniform(0.1, 2.0, (12, 12))
    D = (D + D.T) / 2
    np.fill_diagonal(D, 0)
    C_emp = _comm(rng.poisson(0.5, (9, 9)))  # another network, another size
    return W, D, C_emp


def test_penalties_match_numpy_formulas(small):
    W, D, _ = small
    with jax.enable_x64(True):
        Wj = jnp.asarray(W)
        assert float(l1(Wj, lam=0.7)) == pytest.approx(0.7 * np.abs(W).sum(), rel=1e-12)
        assert float(wiring_cost(Wj, D, lam=0.3)) == pytest.approx(0.3 * (np.abs(W) * D).sum(), rel=1e-12)
        expected = 0.3 * (np.abs(W) * D * _comm(W)).sum()
        assert float(communicability_cost(Wj, D, lam=0.3)) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("n, m", [(50, 50), (50, 37), (7, 200), (1, 3)])
def test_wasserstein_matches_scipy(n, m):
    rng = np.random.default_rng(n * 1000 + m)
    u, v = rng.gamma(2.0, size=n), rng.normal(1.0, 2.0, size=m)
    with jax.enable_x64(True):
        got = float(wasserstein_1d(jnp.asarray(u), v))
        got_traced = float(jax.jit(wasserstein_1d)(jnp.asarray(u), jnp.asarray(v)))
    assert got == pytest.approx(scipy.stats.wasserstein_distance(u, v), rel=1e-12)
    assert got_traced == pytest.approx(got, rel=1e-12)


def test_communicability_emd_matches_scipy_for_any_sizes(small):
    W, _, C_emp = small
    with jax.enable_x64(True):
        got = float(communicability_emd(jnp.asarray(W), C_emp, lam_emd=0.1))  # 12 vs 9 neurons
        as_values = float(communicability_emd(jnp.asarray(W), _offdiag(C_emp), lam_emd=0.1))
    expected = 0.1 * scipy.stats.wasserstein_distance(_offdiag(_comm(W)), _offdiag(C_emp))
    assert got == pytest.approx(expected, rel=1e-10)
    assert as_values == pytest.approx(expected, rel=1e-10)


def test_compat_pins(small):
    W, D, _ = small
    rng = np.random.default_rng(5)
    C_emp_same = _comm(rng.poisson(0.5, (12, 12)), eps=1e-10)
    with jax.enable_x64(True):
        Wj = jnp.asarray(W)
        # published W regularizer: the strength is ignored
        assert float(l1(Wj, lam=0.7, reference_compat=True)) == pytest.approx(np.abs(W).sum())
        # published WDC: online strengths without any epsilon (a dense W: no zero-strength row)
        Wd = np.abs(W) + 0.01
        expected = 0.3 * (Wd * D * _comm(Wd, eps=0.0)).sum()
        assert float(communicability_cost(jnp.asarray(Wd), D, reference_compat=True)) == pytest.approx(
            expected, rel=1e-9)
        # published EMD: mean |sort - sort| over all N^2 entries, zero diagonal included
        published = np.mean(np.abs(np.sort(_comm(W, eps=1e-10).ravel()) - np.sort(C_emp_same.ravel())))
        got = float(communicability_emd(Wj, C_emp_same, lam_emd=0.1, reference_compat=True))
        assert got == pytest.approx(0.1 * published, rel=1e-9)
        with pytest.raises(ValueError, match="C_emp must have"):
            communicability_emd(Wj, small[2], reference_compat=True)


def test_shape_errors_name_the_argument(small):
    W, D, _ = small
    with pytest.raises(ValueError, match="D has shape"):
        wiring_cost(jnp.asarray(W), D[:5, :5])
    with pytest.raises(ValueError, match="W must be a square"):
        l1(jnp.ones((2, 3)))


def test_gradients_match_finite_differences(small):
    W, D, C_emp = small
    W = W + np.sign(W) * 0.1  # keep every nonzero entry away from the kink of |.|
    penalties = {
        "l1": functools.partial(l1, lam=0.3),
        "wiring": functools.partial(wiring_cost, D=D),
        "communicability": functools.partial(communicability_cost, D=D),
        "emd": functools.partial(communicability_emd, C_emp=C_emp),
    }
    nonzero = np.argwhere(W != 0)[::16]
    with jax.enable_x64(True):
        for name, penalty in penalties.items():
            f = jax.jit(penalty)
            grad = np.asarray(jax.jit(jax.grad(penalty))(jnp.asarray(W)))
            assert np.all(np.isfinite(grad)), name
            eps = 1e-6
            for i, j in nonzero:
                e = np.zeros_like(W)
                e[i, j] = eps
                fd = (float(f(jnp.asarray(W + e))) - float(f(jnp.asarray(W - e)))) / (2 * eps)
                assert grad[i, j] == pytest.approx(fd, rel=1e-5, abs=1e-8), (name, i, j)


@pytest.mark.parametrize("field", ["6_6_2", "5_3_8"])
def test_gradients_finite_on_real_fields(microns_dir, field):
    D = distance_matrix(field, data_dir=microns_dir)
    C_emp = empirical_communicability(field, data_dir=microns_dir)
    counts = np.loadtxt(microns_dir / field / f"connectome_{field}.csv", delimiter=",", skiprows=1)[:, 1:]
    n = len(counts)
    rng = np.random.default_rng(0)
    W_em = jnp.asarray(counts / max(counts.max(), 1.0), jnp.float32)  # many zero-strength rows
    W_dense = jnp.asarray(rng.standard_normal((n, n)) / np.sqrt(n), jnp.float32)

    def total(W):
        return (l1(W) + wiring_cost(W, D) + communicability_cost(W, D)
                + communicability_emd(W, C_emp))

    value_and_grad = jax.jit(jax.value_and_grad(total))
    for W in (W_em, W_dense):
        value, grad = value_and_grad(W)
        assert grad.dtype == jnp.float32
        assert np.isfinite(float(value)) and bool(jnp.all(jnp.isfinite(grad)))


def test_brainstate_regularization_objects(small):
    brainstate = pytest.importorskip("brainstate")
    W, D, C_emp = small
    Wj = jnp.asarray(W, jnp.float32)
    reg = regs.CommunicabilityCostReg(D, lam=0.3)
    assert isinstance(reg, brainstate.nn.Regularization)
    assert float(reg.loss(Wj)) == pytest.approx(float(communicability_cost(Wj, D)), rel=1e-6)
    assert float(regs.WiringCostReg(D).loss(Wj)) == pytest.approx(float(wiring_cost(Wj, D)), rel=1e-6)
    assert float(regs.CommunicabilityEMDReg(C_emp).loss(Wj)) == pytest.approx(
        float(communicability_emd(Wj, C_emp)), rel=1e-6)
    assert float(regs.L1CostReg(0.3, reference_compat=True).loss(Wj)) == pytest.approx(
        float(jnp.abs(Wj).sum()), rel=1e-6)
    assert regs.L1CostReg(reference_compat=True).attrs == {"reference_compat": 1}
    param = brainstate.nn.Param(Wj, reg=reg)
    assert float(param.reg_loss()) == pytest.approx(float(reg.loss(Wj)), rel=1e-6)
    # every docstring example runs
    runner = doctest.DocTestRunner()
    from connectome_priors.regularizers import _brainstate

    for name in _brainstate.__all__:
        for test in doctest.DocTestFinder().find(getattr(_brainstate, name), name, globs=dict(vars(_brainstate))):
            runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def test_compat_communicability_cost_has_no_epsilon_like_the_published_wdc():
    """The published WDC penalty had no guard: a zero-strength row gives NaN (the nonneg-arm
    collapse); the published EMD penalty adds 1e-10 (finite); the default rule is finite."""
    import jax.numpy as jnp

    from connectome_priors import communicability_cost, communicability_emd

    W = jnp.array([[0.0, 1.0, 0.5], [0.7, 0.0, 0.2], [0.0, 0.0, 0.0]])  # neuron 2 sends nothing
    D = jnp.ones((3, 3)) - jnp.eye(3)
    assert bool(jnp.isnan(communicability_cost(W, D, reference_compat=True)))
    assert bool(jnp.isfinite(communicability_cost(W, D)))
    assert bool(jnp.isfinite(communicability_emd(W, jnp.ones((3, 3)), reference_compat=True)))


@pytest.mark.parametrize(("penalty", "kwargs", "message"), [
    ("communicability_cost", {"lam": -0.1}, "lam must be a finite number >= 0, got -0.1"),
    ("wiring_cost", {"lam": float("nan")}, "lam must be a finite number >= 0, got nan"),
    ("l1", {"lam": float("inf")}, "lam must be a finite number >= 0, got inf"),
])
def test_bad_strengths_are_named(penalty, kwargs, message):
    W = jnp.eye(3)
    args = (W,) if penalty == "l1" else (W, jnp.ones((3, 3)))
    with pytest.raises(ValueError, match=message):
        getattr(regs, penalty)(*args, **kwargs)


def test_non_finite_or_negative_distances_are_named():
    W = jnp.eye(3)
    with pytest.raises(ValueError, match="D has 1 non-finite entries"):
        regs.communicability_cost(W, jnp.ones((3, 3)).at[0, 1].set(jnp.nan))
    with pytest.raises(ValueError, match="D has negative entries"):
        regs.wiring_cost(W, -jnp.ones((3, 3)))
    with pytest.raises(ValueError, match="lam_emd must be a finite number >= 0"):
        regs.communicability_emd(W, jnp.zeros((3, 3)), lam_emd=-1.0)
