"""The paper's rate RNN: input noise -> recurrent ReLU layer -> linear readout at the last step.

Discrete dynamics (Keras ``SimpleRNN``, the paper's network), ``W_rec`` indexed ``[pre, post]``::

    h_0 = 0,   h_t = relu(x_t W_in + h_{t-1} W_rec + b),   logits = h_T W_out + b_out

Leaky (continuous-time, Euler step ``alpha = dt / tau``)::

    h_t = (1 - alpha) h_{t-1} + alpha relu(x_t W_in + h_{t-1} W_rec + b)

Training adds Gaussian noise (``input_noise``, sigma = 0.05 by default) to the inputs, as Keras'
``GaussianNoise`` layer does; evaluation never does.

Default initializers follow Keras: ``W_in`` and ``W_out`` glorot-uniform, ``W_rec`` orthogonal,
biases zero. The pure functions here (``init_params``, ``forward``) are what training jits and
vmaps; :class:`models.CorticalRNN` (``connectome_priors.models._module``) is the same network as a brainstate
module with a per-step ``update``.

Example::

    >>> import jax.numpy as jnp
    >>> spec = RNNSpec(n_hidden=8, n_inputs=3, n_outputs=2)
    >>> params = init_params(spec, seed=0)
    >>> forward(params, jnp.zeros((4, 10, 3)), spec).shape
    (4, 2)
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._constraints import check_sign_mode, dale_init, dale_signs, effective_dale

DYNAMICS = ("discrete", "leaky")
ACTIVATIONS = ("relu", "tanh")


@dataclasses.dataclass(frozen=True)
class RNNSpec:
    """Architecture of the network (JSON-serializable; the ``W_rec`` initializer is separate).

    n_hidden: number of recurrent units N.
    n_inputs, n_outputs: input channels and classes (``None``: taken from the task).
    dynamics: ``"discrete"`` (Keras SimpleRNN) or ``"leaky"`` (``alpha = dt / tau``).
    sign: ``"free"``, ``"nonneg"`` (projection after each step) or ``"dale"`` (parametrized).
    exc_fraction: fraction of excitatory units for ``sign="dale"``.
    input_noise: std of the Gaussian noise added to the inputs during training only.
    """

    n_hidden: int
    n_inputs: int | None = None
    n_outputs: int | None = None
    dynamics: str = "discrete"
    activation: str = "relu"
    dt: float = 20.0
    tau: float = 100.0
    sign: str = "free"
    exc_fraction: float = 0.8
    input_noise: float = 0.05

    def __post_init__(self):
        if int(self.n_hidden) < 1:
            raise ValueError(f"n_hidden must be a positive integer, got {self.n_hidden}")
        if self.dynamics not in DYNAMICS:
            raise ValueError(f"dynamics={self.dynamics!r} is not one of {DYNAMICS}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation={self.activation!r} is not one of {ACTIVATIONS}")
        check_sign_mode(self.sign)
        if self.dynamics == "leaky" and not 0.0 < self.dt / self.tau <= 1.0:
            raise ValueError(f"dt/tau must be in (0, 1], got dt={self.dt}, tau={self.tau}")
        if self.input_noise < 0:
            raise ValueError(f"input_noise must be >= 0, got {self.input_noise}")

    @property
    def alpha(self) -> float:
        return 1.0 if self.dynamics == "discrete" else float(self.dt) / float(self.tau)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> RNNSpec:
        return cls(**d)


# ---------------------------------------------------------------------------------------------
# initializers


def _glorot_uniform(key, shape) -> jax.Array:
    limit = np.sqrt(6.0 / (shape[0] + shape[1]))
    return jax.random.uniform(key, shape, jnp.float32, -limit, limit)


def _is_shape_initializer(init) -> bool:
    """braintools / brainpy initializers are called with a shape; other callables with a seed."""
    try:
        import braintools

        if isinstance(init, (braintools.init.Initialization, braintools.init.Initializer)):
            return True
    except Exception:  # pragma: no cover - optional
        pass
    try:
        import brainpy

        if isinstance(init, brainpy.init.Initializer):
            return True
    except Exception:  # pragma: no cover - optional
        pass
    return False


def draw_w_rec(init: Any, n: int, seed: int) -> np.ndarray:
    """The initial recurrent matrix (N, N) for one seed.

    ``init`` may be ``None`` (orthogonal, Keras' default), an array (N, N) (used as is), an object
    with ``with_seed(seed)`` (e.g. ``MICrONSInit``), a braintools initializer (called with
    ``rng=brainstate.random.RandomState(seed)``), a brainpy initializer (a copy with its ``rng``
    reseeded), or a plain callable ``seed -> (N, N) array``.
    """
    if init is None:
        import braintools

        init = braintools.init.Orthogonal()
    if hasattr(init, "with_seed"):
        w = init.with_seed(int(seed))((n, n))
    elif isinstance(init, (np.ndarray, jax.Array)):
        w = init
    elif _is_shape_initializer(init):
        import braintools

        if isinstance(init, (braintools.init.Initialization, braintools.init.Initializer)):
            import brainstate

            w = init((n, n), rng=brainstate.random.RandomState(int(seed)))
        else:  # brainpy initializers carry their own RNG: reseed a copy for determinism
            import brainpy

            init = copy.copy(init)
            if hasattr(init, "rng"):
                init.rng = brainpy.math.random.RandomState(int(seed))
            w = init((n, n))
    elif callable(init):
        w = init(int(seed))
    else:
        raise TypeError(f"w_rec_init must be None, an array, an initializer or a callable, got {type(init)}")
    w = np.asarray(getattr(w, "value", w), dtype=np.float32)
    if w.shape != (n, n):
        raise ValueError(f"w_rec_init gave shape {w.shape}, expected ({n}, {n}) for n_hidden={n}")
    return w


def init_params(spec: RNNSpec, seed: int, w_rec_init: Any = None) -> dict[str, jax.Array]:
    """Initial parameters for one seed: ``w_in, w_rec, b, w_out, b_out`` (float32).

    For ``sign="dale"``, ``w_rec`` holds the parameter ``V`` (see ``effective_w_rec``).
    """
    if spec.n_inputs is None or spec.n_outputs is None:
        raise ValueError("spec.n_inputs and spec.n_outputs must be set to initialize parameters")
    n, c, k = int(spec.n_hidden), int(spec.n_inputs), int(spec.n_outputs)
    key = jax.random.PRNGKey(int(seed))
    k_in, k_out = jax.random.split(jax.random.fold_in(key, 1))
    if spec.sign == "dale" and getattr(w_rec_init, "metadata", {}).get("dale") is not None:
        # the model's Dale parametrization assigns E/I rows itself; an initializer's own E/I
        # assignment would be silently discarded by |V| * sign
        raise ValueError("sign='dale' re-signs W_rec by the model's E/I rows: pass an initializer "
                         "without dale= (e.g. MICrONSInit(sign='nonneg')), or use sign='free' to keep "
                         "the initializer's Dale matrix as is")
    w_rec = draw_w_rec(w_rec_init, n, seed)
    if spec.sign == "dale":
        w_rec = dale_init(w_rec, dale_signs(n, spec.exc_fraction))
    return {
        "w_in": _glorot_uniform(k_in, (c, n)),
        "w_rec": jnp.asarray(w_rec, jnp.float32),
        "b": jnp.zeros((n,), jnp.float32),
        "w_out": _glorot_uniform(k_out, (n, k)),
        "b_out": jnp.zeros((k,), jnp.float32),
    }


def effective_w_rec(params: dict, spec: RNNSpec) -> jax.Array:
    """The recurrent matrix the network uses (``|V| * sign`` for Dale, else ``w_rec``)."""
    if spec.sign == "dale":
        sign = jnp.asarray(dale_signs(int(spec.n_hidden), spec.exc_fraction), params["w_rec"].dtype)
        return effective_dale(params["w_rec"], sign)
    return params["w_rec"]


def project(params: dict, spec: RNNSpec) -> dict:
    """Constraint applied after each optimizer step (Keras ``NonNeg`` for ``sign="nonneg"``)."""
    if spec.sign == "nonneg":
        return {**params, "w_rec": jnp.maximum(params["w_rec"], 0.0)}
    return params


# ---------------------------------------------------------------------------------------------
# recurrence with a hand-written backward pass: the weight gradient is one big matmul over all
# time steps (H_prev^T Delta) instead of T small ones inside the backward scan.


def _act(z, activation):
    return jnp.maximum(z, 0.0) if activation == "relu" else jnp.tanh(z)


def _act_grad_from_output(r, activation):
    return (r > 0).astype(r.dtype) if activation == "relu" else 1.0 - r * r


def _recur_fwd_impl(u, w, alpha, activation):
    """u: (T, B, N) input drive (x W_in + b); returns all states (T, B, N) and activations."""
    h0 = jnp.zeros(u.shape[1:], u.dtype)

    if alpha == 1.0:  # discrete: the state is the activation, store it once
        def step1(h, u_t):
            h_new = _act(u_t + h @ w, activation)
            return h_new, h_new

        _, hs = jax.lax.scan(step1, h0, u)
        return hs, hs

    def step(h, u_t):
        r = _act(u_t + h @ w, activation)
        h_new = (1.0 - alpha) * h + alpha * r
        return h_new, (h_new, r)

    _, (hs, rs) = jax.lax.scan(step, h0, u)
    return hs, rs


def _make_recur(alpha: float, activation: str):
    @jax.custom_vjp
    def recur(u, w):
        return _recur_fwd_impl(u, w, alpha, activation)[0]

    def fwd(u, w):
        hs, rs = _recur_fwd_impl(u, w, alpha, activation)
        return hs, (hs, rs, w)

    def bwd(res, dhs):
        hs, rs, w = res
        dpre_scale = _act_grad_from_output(rs, activation)
        w_t = w.T

        def step(carry, inp):
            dh_t, g_t = inp
            g = dh_t + carry  # total gradient reaching h_t
            delta = alpha * g * g_t  # gradient at the pre-activation
            carry = delta @ w_t if alpha == 1.0 else (1.0 - alpha) * g + delta @ w_t
            return carry, delta

        _, deltas = jax.lax.scan(step, jnp.zeros_like(hs[0]), (dhs, dpre_scale), reverse=True)
        h_prev = jnp.concatenate([jnp.zeros_like(hs[:1]), hs[:-1]], axis=0)
        n = w.shape[0]
        dw = h_prev.reshape(-1, n).T @ deltas.reshape(-1, n)
        return deltas, dw

    recur.defvjp(fwd, bwd)
    return recur


def _make_recur_last(alpha: float, activation: str):
    """Like ``recur`` but returns only the last state: evaluation stores no (T, B, N) history."""

    def last_only(u, w):
        def step(h, u_t):
            r = _act(u_t + h @ w, activation)
            return (r if alpha == 1.0 else (1.0 - alpha) * h + alpha * r), None

        return jax.lax.scan(step, jnp.zeros(u.shape[1:], u.dtype), u)[0]

    @jax.custom_vjp
    def recur_last(u, w):
        return last_only(u, w)

    def fwd(u, w):
        hs, rs = _recur_fwd_impl(u, w, alpha, activation)
        return hs[-1], (hs, rs, w)

    def bwd(res, dh_last):
        hs, rs, w = res
        w_t = w.T

        def step(g, r_t):  # g: total gradient reaching h_t
            delta = alpha * g * _act_grad_from_output(r_t, activation)
            g_prev = delta @ w_t if alpha == 1.0 else (1.0 - alpha) * g + delta @ w_t
            return g_prev, delta

        _, deltas = jax.lax.scan(step, dh_last, rs, reverse=True)
        h_prev = jnp.concatenate([jnp.zeros_like(hs[:1]), hs[:-1]], axis=0)
        n = w.shape[0]
        dw = h_prev.reshape(-1, n).T @ deltas.reshape(-1, n)
        return deltas, dw

    recur_last.defvjp(fwd, bwd)
    return recur_last


_RECUR_CACHE: dict[tuple, Callable] = {}


def recur(u: jax.Array, w: jax.Array, alpha: float = 1.0, activation: str = "relu") -> jax.Array:
    """All hidden states (T, B, N) for input drive ``u`` (T, B, N) and ``W_rec`` ``w`` (N, N)."""
    key = (float(alpha), activation)
    if key not in _RECUR_CACHE:
        _RECUR_CACHE[key] = _make_recur(*key)
    return _RECUR_CACHE[key](u, w)


def forward(params: dict, x: jax.Array, spec: RNNSpec, noise_key: jax.Array | None = None) -> jax.Array:
    """Logits (B, K) at the last step for inputs ``x`` (B, T, C); noise only if ``noise_key``."""
    if noise_key is not None and spec.input_noise > 0:
        x = x + spec.input_noise * jax.random.normal(noise_key, x.shape, x.dtype)
    w = effective_w_rec(params, spec)
    # input drive for all steps in one matmul, time-major for the scan
    u = jnp.einsum("btc,cn->tbn", x, params["w_in"]) + params["b"]
    key = ("last", float(spec.alpha), spec.activation)
    if key not in _RECUR_CACHE:
        _RECUR_CACHE[key] = _make_recur_last(*key[1:])
    h_last = _RECUR_CACHE[key](u, w)
    return h_last @ params["w_out"] + params["b_out"]
