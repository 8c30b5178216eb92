"""Cortical regularizers: pure JAX penalties of a recurrent weight matrix W[pre, post].

    l1(W)                      = lam * sum |W|
    wiring_cost(W, D)          = lam * sum |W| * D
    communicability_cost(W, D) = lam * sum |W| * D * C(W)      (C recomputed from W: online)
    communicability_emd(W, C*) = lam_emd * W1(values of C(W), values of C*)

(* elementwise.) Each is a function ``penalty(W, ...) -> scalar``, jit/grad/vmap-safe and
``functools.partial``-friendly (``partial(wiring_cost, D=D, lam=0.3)``). The same penalties as
``brainstate.nn.Regularization`` objects live in :mod:`connectome_priors.regularizers._brainstate`.

Published variants (neurovium/CorticalBlueprintRNN) in these terms, with lam = 0.3,
lam_emd = 0.1 and D / D* from :func:`distance_matrix` (grid / real):
``W`` = l1 (published: lam ignored, see below); ``WD``, ``WD*`` = wiring_cost;
``WDC``, ``WD*C``, ``W*D*C``, ``W!D*C`` = communicability_cost; ``WD*C*``, ``W*D*C*``,
``W*DC*``, ``W!D*C*`` = wiring_cost + communicability_emd (the published EMD variants have no
C factor in their spatial term).

``reference_compat=True`` reproduces the published code: ``l1`` returns sum |W| and ignores
lam; ``communicability_cost``/``communicability_emd`` add 1e-10 to every strength online;
the EMD compares all N^2 entries including the zeroed diagonal (sizes must then agree).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from connectome_priors.priors._communicability import communicability


def _weights(W) -> jax.Array:
    W = jnp.asarray(W)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square (N, N) weight matrix [pre, post], got shape {W.shape}")
    if not jnp.issubdtype(W.dtype, jnp.floating):
        W = W.astype(jnp.result_type(float))
    return W


def _matrix_like(x, W: jax.Array, name: str) -> jax.Array:
    """A constant matrix (ndarray, DataArray or jax array) in W's dtype, shape checked; a concrete one
    (not traced inside a compiled program) must be finite and non-negative."""
    values = getattr(x, "values", x)  # xarray.DataArray -> ndarray
    if not isinstance(values, jax.Array):
        values = np.asarray(values)
    if values.shape != W.shape:
        raise ValueError(f"{name} has shape {values.shape}, W has shape {W.shape}; they must match")
    if not isinstance(values, jax.core.Tracer):
        concrete = np.asarray(values)
        if not np.all(np.isfinite(concrete)):
            raise ValueError(f"{name} has {int(np.count_nonzero(~np.isfinite(concrete)))} non-finite entries")
        if np.any(concrete < 0):
            raise ValueError(f"{name} has negative entries (min {concrete.min():g}); distances and "
                             "communicabilities are non-negative")
    return jnp.asarray(values, dtype=W.dtype)


def _strength(value, name: str) -> None:
    """A penalty strength given as a Python or numpy number must be finite and >= 0 (a traced one is
    the caller's responsibility)."""
    if isinstance(value, bool) or (isinstance(value, (int, float, np.number)) and not (
            np.isfinite(value) and value >= 0)):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def l1(W: jax.Array, lam: float = 0.3, *, reference_compat: bool = False) -> jax.Array:
    """L1 penalty: lam * sum_ij |W_ij|.

    ``reference_compat=True`` returns sum_ij |W_ij| without lam, as the published ``W``
    regularizer does (it stores its strength but never uses it).

    Example::

        >>> import jax.numpy as jnp
        >>> float(l1(jnp.array([[1.0, -2.0], [0.5, 0.0]]), lam=0.5))
        1.75
        >>> float(l1(jnp.array([[1.0, -2.0], [0.5, 0.0]]), lam=0.5, reference_compat=True))
        3.5
    """
    W = _weights(W)
    _strength(lam, "lam")
    total = jnp.sum(jnp.abs(W))
    return total if reference_compat else jnp.asarray(lam, W.dtype) * total


def wiring_cost(W: jax.Array, D, lam: float = 0.3) -> jax.Array:
    """Spatial wiring cost: lam * sum_ij |W_ij| D_ij.

    Args:
        W: (N, N) weights [pre, post].
        D: (N, N) distances (:func:`distance_matrix`; DataArray, ndarray or jax array).
        lam: strength.

    Example::

        >>> import jax.numpy as jnp
        >>> W = jnp.array([[0.0, 1.0], [-2.0, 0.0]]); D = jnp.array([[0.0, 3.0], [3.0, 0.0]])
        >>> float(wiring_cost(W, D, lam=0.5))
        4.5
    """
    W = _weights(W)
    _strength(lam, "lam")
    D = _matrix_like(D, W, "D")
    return jnp.asarray(lam, W.dtype) * jnp.sum(jnp.abs(W) * D)


def communicability_cost(
    W: jax.Array, D, lam: float = 0.3, *, reference_compat: bool = False
) -> jax.Array:
    """Communicability-weighted wiring cost: lam * sum_ij |W_ij| D_ij C_ij(W).

    C(W) is :func:`communicability` of the current W (recomputed every call; gradients flow
    through it), so a long connection costs more when its endpoints already communicate
    through the rest of the network.

    Example::

        >>> import jax, jax.numpy as jnp
        >>> W = jnp.array([[0.0, 1.0], [1.0, 0.0]]); D = jnp.ones((2, 2)) - jnp.eye(2)
        >>> round(float(communicability_cost(W, D, lam=1.0)), 4)   # 2 * sinh(1)
        2.3504
        >>> bool(jnp.all(jnp.isfinite(jax.grad(communicability_cost)(W, D))))
        True
    """
    W = _weights(W)
    _strength(lam, "lam")
    D = _matrix_like(D, W, "D")
    # the published WDC penalty had no epsilon: under compat a zero-strength row gives NaN there
    C = communicability(W, reference_compat=reference_compat, epsilon=0.0)
    return jnp.asarray(lam, W.dtype) * jnp.sum(jnp.abs(W) * D * C)


def _offdiagonal(m) -> Any:
    n = m.shape[-1]
    return m[~np.eye(n, dtype=bool)]


def _numpy_argsort(x: np.ndarray) -> np.ndarray:
    return np.argsort(x, axis=-1).astype(np.int32)


def _sorted(x: jax.Array) -> jax.Array:
    """sort(x) along the last axis, differentiable (gradient routed back through the order).

    On CPU the order comes from NumPy through ``jax.pure_callback`` (XLA's CPU sort is ~5x
    slower on the ~10^5 values of a communicability matrix); elsewhere from ``jnp.argsort``.
    """
    keys = jax.lax.stop_gradient(x)
    if jax.default_backend() == "cpu":
        order = jax.pure_callback(_numpy_argsort, jax.ShapeDtypeStruct(x.shape, jnp.int32), keys,
                                  vmap_method="expand_dims")
    else:
        order = jnp.argsort(keys, axis=-1)
    return jnp.take_along_axis(x, order, axis=-1)


def _quantile_pairs(n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices into sorted u (n values) and v (m values), and weights, of W1's quantile integral.

    The quantile functions are step functions with breaks at i/n and j/m; on each piece of
    the union of those breaks both are constant. Integer arithmetic (units of 1/(n m)) keeps
    the breaks exact.
    """
    breaks = np.union1d(np.arange(n + 1, dtype=np.int64) * m, np.arange(m + 1, dtype=np.int64) * n)
    left = breaks[:-1]
    return left // m, left // n, np.diff(breaks) / (n * m)


def wasserstein_1d(u: jax.Array, v) -> jax.Array:
    """W1 distance between the empirical distributions of u and v (equal weights per value).

    W1 = integral_0^1 |F_u^-1(q) - F_v^-1(q)| dq, i.e. mean |sort(u) - sort(v)| for equal
    sizes, exact quantile matching otherwise. Equals ``scipy.stats.wasserstein_distance``.

    Example::

        >>> import jax.numpy as jnp
        >>> float(wasserstein_1d(jnp.array([0.0, 1.0, 3.0]), jnp.array([5.0, 6.0, 8.0])))
        5.0
    """
    u = jnp.ravel(u)
    u_sorted = _sorted(u)
    if isinstance(v, jax.Array):
        v_sorted = _sorted(jnp.ravel(v)).astype(u.dtype)
    else:  # a constant target: sort once in NumPy (at trace time under jit)
        v_sorted = jnp.asarray(np.sort(np.ravel(np.asarray(v))), dtype=u.dtype)
    n, m = u_sorted.shape[0], v_sorted.shape[0]
    if n == 0 or m == 0:
        raise ValueError("wasserstein_1d needs at least one value in each distribution")
    if n == m:
        return jnp.mean(jnp.abs(u_sorted - v_sorted))
    iu, iv, weight = _quantile_pairs(n, m)
    return jnp.sum(jnp.asarray(weight, u.dtype) * jnp.abs(u_sorted[iu] - v_sorted[iv]))


def communicability_emd(
    W: jax.Array, C_emp, lam_emd: float = 0.1, *, reference_compat: bool = False
) -> jax.Array:
    """Distribution match of communicability: lam_emd * W1(C(W)_{i != j}, C_emp_{i != j}).

    The W1 (earth mover's) distance compares the *distributions* of values, not matched
    pairs, so W and C_emp may have different sizes: off-diagonal values of both (a 1-D C_emp
    is taken as the values themselves), equal weight per value, exact quantile matching when
    the counts differ (:func:`wasserstein_1d`).

    ``reference_compat=True``: C(W) with 1e-10 added to strengths, and all N^2 entries of
    both matrices including the zero diagonal, as published (C_emp then must be (N, N); pass
    ``empirical_communicability(field, reference_compat=True)`` to reproduce the paper).

    Example::

        >>> import jax, jax.numpy as jnp
        >>> W = jnp.array([[0.0, 1.0], [1.0, 0.0]])
        >>> round(float(communicability_emd(W, jnp.zeros((2, 2)), lam_emd=1.0)), 4)  # sinh(1)
        1.1752
    """
    W = _weights(W)
    _strength(lam_emd, "lam_emd")
    C = communicability(W, reference_compat=reference_compat)
    target = getattr(C_emp, "values", C_emp)
    if not isinstance(target, jax.Array):
        target = np.asarray(target, dtype=np.float64)
    if reference_compat:
        if target.shape != W.shape:
            raise ValueError(f"reference_compat EMD compares all N^2 entries: C_emp must have "
                             f"W's shape {W.shape}, got {target.shape}")
        u, v = C, target
    else:
        if target.ndim == 2:
            if target.shape[0] != target.shape[1]:
                raise ValueError(f"C_emp must be a square matrix or 1-D values, got {target.shape}")
            target = _offdiagonal(target)
        elif target.ndim != 1:
            raise ValueError(f"C_emp must be a square matrix or 1-D values, got {target.shape}")
        u, v = _offdiagonal(C), target
    return jnp.asarray(lam_emd, W.dtype) * wasserstein_1d(u, v)
