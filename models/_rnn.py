"""The paper's rate RNN: input noise -> recurrent ReLU layer -> linear readout at the last step.

Discrete dynamics (Keras ``SimpleRNN``, the paper's network), ``W_rec`` indexed ``[pre, post]``::

    h_0 = 0,   h_t = relu(x_t W_in + h_{t-1} W_rec + b),   logits = h_T W_out + b_out

Leaky (continuous-time, Euler step ``alpha = dt / tau``)::

    h_t = (1 - alpha) h_{t-1} + alpha relu(x_t W_in + h_{t-1} W_rec + b)

Training adds Gaussian noise (``input_noise``, sigma ``DEFAULT_INPUT_NOISE``) to the inputs, as Keras'
``GaussianNoise`` layer does; evaluation never does.

Default initializers follow Keras: ``W_in`` and ``W_out`` glorot-uniform, ``W_rec`` orthogonal,
biases zero. The pure functions here (``init_params``, ``forward``) are what
:class:`connectome_priors.models.CorticalRNN` (``_module``) wraps as a brainstate module: ``forward``
is its ``forward_sequence`` (what training runs, ``loop="sequence"``), next to a per-step ``update``.

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
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from connectome_priors.priors._dale import (
    DEFAULT_EXC_FRACTION,
    balance_magnitudes,
    dale_signs,
    effective_dale,
    excitatory_mask,
    normalize_layout,
)
from connectome_priors.priors._signs import check_sign

DYNAMICS = ("discrete", "leaky")
#: std of the Gaussian input noise during training (Keras' ``GaussianNoise(0.05)`` of the paper)
DEFAULT_INPUT_NOISE = 0.05
ACTIVATIONS = ("relu", "tanh")
#: the largest spectral radius of a ``sign="nonneg"`` start (``RNNSpec.nonneg_rescale``): an orthogonal matrix's
NONNEG_MAX_SPECTRAL_RADIUS = 1.0


@dataclasses.dataclass(frozen=True)
class RNNSpec:
    """Architecture of the network (hashable, JSON-serializable; the ``W_rec`` initializer is separate).

    Attributes:
        n_hidden: number of recurrent units N.
        n_inputs, n_outputs: input channels and classes (``None``: taken from the task).
        dynamics: ``"discrete"`` (Keras SimpleRNN) or ``"leaky"`` (``alpha = dt / tau``).
        activation: ``"relu"`` (the paper's) or ``"tanh"``.
        dt, tau: Euler step and time constant of the leaky dynamics.
        sign: one of ``connectome_priors.priors.SIGNS``: ``"free"``, ``"nonneg"`` (projection
            ``max(W, 0)`` after each step) or ``"dale"`` (``W = |V| * sign[pre]``, balanced start).
        exc_fraction: the Dale layout for ``sign="dale"`` (``connectome_priors.priors._dale``): a
            fraction in (0, 1] -- the first ``round(f N)`` units are excitatory -- or a boolean
            excitatory mask of length ``n_hidden`` (stored as a tuple).
        input_noise: std of the Gaussian noise added to the inputs during training only.
        nonneg_rescale: with ``sign="nonneg"``, start from a matrix the projection keeps stable: the drawn
            ``W_rec`` is projected (``max(W, 0)``) and, when its spectral radius then exceeds
            :data:`NONNEG_MAX_SPECTRAL_RADIUS` (an orthogonal draw's 1.0 becomes about 7 for N = 312),
            rescaled down to it (default). ``False`` is the Keras / paper behaviour
            (``reference_compat``): the signed draw is used as is and the first projection after step 1
            raises its spectral radius, which makes long trials diverge.

    Raises:
        ValueError: a bad size, dynamics, activation, sign, Dale layout, ``dt / tau`` or noise.

    Example:
        >>> RNNSpec(n_hidden=4, sign="dale", exc_fraction=[True, False, True, True]).exc_fraction
        (True, False, True, True)
        >>> RNNSpec(n_hidden=4, sign="positive")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: sign='positive' is not one of ('free', 'nonneg', 'dale') (...)
    """

    n_hidden: int
    n_inputs: int | None = None
    n_outputs: int | None = None
    dynamics: str = "discrete"
    activation: str = "relu"
    dt: float = 20.0
    tau: float = 100.0
    sign: str = "free"
    exc_fraction: float | tuple[bool, ...] = DEFAULT_EXC_FRACTION
    input_noise: float = DEFAULT_INPUT_NOISE
    nonneg_rescale: bool = True

    def __post_init__(self) -> None:
        if int(self.n_hidden) < 1:
            raise ValueError(f"n_hidden must be a positive integer, got {self.n_hidden}")
        if self.dynamics not in DYNAMICS:
            raise ValueError(f"dynamics={self.dynamics!r} is not one of {DYNAMICS}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation={self.activation!r} is not one of {ACTIVATIONS}")
        check_sign(self.sign)
        # hashable and JSON-ready (a mask becomes a tuple); checked against n_hidden when it is used
        object.__setattr__(self, "exc_fraction", normalize_layout(
            self.exc_fraction, int(self.n_hidden) if self.sign == "dale" else None))
        if self.dynamics == "leaky" and not 0.0 < self.dt / self.tau <= 1.0:
            raise ValueError(f"dt/tau must be in (0, 1], got dt={self.dt}, tau={self.tau}")
        if self.input_noise < 0:
            raise ValueError(f"input_noise must be >= 0, got {self.input_noise}")

    @property
    def alpha(self) -> float:
        """The Euler factor: 1 for discrete dynamics, ``dt / tau`` for leaky ones."""
        return 1.0 if self.dynamics == "discrete" else float(self.dt) / float(self.tau)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (``from_dict`` reads it back)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RNNSpec:
        """The spec of a :meth:`to_dict` dict (a mask read back from JSON as a list becomes a tuple again)."""
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

    Args:
        init: ``None`` (orthogonal, Keras' default), an array (N, N) (used as is), an object
            with ``with_seed(seed)`` (e.g. ``MICrONSInit``), a braintools initializer (called with
            ``rng=brainstate.random.RandomState(seed)``), a brainpy initializer (a copy with its
            ``rng`` reseeded), or a plain callable ``seed -> (N, N) array``.
        n: number of recurrent units N.
        seed: the run seed.

    Returns:
        A float32 (N, N) numpy array, indexed [pre, post].

    Raises:
        TypeError: ``init`` is none of the above.
        ValueError: it gave another shape than (N, N).

    Example:
        >>> w = draw_w_rec(None, 4, seed=0)
        >>> w.shape, bool(np.allclose(w @ w.T, np.eye(4), atol=1e-5))
        ((4, 4), True)
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


def stable_nonneg(w: np.ndarray, max_radius: float | None = None) -> np.ndarray:
    """``max(W, 0)``, scaled down to spectral radius ``max_radius`` when the projection left it above.

    ``W' = max(W, 0) · min(1, r / ρ(max(W, 0)))`` with ``r`` = ``max_radius`` (default
    :data:`NONNEG_MAX_SPECTRAL_RADIUS`, an orthogonal matrix's radius) and ρ the spectral radius.

    Args:
        w: a square matrix.
        max_radius: the largest spectral radius kept.

    Returns:
        The float32 nonnegative matrix.

    Example:
        >>> import scipy.stats
        >>> q = scipy.stats.ortho_group.rvs(50, random_state=0)
        >>> rho = lambda m: float(max(abs(np.linalg.eigvals(m))))
        >>> rho(np.maximum(q, 0)) > 2, round(rho(stable_nonneg(q)), 4)
        (True, 1.0)
    """
    r = NONNEG_MAX_SPECTRAL_RADIUS if max_radius is None else float(max_radius)
    w = np.maximum(np.asarray(w, np.float64), 0.0)
    rho = float(np.max(np.abs(np.linalg.eigvals(w)))) if w.size else 0.0
    if rho > r:
        w = w * (r / rho)
    return w.astype(np.float32)


def init_params(spec: RNNSpec, seed: int, w_rec_init: Any = None) -> dict[str, jax.Array]:
    """Initial parameters for one seed: ``w_in, w_rec, b, w_out, b_out`` (float32).

    ``W_in`` and ``W_out`` glorot-uniform from ``PRNGKey(seed)``, biases zero, ``W_rec`` from
    :func:`draw_w_rec`. For ``sign="dale"``, ``w_rec`` holds the parameter ``V``: the balanced
    magnitudes of the drawn matrix (``connectome_priors.priors._dale.balance_magnitudes``), see
    :func:`effective_w_rec`.

    Args:
        spec: the architecture, with ``n_inputs`` and ``n_outputs`` set.
        seed: the run seed.
        w_rec_init: see :func:`draw_w_rec`. With ``sign="dale"``, an initializer that applies
            Dale's law itself (``MICrONSInit(dale=...)``) must use the spec's layout.

    Returns:
        The parameter dict (float32 JAX arrays).

    Raises:
        ValueError: ``n_inputs``/``n_outputs`` unset, a badly shaped init, or a Dale initializer
            whose excitatory rows differ from the spec's.

    Example:
        >>> p = init_params(RNNSpec(n_hidden=4, n_inputs=2, n_outputs=3), seed=0)
        >>> {k: v.shape for k, v in p.items()}
        {'w_in': (2, 4), 'w_rec': (4, 4), 'b': (4,), 'w_out': (4, 3), 'b_out': (3,)}
    """
    if spec.n_inputs is None or spec.n_outputs is None:
        raise ValueError("spec.n_inputs and spec.n_outputs must be set to initialize parameters")
    n, c, k = int(spec.n_hidden), int(spec.n_inputs), int(spec.n_outputs)
    key = jax.random.PRNGKey(int(seed))
    k_in, k_out = jax.random.split(jax.random.fold_in(key, 1))
    init_meta = getattr(w_rec_init, "metadata", None)
    if spec.sign == "dale" and isinstance(init_meta, dict) and init_meta.get("sign") == "dale":
        # |V| * sign re-signs the rows by the spec's layout: an initializer's other E/I rows would be lost
        if not np.array_equal(excitatory_mask(n, init_meta["dale"]), excitatory_mask(n, spec.exc_fraction)):
            raise ValueError("sign='dale': the initializer's excitatory rows (dale=...) differ from the spec's "
                             "exc_fraction; give both the same layout, pass an initializer without dale=, or use "
                             "sign='free' to keep the initializer's Dale matrix as is")
    w_rec = draw_w_rec(w_rec_init, n, seed)
    if spec.sign == "nonneg" and spec.nonneg_rescale:
        w_rec = stable_nonneg(w_rec)
    if spec.sign == "dale":
        w_rec = balance_magnitudes(w_rec, spec.exc_fraction).astype(np.float32)
    return {
        "w_in": _glorot_uniform(k_in, (c, n)),
        "w_rec": jnp.asarray(w_rec, jnp.float32),
        "b": jnp.zeros((n,), jnp.float32),
        "w_out": _glorot_uniform(k_out, (n, k)),
        "b_out": jnp.zeros((k,), jnp.float32),
    }


def effective_w_rec(params: dict[str, jax.Array], spec: RNNSpec) -> jax.Array:
    """The recurrent matrix the network uses, indexed [pre, post].

    Args:
        params: the parameter dict (``w_rec`` is read).
        spec: the architecture.

    Returns:
        ``|V| * sign[:, None]`` for ``sign="dale"`` (``connectome_priors.priors._dale.effective_dale``), else ``w_rec``.
    """
    if spec.sign == "dale":
        sign = jnp.asarray(dale_signs(int(spec.n_hidden), spec.exc_fraction), params["w_rec"].dtype)
        return effective_dale(params["w_rec"], sign)
    return params["w_rec"]


def project(params: dict[str, jax.Array], spec: RNNSpec) -> dict[str, jax.Array]:
    """The constraint applied after each optimizer step: ``w_rec <- max(w_rec, 0)`` for
    ``sign="nonneg"`` (Keras ``NonNeg``), else the parameters unchanged.

    Args:
        params: the parameter dict (other entries pass through).
        spec: the architecture.

    Returns:
        The projected parameter dict.
    """
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


@functools.cache
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


@functools.cache
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


def recur(u: jax.Array, w: jax.Array, alpha: float = 1.0, activation: str = "relu") -> jax.Array:
    """All hidden states of the recurrence, with the hand-written backward pass.

    Args:
        u: input drive ``x_t W_in + b``, time-major (T, B, N).
        w: ``W_rec`` (N, N), indexed [pre, post].
        alpha: Euler factor (1 discrete, ``dt / tau`` leaky).
        activation: ``"relu"`` or ``"tanh"``.

    Returns:
        The states ``h_1 .. h_T`` (T, B, N) from ``h_0 = 0``.

    Example:
        >>> recur(jnp.ones((3, 1, 2)), jnp.zeros((2, 2)))[:, 0, 0].tolist()
        [1.0, 1.0, 1.0]
    """
    return _make_recur(float(alpha), activation)(u, w)


def forward(params: dict[str, jax.Array], x: jax.Array, spec: RNNSpec,
            noise_key: jax.Array | None = None) -> jax.Array:
    """Logits at the last step: the network on a whole sequence (hand-written gradient, see :func:`recur`).

    Args:
        params: the parameter dict (:func:`init_params`).
        x: inputs (B, T, C).
        spec: the architecture.
        noise_key: when given, ``spec.input_noise`` times standard normal noise is added to ``x`` (training).

    Returns:
        Logits (B, K) of ``h_T``.
    """
    if noise_key is not None and spec.input_noise > 0:
        x = x + spec.input_noise * jax.random.normal(noise_key, x.shape, x.dtype)
    w = effective_w_rec(params, spec)
    # input drive for all steps in one matmul, time-major for the scan
    u = jnp.einsum("btc,cn->tbn", x, params["w_in"]) + params["b"]
    h_last = _make_recur_last(float(spec.alpha), spec.activation)(u, w)
    return h_last @ params["w_out"] + params["b_out"]
