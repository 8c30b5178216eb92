"""Weighted communicability (Estrada; Crofts & Higham normalisation, as in seRNN).

    C = expm(S^{-1/2} |W| S^{-1/2}),   S = diag(s),   s_i = sum_j |W_ij|,   C_ii := 0

with W[pre, post] (rows presynaptic), so s_i is the *out*-strength of neuron i (row sums of
|W|, the axis the seRNN and the published notebook use). C_ij sums all walks i -> j, longer
walks discounted by 1/k!, each step normalised by the strengths of its end nodes.

Zero-strength rule (default). A neuron with s_i = 0 has no outgoing weight; it gets
S^{-1/2}_ii = 0, so it also contributes none of its incoming edges: it is isolated in the
normalised graph and its row and column of C are 0. (Any finite stand-in such as 1e-10 instead
multiplies its incoming edges by 1e5 and makes C explode.) The rule is implemented with a
double ``where`` so gradients stay finite at s_i = 0 (there the gradient is the subgradient 0:
the rule is discontinuous at s_i = 0, so a finite difference across it does not apply). A
consequence worth knowing: weights *into* a silent neuron get C = 0, so
``communicability_cost`` does not penalise them (``wiring_cost`` still does).

``reference_compat=True`` reproduces the published code: online, ``epsilon`` is added to every
strength (1e-10 in ``WDC_EMD``; the published ``WDC`` had no epsilon at all, which gives inf/NaN
at a zero-strength row: ``communicability_cost`` passes ``epsilon=0``); for the empirical matrix, zero strengths are
replaced by 1e-10 (mean C_emp about 129 on field 6_6_2 instead of about 0.001).

Computation. With P = S^-1 |W| (each row of P sums to 1, or to 0 for a zero-strength row),
S^-1/2 |W| S^-1/2 = S^1/2 P S^-1/2, hence C = S^1/2 expm(P) S^-1/2. Because ||P||_inf <= 1,
a degree-11 Taylor polynomial (18 in float64; Paterson-Stockmeyer, 5 matrix products) is
accurate to float32 precision without any scaling-and-squaring: no linear solve, no
data-dependent branches, no NaN for large norms, the same cost under ``jax.vmap``, and
gradients are plain matrix-product adjoints.
"""

from __future__ import annotations

import math
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg
import xarray as xr
from jax import lax

from connectome_priors._compat import compat_attrs

REFERENCE_EPSILON = 1e-10  # the published stand-in for a zero strength


def _taylor_degree(dtype) -> int:
    # ||P||_inf <= 1: truncation error <= e / (m+1)!, below the dtype's epsilon.
    return 18 if jnp.dtype(dtype) == jnp.float64 else 11


def _taylor_exp(x: jax.Array, degree: int) -> jax.Array:
    """sum_{k<=degree} x^k / k! by Paterson-Stockmeyer (about 2 sqrt(degree) products)."""
    n = x.shape[-1]
    block = max(2, math.ceil(math.sqrt(degree + 1)))
    powers = [jnp.eye(n, dtype=x.dtype), x]
    for _ in range(block - 1):
        powers.append(powers[-1] @ x)
    top = powers[block]
    coef = [1.0 / math.factorial(k) for k in range(degree + 1)]

    def chunk(j):
        terms = [coef[j * block + i] * powers[i] for i in range(block) if j * block + i <= degree]
        return sum(terms[1:], terms[0])

    n_chunks = degree // block + 1
    result = chunk(n_chunks - 1)
    for j in range(n_chunks - 2, -1, -1):
        result = chunk(j) + top @ result
    return result


def _check_square(name: str, a, ndim: int = 2) -> None:
    shape = getattr(a, "shape", None)
    if shape is None or len(shape) != ndim or shape[-1] != shape[-2]:
        raise ValueError(f"{name} must be a square (N, N) matrix, got shape {shape}")


def communicability(
    W: jax.Array, *, reference_compat: bool = False, epsilon: float = REFERENCE_EPSILON
) -> jax.Array:
    """Weighted communicability C = expm(S^-1/2 |W| S^-1/2), diagonal zeroed (module docstring).

    Args:
        W: (N, N) weights [pre, post]; strengths are row sums of |W|. float32 in -> float32
            out. Use ``jax.vmap`` for a batch of matrices.
        reference_compat: add ``epsilon`` to every strength, as the published code does online,
            instead of isolating zero-strength neurons.
        epsilon: the compat stand-in (1e-10 in the published EMD penalty; the published
            communicability penalty used none, ``epsilon=0``, so a zero-strength row gives NaN).
            Ignored unless ``reference_compat``.

    Example::

        >>> import jax.numpy as jnp
        >>> W = jnp.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
        >>> C = communicability(W)   # neuron 2 has no strength: row/column 2 are zero
        >>> round(float(C[0, 1]), 4), float(C[2, 0])
        (1.1752, 0.0)
    """
    W = jnp.asarray(W)
    if not jnp.issubdtype(W.dtype, jnp.floating):
        W = W.astype(jnp.result_type(float))
    _check_square("W", W)
    a = jnp.abs(W)
    strength = jnp.sum(a, axis=1)
    if reference_compat:
        strength = strength + jnp.asarray(epsilon, a.dtype)
        inv = 1.0 / strength
        left, right = jnp.sqrt(strength), lax.rsqrt(strength)
    else:
        positive = strength > 0
        safe = jnp.where(positive, strength, 1.0)  # double where: finite gradients at s = 0
        inv = jnp.where(positive, 1.0 / safe, 0.0)
        left = jnp.where(positive, jnp.sqrt(safe), 0.0)
        right = jnp.where(positive, lax.rsqrt(safe), 0.0)
        a = a * positive[None, :]  # a zero-strength neuron keeps none of its incoming edges
    transition = inv[:, None] * a  # P = S^-1 |W|: rows sum to <= 1
    c = left[:, None] * _taylor_exp(transition, _taylor_degree(a.dtype)) * right[None, :]
    return c * (1 - jnp.eye(c.shape[-1], dtype=c.dtype))


def communicability_numpy(a: np.ndarray, *, reference_compat: bool = False) -> np.ndarray:
    """float64 NumPy/SciPy twin of :func:`communicability` with the empirical zero rule.

    Default: zero strengths -> S^-1/2 = 0 (same rule as online). ``reference_compat``: zero
    strengths replaced by 1e-10, as the published empirical C_emp.
    """
    a = np.abs(np.asarray(a, dtype=np.float64))
    _check_square("connectome", a)
    strength = a.sum(axis=1)
    if reference_compat:
        inv_sqrt = np.where(strength == 0, REFERENCE_EPSILON, strength) ** -0.5
    else:
        inv_sqrt = np.zeros_like(strength)
        np.divide(1.0, np.sqrt(strength), out=inv_sqrt, where=strength > 0)
    c = scipy.linalg.expm(inv_sqrt[:, None] * a * inv_sqrt[None, :])
    np.fill_diagonal(c, 0.0)
    return c


def empirical_communicability(
    field: xr.Dataset | str,
    *,
    reference_compat: bool = False,
    data_dir: str | os.PathLike | None = None,
    neurons: Any = None,
) -> xr.DataArray:
    """Communicability of a field's EM synapse-count matrix (``connectome`` [pre, post]).

    Same formula and zero-strength rule as :func:`communicability`, in float64 with SciPy.
    ``reference_compat=True`` replaces zero strengths by 1e-10 (the published C_emp).

    Args:
        field: a Dataset from ``load_field`` or a field id such as ``"6_6_2"``.
        reference_compat: the published zero-strength stand-in (see above).
        data_dir: where the field lives, when ``field`` is an id.
        neurons: only these neurons, in this order: a sequence of neuron ids (the field's ``neuron``
            coordinate) or a ``MICrONSInit`` (its ``selected_neurons()``). The connectome is
            restricted to them *before* the communicability is computed (the sub-circuit's own
            walks and strengths), as a model of those neurons sees it. ``None``: all.

    Returns:
        float64 DataArray C (pre, post), diagonal 0, with the field's neuron ids as coordinates.

    Raises:
        ValueError: the field has no finite ``connectome``, or a selection that is not neurons of the
            field (see :func:`~connectome_priors.priors.select_neurons`).

    Example::

        >>> import connectome_priors as cp
        >>> C_emp = cp.empirical_communicability("5_3_8")
        >>> C_emp.dims, C_emp.shape
        (('pre', 'post'), (42, 42))
        >>> init = cp.MICrONSInit("5_3_8", n_neurons=12, seed=0)
        >>> cp.empirical_communicability("5_3_8", neurons=init).shape
        (12, 12)
    """
    from ._field_arg import as_field
    from ._functional_init import select_neurons

    ds = select_neurons(as_field(field, data_dir), neurons)
    if "connectome" not in ds:
        raise ValueError("field has no 'connectome' variable (synapse counts [pre, post])")
    conn = ds["connectome"].transpose("pre", "post")
    counts = np.asarray(conn.values, dtype=np.float64)
    if not np.all(np.isfinite(counts)):
        raise ValueError("field 'connectome' contains NaN or inf")
    c = communicability_numpy(counts, reference_compat=reference_compat)
    attrs = {
        "field": str(ds.attrs.get("field", "")),
        "strength": "row sums of |connectome| (out-strength)",
        "zero_strength_rule": "replaced by 1e-10" if reference_compat else "isolated (S^-1/2 = 0)",
        **compat_attrs(reference_compat),
    }
    return xr.DataArray(c, dims=("pre", "post"), coords=dict(conn.coords), attrs=attrs,
                        name="communicability")
