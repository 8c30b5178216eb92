"""``CorticalRNN``: the paper's network as a brainstate dynamical system.

One object, two ways to run it:

* per step (the brainstate way): ``model.init_state(batch_size)`` creates the hidden state
  ``model.h`` (a ``brainstate.HiddenState`` of shape (B, N), zeros); ``model.update(x_t)`` (or
  ``model(x_t)`` with a 2-D ``x_t`` (B, C)) advances it by one step and returns the logits
  ``h_t W_out + b_out`` (B, K) of the new state; ``model.reset_state(batch_size)`` zeroes it.
  This runs under ``brainstate.transform.for_loop`` / ``brainstate.transform.jit`` like any
  brainstate module; :func:`models.train` runs it with ``loop="step"``.
* whole sequence: ``model(x)`` with a 3-D ``x`` (B, T, C), or ``model.forward_sequence(x)``,
  returns the logits at the last step (B, K) from ``h_0 = 0`` using the hand-written-gradient
  recurrence of :func:`models.forward`. It does not touch ``model.h``. :func:`models.train`
  uses it (``loop="sequence"``, the default for a module that has it).

``models.train(RNNSpec(...), task)`` trains this module: it is ``models.train(CorticalRNN.factory(spec),
task)``, through the same loop as any user module.

Dynamics (``W_rec`` indexed [pre, post], ``alpha = 1`` discrete, ``dt / tau`` leaky)::

    h_t = (1 - alpha) h_{t-1} + alpha act(x_t W_in + h_{t-1} W_rec + b)

Signs as :class:`models.RNNSpec`: ``"free"``; ``"nonneg"`` (the trainer projects ``w_rec`` to
``max(w_rec, 0)`` after every step through :meth:`CorticalRNN.project_params`); ``"dale"``
(``w_rec`` holds ``V`` and the network uses ``W_rec = |V| * sign[pre]``).

Example (per step under ``brainstate.transform.for_loop``)::

    >>> import brainstate, jax.numpy as jnp
    >>> from connectome_priors.models import CorticalRNN, RNNSpec
    >>> m = CorticalRNN(RNNSpec(n_hidden=6, n_inputs=2, n_outputs=2, dynamics="leaky"), seed=0)
    >>> m.init_state(batch_size=3)
    >>> xs = jnp.ones((5, 3, 2))                          # time-major for for_loop
    >>> logits = brainstate.transform.for_loop(m.update, xs)
    >>> logits.shape, m.h.value.shape
    ((5, 3, 2), (3, 6))
    >>> bool(jnp.allclose(logits[-1], m(jnp.ones((3, 5, 2))), atol=1e-5))   # == forward_sequence
    True

BrainPy's ``bp.DSRunner`` (brainpy 2.8.2) does not take this module directly: its constructor
refuses any target that is not a ``brainpy.DynamicalSystem`` (``RunningError: "target" must be an
instance of DynamicalSystem``), and a ``brainstate.nn.Module`` is not one (brainpy 2.8.2's
``DynamicalSystem`` derives from ``BrainPyObject``, not from ``brainstate.nn.Module``). A class
deriving from both can be constructed and passes that check, but it would mix brainpy's variable
registry (``vars()``) with brainstate's graph of states, which is untested across brainpy's
transforms, so ``CorticalRNN`` stays a plain brainstate module. The supported brainpy route is
:func:`models.as_brainpy` (``_brainpy``), a thin ``brainpy.DynamicalSystem`` wrapper whose
``update`` calls the module's (brainpy 2.8.2's variables are brainstate ``State`` objects;
``DSRunner`` on the wrapper steps the module's hidden state and gives the same logits as
``forward_sequence``, see ``tests/test_module_training.py``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import brainstate
import jax
import jax.numpy as jnp

from ._rnn import RNNSpec, _act, effective_w_rec, forward, init_params, project

PARAM_NAMES = ("w_in", "w_rec", "b", "w_out", "b_out")


class CorticalRNN(brainstate.nn.Module):
    """The paper's rate RNN as a ``brainstate.nn.Module`` (parameters ``brainstate.ParamState``,
    hidden state ``brainstate.HiddenState``); see the module docstring for the two ways to run it.

    ``CorticalRNN(spec, seed=0, w_rec_init=MICrONSInit(...))`` draws its initial parameters with
    :func:`models.init_params`; ``CorticalRNN.from_params(spec, params)`` rebuilds a trained
    network; ``model.params()`` is the plain parameter dict; ``model.W_rec`` the effective
    recurrent matrix [pre, post]. ``spec.n_inputs`` / ``spec.n_outputs`` must be set (or use
    :meth:`factory`, which takes them from the task).

    Args:
        spec: the architecture.
        seed: the run seed of the initial parameters.
        w_rec_init: the ``W_rec`` initializer (see :func:`models.draw_w_rec`).
        params: trained parameters to start from instead (then ``seed`` and ``w_rec_init`` are unused).

    Raises:
        ValueError: see :func:`models.init_params`.

    Example::

        >>> import jax.numpy as jnp
        >>> m = CorticalRNN(RNNSpec(n_hidden=6, n_inputs=2, n_outputs=2), seed=0)
        >>> m(jnp.ones((3, 5, 2))).shape               # whole sequence (B, T, C)
        (3, 2)
        >>> m.init_state(3); m(jnp.ones((3, 2))).shape  # one step (B, C)
        (3, 2)
    """

    def __init__(self, spec: RNNSpec, seed: int = 0, w_rec_init: Any = None,
                 params: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.spec = spec
        params = init_params(spec, seed, w_rec_init) if params is None else params
        self.w_in = brainstate.ParamState(jnp.asarray(params["w_in"]))
        self.w_rec = brainstate.ParamState(jnp.asarray(params["w_rec"]))
        self.b = brainstate.ParamState(jnp.asarray(params["b"]))
        self.w_out = brainstate.ParamState(jnp.asarray(params["w_out"]))
        self.b_out = brainstate.ParamState(jnp.asarray(params["b_out"]))
        self.input_noise = float(spec.input_noise)  # read by models.train (noise on the inputs)

    # ------------------------------------------------------------------ construction helpers
    @classmethod
    def from_params(cls, spec: RNNSpec, params: dict[str, Any]) -> CorticalRNN:
        """The network with the given (e.g. trained) parameters ``w_in, w_rec, b, w_out, b_out``."""
        return cls(spec, params=params)

    @classmethod
    def factory(cls, spec: RNNSpec, w_rec_init: Any = None) -> CorticalRNNFactory:
        """A module factory for :func:`models.train`: ``(seed, n_inputs=, n_outputs=, w_rec_init=) -> CorticalRNN``.

        Args:
            spec: the architecture; ``n_inputs`` / ``n_outputs`` left ``None`` come from the task.
            w_rec_init: the initializer used when ``train`` passes none.

        Returns:
            A :class:`CorticalRNNFactory` (a frozen dataclass, hashable: the key of the trainer's
            compiled-program cache).

        Example:
            >>> f = CorticalRNN.factory(RNNSpec(n_hidden=4))
            >>> f(0, n_inputs=3, n_outputs=2).spec.n_inputs, f == CorticalRNN.factory(RNNSpec(n_hidden=4))
            (3, True)
        """
        return CorticalRNNFactory(spec, w_rec_init)

    def params(self) -> dict[str, jax.Array]:
        """The parameter values as a plain dict (``w_in, w_rec, b, w_out, b_out``)."""
        return {k: getattr(self, k).value for k in PARAM_NAMES}

    @property
    def W_rec(self) -> jax.Array:
        """The effective recurrent matrix, indexed [pre, post] (``|V| * sign`` for Dale)."""
        return effective_w_rec(self.params(), self.spec)

    def project_params(self, params: dict[str, jax.Array]) -> dict[str, jax.Array]:
        """The constraint ``models.train`` applies after each optimizer step (:func:`models._rnn.project`)."""
        return project(params, self.spec) if "w_rec" in params else params

    # ------------------------------------------------------------------ brainstate dynamics
    def init_state(self, batch_size: int | None = None, **kwargs: Any) -> None:
        """Create the hidden state ``h`` (zeros; (batch_size, N), or (N,) without a batch)."""
        self.h = brainstate.HiddenState(jnp.zeros(self._state_shape(batch_size), jnp.float32))

    def reset_state(self, batch_size: int | None = None, **kwargs: Any) -> None:
        """Zero the hidden state (creating it when needed)."""
        if not hasattr(self, "h"):
            self.init_state(batch_size)
        else:
            self.h.value = jnp.zeros(self._state_shape(batch_size), jnp.float32)

    def _state_shape(self, batch_size: int | None) -> tuple[int, ...]:
        n = int(self.spec.n_hidden)
        return (n,) if batch_size is None else (int(batch_size), n)

    def update(self, x: jax.Array) -> jax.Array:
        """One time step: ``x`` (B, C) or (C,) -> logits (B, K) of the new hidden state.

        Raises:
            RuntimeError: :meth:`init_state` was not called first.
        """
        if not hasattr(self, "h"):
            raise RuntimeError("call model.init_state(batch_size) before stepping the network")
        alpha, h = self.spec.alpha, self.h.value
        r = _act(jnp.asarray(x) @ self.w_in.value + h @ self.W_rec + self.b.value, self.spec.activation)
        h = r if alpha == 1.0 else (1.0 - alpha) * h + alpha * r
        self.h.value = h
        return h @ self.w_out.value + self.b_out.value

    def forward_sequence(self, x: jax.Array) -> jax.Array:
        """Logits at the last step (B, K) for a whole sequence ``x`` (B, T, C), from ``h_0 = 0``."""
        return forward(self.params(), jnp.asarray(x, jnp.float32), self.spec)

    def __call__(self, x: jax.Array, training: bool = False) -> jax.Array:
        """3-D ``x`` (B, T, C): :meth:`forward_sequence` (with the input noise drawn from
        ``brainstate.random`` when ``training``); 1-D/2-D ``x``: one :meth:`update` step."""
        x = jnp.asarray(x, jnp.float32)
        if x.ndim != 3:
            return self.update(x)
        key = brainstate.random.split_key() if training else None
        return forward(self.params(), x, self.spec, key)


@dataclasses.dataclass(frozen=True)
class CorticalRNNFactory:
    """``CorticalRNN.factory(spec, w_rec_init)``: builds one :class:`CorticalRNN` per seed for :func:`models.train`.

    Equality and hash see the ``spec`` only: the compiled training program depends on the
    architecture, never on the initial weights (those are program arguments), so factories that
    differ only in ``w_rec_init`` share one compilation.

    Attributes:
        spec: the architecture (``n_inputs`` / ``n_outputs`` may be ``None``: from the task).
        w_rec_init: the initializer used when the trainer passes none.
    """

    spec: RNNSpec
    w_rec_init: Any = dataclasses.field(default=None, compare=False, repr=False)
    #: the trainer may reuse a compiled program for an equal factory and equal keywords (see ``_train``)
    programs_cacheable: ClassVar[bool] = True

    def __call__(self, seed: int, n_inputs: int | None = None, n_outputs: int | None = None,
                 w_rec_init: Any = None) -> CorticalRNN:
        """The network for ``seed``; sizes left ``None`` in the spec are taken from the keywords.

        Raises:
            ValueError: the spec's sizes do not fit the task (other input channels, fewer outputs than classes).
        """
        spec = self.spec
        if spec.n_inputs is not None and n_inputs is not None and spec.n_inputs != n_inputs:
            raise ValueError(f"spec.n_inputs={spec.n_inputs} but the task has {n_inputs} input channels")
        if spec.n_outputs is not None and n_outputs is not None and n_outputs > spec.n_outputs:
            raise ValueError(f"spec.n_outputs={spec.n_outputs} but the task has {n_outputs} classes")
        spec = dataclasses.replace(spec, n_inputs=n_inputs if spec.n_inputs is None else spec.n_inputs,
                                   n_outputs=n_outputs if spec.n_outputs is None else spec.n_outputs)
        return CorticalRNN(spec, seed=seed, w_rec_init=self.w_rec_init if w_rec_init is None else w_rec_init)

    def __repr__(self) -> str:
        init = "" if self.w_rec_init is None else f", w_rec_init={type(self.w_rec_init).__name__}"
        return f"CorticalRNN.factory({self.spec!r}{init})"
