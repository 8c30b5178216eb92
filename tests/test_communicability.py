"""Communicability C = expm(S^-1/2 |W| S^-1/2) (diag 0): against SciPy, zero-strength rule, compat."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from connectome_priors.priors._communicability import communicability, empirical_communicability


def _reference(W: np.ndarray, *, zero_rule: str = "isolate", eps: float = 0.0) -> np.ndarray:
    """The formula, written out: strengths = row sums of |W|; SciPy's expm; diagonal zeroed."""
    a = np.abs(np.asarray(W, dtype=np.float64))
    s = a.sum(axis=1)
    if zero_rule == "isolate":
        d = np.array([1 / np.sqrt(x) if x > 0 else 0.0 for x in s])
    elif zero_rule == "replace":
        d = np.array([1 / np.sqrt(x) if x > 0 else 1 / np.sqrt(eps) for x in s])
    else:  # "add"
        d = 1 / np.sqrt(s + eps)
    c = scipy.linalg.expm(np.diag(d) @ a @ np.diag(d))
    np.fill_diagonal(c, 0)
    return c


def _signed(n: int, seed: int, density: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, n)) * (rng.random((n, n)) < density)


def test_matches_scipy_float64():
    W = _signed(30, 0) * 3.0
    with jax.enable_x64(True):
        C = communicability(jnp.asarray(W, jnp.float64))
        assert C.dtype == jnp.float64
        np.testing.assert_allclose(np.asarray(C), _reference(W), rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("n, seed", [(5, 1), (312, 3)])
def test_matches_scipy_float32(n, seed):
    W = _signed(n, seed, density=0.3).astype(np.float32)
    C = communicability(jnp.asarray(W))
    assert C.dtype == jnp.float32
    ref = _reference(W)
    np.testing.assert_allclose(np.asarray(C), ref, rtol=2e-5, atol=2e-6 * ref.max())
    assert np.all(np.diag(np.asarray(C)) == 0)


def test_symmetric_weights_give_symmetric_communicability():
    W = _signed(12, 4)
    W = W + W.T
    C = np.asarray(communicability(jnp.asarray(W, jnp.float32)))
    np.testing.assert_allclose(C, C.T, rtol=1e-5, atol=1e-7)


def test_zero_strength_neurons_are_isolated_and_finite():
    W = _signed(10, 5)
    W[[2, 7], :] = 0.0  # no outgoing weight; incoming weights remain
    C = np.asarray(communicability(jnp.asarray(W, jnp.float32)))
    assert np.all(np.isfinite(C))
    assert np.all(C[[2, 7], :] == 0) and np.all(C[:, [2, 7]] == 0)
    np.testing.assert_allclose(C, _reference(W), rtol=2e-5, atol=1e-7)


def test_gradients_finite_at_zero_strength_and_match_finite_differences():
    W = _signed(8, 6)
    W[3, :] = 0.0
    G = np.random.default_rng(7).random((8, 8))
    with jax.enable_x64(True):
        f = jax.jit(lambda w: jnp.sum(jnp.asarray(G) * communicability(w)))
        grad = np.asarray(jax.jit(jax.grad(f))(jnp.asarray(W)))
        assert np.all(np.isfinite(grad))
        # finite differences along the nonzero entries (|W| is not differentiable at 0)
        eps = 1e-6
        for i, j in [(0, 1), (3 - 1, 3), (5, 0), (7, 6), (4, 4)]:
            e = np.zeros_like(W)
            e[i, j] = eps
            fd = (f(jnp.asarray(W + e)) - f(jnp.asarray(W - e))) / (2 * eps)
            np.testing.assert_allclose(grad[i, j], float(fd), rtol=1e-6, atol=1e-9)


def test_vmap_and_jit():
    Ws = jnp.asarray(np.stack([_signed(16, s) for s in range(3)]), jnp.float32)
    batched = jax.jit(jax.vmap(communicability))(Ws)
    for k in range(3):
        np.testing.assert_allclose(np.asarray(batched[k]), np.asarray(communicability(Ws[k])),
                                   rtol=1e-6, atol=1e-8)


def test_compat_adds_epsilon_to_every_strength():
    W = _signed(10, 8)
    W[4, :] = 0.0
    with jax.enable_x64(True):
        C = np.asarray(communicability(jnp.asarray(W), reference_compat=True))
    ref = _reference(W, zero_rule="add", eps=1e-10)
    np.testing.assert_allclose(C, ref, rtol=1e-9, atol=1e-12 * ref.max())
    assert np.abs(C).max() > 1e3  # the published stand-in inflates edges into the silent neuron


def test_rejects_non_square():
    with pytest.raises(ValueError, match="square"):
        communicability(jnp.ones((3, 4)))


# --- empirical communicability of the EM synapse matrix -----------------------------------

def _connectome(microns_dir, field):
    path = microns_dir / field / f"connectome_{field}.csv"
    return np.loadtxt(path, delimiter=",", skiprows=1)[:, 1:]


def test_empirical_compat_reproduces_published_c_emp(microns_dir):
    counts = _connectome(microns_dir, "6_6_2")
    published = _reference(counts, zero_rule="replace", eps=1e-10)
    C = empirical_communicability("6_6_2", reference_compat=True, data_dir=microns_dir)
    np.testing.assert_allclose(C.values, published, rtol=1e-9, atol=1e-10 * published.max())
    assert C.attrs["reference_compat"] == 1
    assert 128.0 < float(C.values.mean()) < 130.5  # the published C_emp statistics: mean ~129


@pytest.mark.parametrize("field", ["6_6_2", "5_3_8"])
def test_empirical_default_does_not_explode(microns_dir, field):
    counts = _connectome(microns_dir, field)
    C = empirical_communicability(field, data_dir=microns_dir)
    np.testing.assert_allclose(C.values, _reference(counts), rtol=1e-10, atol=1e-14)
    assert C.dims == ("pre", "post") and C.attrs["reference_compat"] == 0
    assert np.all(np.isfinite(C.values)) and C.values.max() < 10
    # online (JAX, float32) and empirical (SciPy) agree on the same matrix
    online = np.asarray(communicability(jnp.asarray(counts, jnp.float32)))
    np.testing.assert_allclose(online, C.values, atol=1e-5)
