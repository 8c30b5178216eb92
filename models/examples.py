"""Example user circuits for :func:`models.train` (importable, e.g. for
``models.resolve_model("connectome_priors.models.examples:rnncell_net")``). Each is an ordinary model
of its library; nothing in it is specific to this package except the factory's keyword names.

* :class:`RNNCellNet` -- brainpy 2.8 ``bp.dyn.RNNCell`` + ``bp.dnn.Dense`` readout (a brainpy
  ``DynamicalSystem``; its recurrent weight is the parameter ``rnn.Wh``).
* :class:`EIRateNet` -- a brainstate leaky rate network obeying Dale's law: ``W_rec = |V| *
  sign[pre]`` with the E/I rows read from the initial matrix (e.g.
  ``MICrONSInit(..., dale=0.8)``); the regularizers see its ``W_rec`` property.

Example::

    >>> import numpy as np, connectome_priors as cp
    >>> init = cp.MICrONSInit(field=cp.surrogate_field(12, seed=0), dale=0.8)
    >>> net = ei_rate_net(0, n_inputs=3, n_outputs=2, w_rec_init=init, n_hidden=12)
    >>> net.init_state(4); net(np.ones((4, 3), np.float32)).shape
    (4, 2)
    >>> bool(np.all(np.asarray(net.W_rec) * np.asarray(net.sign.value)[:, None] >= 0))  # Dale: one sign per row
    True
"""

from __future__ import annotations

from typing import Any

import brainpy as bp
import brainpy.math as bm
import brainstate
import jax
import jax.numpy as jnp
import numpy as np

from connectome_priors.priors._dale import DEFAULT_EXC_FRACTION, apply_dale

from ._rnn import draw_w_rec


class RNNCellNet(bp.DynamicalSystem):
    """``bp.dyn.RNNCell(n_inputs, n_hidden, Wh_initializer=w_rec_init)`` + a linear readout;
    ``update(x_t)`` returns the readout's logits of the new hidden state."""

    def __init__(self, n_inputs: int, n_hidden: int, n_outputs: int, w_rec_init: Any = None) -> None:
        super().__init__(mode=bm.training_mode)
        self.rnn = bp.dyn.RNNCell(n_inputs, n_hidden, Wh_initializer=w_rec_init or bp.init.Orthogonal(),
                                  activation="relu", mode=bm.training_mode)
        self.out = bp.dnn.Dense(n_hidden, n_outputs, mode=bm.training_mode)

    def update(self, x: jax.Array) -> jax.Array:
        """One step: ``x`` (B, C) -> logits (B, K)."""
        return self.out(self.rnn(x))


def rnncell_net(seed: int, n_inputs: int, n_outputs: int, w_rec_init: Any = None, n_hidden: int = 42) -> RNNCellNet:
    """Factory for :func:`models.train`: a brainpy :class:`RNNCellNet`.

    Args:
        seed: the run seed (``w_rec_init`` is fixed to it when it has ``with_seed``).
        n_inputs, n_outputs: from the task.
        w_rec_init: the ``Wh`` initializer (e.g. ``MICrONSInit``; default orthogonal).
        n_hidden: recurrent units.

    Returns:
        The network.
    """
    if hasattr(w_rec_init, "with_seed"):
        w_rec_init = w_rec_init.with_seed(int(seed))
    return RNNCellNet(n_inputs, n_hidden, n_outputs, w_rec_init)


class EIRateNet(brainstate.nn.Module):
    """Leaky rate network with Dale's law (brainstate): ``tau dh/dt = -h + relu(x W_in + h W_rec
    + b)`` with an Euler step ``dt`` and ``W_rec = |V| * sign[pre]``; readout
    ``brainstate.nn.Linear``. ``W0`` gives both the magnitudes and the E/I rows (the sign of
    each row's sum); a nonnegative ``W0`` leaves every neuron excitatory."""

    def __init__(self, n_inputs: int, n_outputs: int, w0: Any, tau: float = 100.0, dt: float = 20.0) -> None:
        super().__init__()
        w0 = np.asarray(w0, np.float32)
        n = w0.shape[0]
        self.n, self.alpha = n, dt / tau
        # a state (not a numpy attribute): the E/I rows differ between seeds, and models.train
        # takes per-seed constants from LongTermStates (non-state attributes come from seed 0)
        self.sign = brainstate.LongTermState(jnp.where(jnp.asarray(w0).sum(axis=1) >= 0, 1.0, -1.0))
        self.v = brainstate.ParamState(jnp.abs(jnp.asarray(w0)))
        lim = np.sqrt(6.0 / (n_inputs + n))
        self.w_in = brainstate.ParamState(brainstate.random.uniform(-lim, lim, (n_inputs, n)))
        self.b = brainstate.ParamState(jnp.zeros(n))
        self.readout = brainstate.nn.Linear(n, n_outputs)

    @property
    def W_rec(self) -> jax.Array:
        """``|V| * sign[:, None]``, indexed [pre, post]."""
        return jnp.abs(self.v.value) * self.sign.value[:, None]

    def init_state(self, batch_size: int | None = None, **kwargs: Any) -> None:
        """Zero hidden state, (batch_size, N)."""
        self.h = brainstate.HiddenState(jnp.zeros((batch_size, self.n) if batch_size else (self.n,)))

    def update(self, x: jax.Array) -> jax.Array:
        """One Euler step: ``x`` (B, C) -> logits (B, K)."""
        r = jnp.maximum(x @ self.w_in.value + self.h.value @ self.W_rec + self.b.value, 0.0)
        self.h.value = (1 - self.alpha) * self.h.value + self.alpha * r
        return self.readout(self.h.value)


def ei_rate_net(seed: int, n_inputs: int, n_outputs: int, w_rec_init: Any = None, n_hidden: int = 42,
                tau: float = 100.0, dt: float = 20.0) -> EIRateNet:
    """Factory for :func:`models.train`: an :class:`EIRateNet` whose ``W0`` is ``w_rec_init`` drawn for ``seed``.

    Args:
        seed: the run seed.
        n_inputs, n_outputs: from the task.
        w_rec_init: any initializer of :func:`models.draw_w_rec` (e.g. ``MICrONSInit(..., dale=0.8)``);
            default: a Dale matrix (``connectome_priors.priors.apply_dale`` of |normal| magnitudes,
            ``DEFAULT_EXC_FRACTION`` excitatory), spectral radius 0.95.
        n_hidden: recurrent units.
        tau, dt: time constant and Euler step.

    Returns:
        The network.
    """
    if w_rec_init is None:
        w0, _ = apply_dale(np.random.default_rng(seed).normal(0, 1, (n_hidden, n_hidden)), DEFAULT_EXC_FRACTION)
        w0 *= 0.95 / np.max(np.abs(np.linalg.eigvals(w0)))
    else:
        w0 = draw_w_rec(w_rec_init, n_hidden, seed)
    return EIRateNet(n_inputs, n_outputs, w0, tau=tau, dt=dt)
