"""``CorticalRNN``: the paper's network as a brainstate dynamical system.

One object, two ways to run it:

* per step (the brainstate way): ``model.init_state(batch_size)`` creates the hidden state
  ``model.h`` (a ``brainstate.HiddenState`` of shape (B, N), zeros); ``model.update(x_t)`` (or
  ``model(x_t)`` with a 2-D ``x_t`` (B, C)) advances it by one step and returns the logits
  ``h_t W_out + b_out`` (B, K) of the new state; ``model.reset_state(batch_size)`` zeroes it.
  This runs under ``brainstate.transform.for_loop`` / ``brainstate.transform.jit`` like any
  brainstate module, and it is what :func:`models.train` runs for any module factory.
* whole sequence (the fast path): ``model(x)`` with a 3-D ``x`` (B, T, C), or
  ``model.forward_sequence(x)``, returns the logits at the last step (B, K) from ``h_0 = 0``
  using the hand-written-gradient recurrence of :func:`models.forward`. It does not touch
  ``model.h``. ``models.train`` uses it for this module unless ``loop="step"``.

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
    >>> bool(jnp.allclose(logits[-1], m(jnp.ones((3, 5, 2))), atol=1e-5))   # == the fast path
    True

BrainPy's ``bp.DSRunner`` (brainpy 2.8.2) does not take this module directly: its constructor
refuses any target that is not a ``brainpy.DynamicalSystem`` (``RunningError: "target" must be an
instance of DynamicalSystem``), and a ``brainstate.nn.Module`` is not one (brainpy 2.8.2's
``DynamicalSystem`` derives from ``BrainPyObject``, not from ``brainstate.nn.Module``). A class
deriving from both can be constructed and passes that check, but it would mix brainpy's variable
registry (``vars()``) with brainstate's graph of states, which is untested across brainpy's
transforms, so ``CorticalRNN`` stays a plain brainstate module. The supported brainpy route is
:func:`as_brainpy`, a thin ``brainpy.DynamicalSystem`` wrapper whose ``update`` calls the
module's (brainpy 2.8.2's variables are brainstate ``State`` objects; ``DSRunner`` on the wrapper
steps the module's hidden state and gives the same logits as ``forward_sequence``, see
``tests/test_module_training.py``)::

    >>> import brainpy as bp                               # doctest: +SKIP
    >>> runner = bp.DSRunner(as_brainpy(m), data_first_axis="T", progress_bar=False)  # doctest: +SKIP
    >>> runner.run(inputs=xs).shape                        # doctest: +SKIP
    (5, 3, 2)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from ._rnn import RNNSpec, _act, effective_w_rec, forward, init_params

PARAM_NAMES = ("w_in", "w_rec", "b", "w_out", "b_out")


def _module_base():
    import brainstate

    return brainstate.nn.Module


class CorticalRNN(_module_base()):
    """The paper's rate RNN as a ``brainstate.nn.Module`` (parameters ``brainstate.ParamState``,
    hidden state ``brainstate.HiddenState``); see the module docstring for the two ways to run it.

    ``CorticalRNN(spec, seed=0, w_rec_init=MICrONSInit(...))`` draws the same initial parameters
    as :func:`models.init_params` (so the module path and the fast path start from the same
    weights); ``CorticalRNN.from_params(spec, params)`` rebuilds a trained network;
    ``model.params()`` is the plain parameter dict; ``model.W_rec`` the effective recurrent
    matrix [pre, post]. ``spec.n_inputs`` / ``spec.n_outputs`` must be set (or use
    :meth:`factory`, which takes them from the task).

    Example::

        >>> import jax.numpy as jnp
        >>> m = CorticalRNN(RNNSpec(n_hidden=6, n_inputs=2, n_outputs=2), seed=0)
        >>> m(jnp.ones((3, 5, 2))).shape               # whole sequence (B, T, C)
        (3, 2)
        >>> m.init_state(3); m(jnp.ones((3, 2))).shape  # one step (B, C)
        (3, 2)
    """

    def __init__(self, spec: RNNSpec, seed: int = 0, w_rec_init: Any = None, params: dict | None = None):
        import brainstate

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
    def from_params(cls, spec: RNNSpec, params: dict) -> CorticalRNN:
        return cls(spec, params=params)

    @classmethod
    def factory(cls, spec: RNNSpec, w_rec_init: Any = None):
        """A module factory for :func:`models.train`: ``(seed, n_inputs=, n_outputs=, w_rec_init=)
        -> CorticalRNN``; input and output sizes left ``None`` in ``spec`` come from the task."""
        default_init = w_rec_init

        def make(seed: int, n_inputs: int | None = None, n_outputs: int | None = None, w_rec_init: Any = None):
            import dataclasses

            s = dataclasses.replace(spec, n_inputs=spec.n_inputs if spec.n_inputs is not None else n_inputs,
                                    n_outputs=spec.n_outputs if spec.n_outputs is not None else n_outputs)
            return cls(s, seed=seed, w_rec_init=default_init if w_rec_init is None else w_rec_init)

        make.__name__ = make.__qualname__ = f"CorticalRNN.factory({spec!r})"
        return make

    def params(self) -> dict[str, jax.Array]:
        return {k: getattr(self, k).value for k in PARAM_NAMES}

    @property
    def W_rec(self) -> jax.Array:
        """The effective recurrent matrix, indexed [pre, post] (``|V| * sign`` for Dale)."""
        return effective_w_rec(self.params(), self.spec)

    def project_params(self, params: dict) -> dict:
        """The constraint ``models.train`` applies after each optimizer step (Keras ``NonNeg``)."""
        if self.spec.sign == "nonneg" and "w_rec" in params:
            return {**params, "w_rec": jnp.maximum(params["w_rec"], 0.0)}
        return params

    # ------------------------------------------------------------------ brainstate dynamics
    def init_state(self, batch_size: int | None = None, **kwargs):
        import brainstate

        shape = (int(self.spec.n_hidden),) if batch_size is None else (int(batch_size), int(self.spec.n_hidden))
        self.h = brainstate.HiddenState(jnp.zeros(shape, jnp.float32))

    def reset_state(self, batch_size: int | None = None, **kwargs):
        shape = (int(self.spec.n_hidden),) if batch_size is None else (int(batch_size), int(self.spec.n_hidden))
        if not hasattr(self, "h"):
            self.init_state(batch_size)
        else:
            self.h.value = jnp.zeros(shape, jnp.float32)

    def update(self, x):
        """One time step: ``x`` (B, C) or (C,) -> logits (B, K) of the new hidden state."""
        if not hasattr(self, "h"):
            raise RuntimeError("call model.init_state(batch_size) before stepping the network")
        alpha, h = self.spec.alpha, self.h.value
        r = _act(jnp.asarray(x) @ self.w_in.value + h @ self.W_rec + self.b.value, self.spec.activation)
        h = r if alpha == 1.0 else (1.0 - alpha) * h + alpha * r
        self.h.value = h
        return h @ self.w_out.value + self.b_out.value

    def forward_sequence(self, x):
        """Logits at the last step (B, K) for a whole sequence ``x`` (B, T, C), from ``h_0 = 0``."""
        return forward(self.params(), jnp.asarray(x, jnp.float32), self.spec)

    def __call__(self, x, training: bool = False):
        """3-D ``x`` (B, T, C): :meth:`forward_sequence` (with the input noise drawn from
        ``brainstate.random`` when ``training``); 1-D/2-D ``x``: one :meth:`update` step."""
        x = jnp.asarray(x, jnp.float32)
        if x.ndim != 3:
            return self.update(x)
        import brainstate

        key = brainstate.random.split_key() if training else None
        return forward(self.params(), x, self.spec, key)


def as_brainpy(module):
    """Wrap a brainstate module as a ``brainpy.DynamicalSystem`` (for ``bp.DSRunner``): the
    wrapper's ``update(x)`` calls ``module.update(x)`` and ``reset_state(batch_size)`` resets the
    module's hidden states. See the ``connectome_priors.models._module`` docstring for why this wrapper is needed."""
    import brainpy as bp
    import brainstate

    class BrainstateModule(bp.DynamicalSystem):
        def __init__(self, target):
            super().__init__()
            self.target = target

        def reset_state(self, batch_size=None, **kwargs):
            brainstate.nn.reset_all_states(self.target, batch_size)

        def update(self, x):
            return self.target.update(x)

    return BrainstateModule(module)
