"""One guarded optimizer step of any module -- the built-in :class:`CorticalRNN` as much as a user's
brainstate / brainpy circuit -- as a pure function of the parameters (what :func:`models.train`
scans over, and what ``python -m connectome_priors perf`` times).

The module's calls are traced once into jaxprs (:class:`~connectome_priors.models._states.PureModule`),
so inside the step the parameters are plain arrays. The step:

* adds ``input_noise`` times standard normal noise (drawn from the batch's key) to the inputs;
* runs the module on the batch -- ``loop="sequence"``: ``module.forward_sequence(x)`` once (for
  :class:`CorticalRNN`, the hand-written-gradient recurrence); ``loop="step"``: ``module(x[:, t])``
  for every t, the hidden states reset before the batch -- and takes the logits of the last step;
* loss = mean softmax cross-entropy + ``sum_r r(W_rec)``; one optimizer update, then the module's
  ``project_params`` (if it has one);
* guard rails: an update whose loss or new parameters are not finite is not applied; the seed is
  marked dead (``alive`` False, ``failed_step``, ``failed_reason`` 1 = non-finite loss, 2 =
  non-finite weights) and its parameters and optimizer state stay frozen from then on.

``carry = (params, opt_state, alive, failed_step, failed_reason, step_count)``
(:func:`initial_carry`); a batch is ``(x (B, T, C), y (B,), key)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import optax

from ._common import all_finite, describe, total_penalty
from ._rnn import DEFAULT_INPUT_NOISE
from ._states import W_REC_NAMES, PureModule

LOOPS = ("auto", "step", "sequence")

Carry = tuple[dict[str, jax.Array], Any, jax.Array, jax.Array, jax.Array, jax.Array]
StepFn = Callable[[Carry, tuple[jax.Array, jax.Array, jax.Array]], tuple[Carry, tuple[jax.Array, ...]]]


def resolve_loop(module: Any, loop: str) -> str:
    """The loop actually run: ``"auto"`` is ``"sequence"`` for a module with ``forward_sequence``, else ``"step"``.

    Raises:
        ValueError: an unknown loop, or ``"sequence"`` for a module without ``forward_sequence``.
    """
    if loop not in LOOPS:
        raise ValueError(f"loop={loop!r} is not one of {LOOPS}")
    used = ("sequence" if hasattr(module, "forward_sequence") else "step") if loop == "auto" else loop
    if used == "sequence" and not hasattr(module, "forward_sequence"):
        raise ValueError("loop='sequence' needs a module with forward_sequence(x)")
    return used


def input_noise_of(module: Any, input_noise: float | None) -> float:
    """``input_noise``, else the module's ``input_noise`` attribute, else the paper's ``DEFAULT_INPUT_NOISE``."""
    return float(getattr(module, "input_noise", DEFAULT_INPUT_NOISE) if input_noise is None else input_noise)


def select_w_rec(pm: PureModule, selector: str | Callable | None) -> tuple[str, Callable]:
    """``(description, params -> W_rec)``; the description is a parameter name when it is one.

    Raises:
        TypeError: ``selector`` is neither a name nor a callable.
        ValueError: no selector and no single parameter named like a recurrent weight.
    """
    names = pm.layout.names
    if isinstance(selector, str) and selector in names:
        return selector, lambda flat: flat[selector]
    if isinstance(selector, str):
        def by_attr(m):
            for part in selector.split("."):
                m = getattr(m, part)
            return getattr(m, "value", m)

        return selector, pm.selector(by_attr)
    if callable(selector):
        return describe(selector), pm.selector(selector)
    if selector is not None:
        raise TypeError(f"w_rec_selector must be a name or a callable, got {type(selector).__name__}")
    if hasattr(pm.module, "W_rec") and not callable(getattr(type(pm.module), "W_rec", None)):
        if "W_rec" in names:
            return "W_rec", lambda flat: flat["W_rec"]
        return "W_rec", pm.selector(lambda m: getattr(m.W_rec, "value", m.W_rec))
    hits = [n for n in names if n.split(".")[-1] in W_REC_NAMES]
    if len(hits) != 1:
        raise ValueError(f"cannot tell which parameter is the recurrent weight among {names} (matches: {hits}); "
                         "pass w_rec_selector= (a parameter name or a callable module -> W_rec)")
    return hits[0], lambda flat: flat[hits[0]]


def logits_fn(pm: PureModule, loop: str, bsz: int, t: int, c: int) -> Callable[[dict, jax.Array], jax.Array]:
    """``f(params_and_buffers, x (bsz, t, c)) -> logits (bsz, K)`` of the last step, no noise."""
    if loop == "sequence":
        return pm.sequence(bsz, t, c)
    h0, f = pm.step(bsz, c)

    def logits(flat, x):
        _, outs = jax.lax.scan(lambda h, x_t: f(flat, h, x_t), h0, jnp.swapaxes(x, 0, 1))
        return outs[-1]

    return logits


def make_loss(pm: PureModule, w_fn: Callable, loop: str, bsz: int, t: int, c: int, noise: float) -> Callable:
    """``loss(params, x, y, key, (regularizers, buffers)) -> (total, (ce, penalty, acc))``."""
    logits_of = logits_fn(pm, loop, bsz, t, c)

    def loss_fn(p, x, y, key, ctx):
        regs, buf = ctx
        p = {**p, **buf}
        if noise > 0:
            x = x + noise * jax.random.normal(key, x.shape, x.dtype)
        logits = logits_of(p, x)
        ce = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
        pen = total_penalty(regs, w_fn(p))
        return ce + pen, (ce, pen, (jnp.argmax(logits, -1) == y).mean())

    return loss_fn


def guarded_step(loss_fn: Callable, optimizer: optax.GradientTransformation, project: Callable) -> Callable:
    """The one guarded optimizer step: ``step(carry, (x, y, key), ctx) -> (carry, (ce, penalty, acc))``.

    Args:
        loss_fn: ``loss(params, x, y, key, ctx) -> (total, (ce, penalty, acc))`` (:func:`make_loss`).
        optimizer: the optax transformation.
        project: ``params -> params`` applied after every update (a constraint; identity if none).

    Returns:
        The step; ``ctx`` is passed through to ``loss_fn`` (regularizers and buffers).
    """

    def step(carry, batch, ctx):
        params, opt_state, alive, failed_step, failed_reason, count = carry
        (loss, (ce, pen, acc)), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, *batch, ctx)
        updates, new_opt = optimizer.update(grads, opt_state, params)
        new_params = project(optax.apply_updates(params, updates))
        loss_ok = jnp.isfinite(loss)
        ok = alive & loss_ok & all_finite(new_params)
        keep = lambda new, old: jnp.where(ok, new, old)  # a dead seed stays frozen
        params = jax.tree_util.tree_map(keep, new_params, params)
        opt_state = jax.tree_util.tree_map(keep, new_opt, opt_state)
        newly_dead = alive & ~ok
        failed_step = jnp.where(newly_dead, count, failed_step)
        failed_reason = jnp.where(newly_dead, jnp.where(loss_ok, 2, 1), failed_reason)
        return (params, opt_state, ok, failed_step, failed_reason, count + 1), (ce, pen, acc)

    return step


def initial_carry(params: dict[str, jax.Array], optimizer: optax.GradientTransformation) -> Carry:
    """The carry of a fresh run: the optimizer's initial state, alive, no failure, step 0."""
    return (params, optimizer.init(params), jnp.array(True), jnp.array(-1, jnp.int32), jnp.array(0, jnp.int32),
            jnp.array(0, jnp.int32))


def train_step(module: Any, regularizers: Sequence[Callable], optimizer: optax.GradientTransformation, *,
               batch_size: int, n_time: int, n_inputs: int, loop: str = "auto", input_noise: float | None = None,
               w_rec_selector: str | Callable | None = None,
               reset: Callable | None = None) -> tuple[StepFn, dict[str, jax.Array], dict[str, jax.Array]]:
    """The guarded optimizer step of one built ``module`` (what :func:`models.train` scans over).

    Args:
        module: a brainstate module or brainpy ``DynamicalSystem`` (e.g. ``CorticalRNN(spec)``).
        regularizers: callables ``penalty(W_rec) -> scalar``.
        optimizer: an optax transformation.
        batch_size, n_time, n_inputs: the batch shape (B, T, C) the step is traced for.
        loop, input_noise, w_rec_selector, reset: as in :func:`models.train`.

    Returns:
        ``(step, params, buffers)``: ``step(carry, (x, y, key)) -> (carry, (ce, penalty, acc))``
        (jit / vmap / scan it freely; start from ``initial_carry(params, optimizer)``), the
        module's parameters and its buffers (constants, already bound into ``step``) as flat dicts.

    Raises:
        ValueError: see :func:`resolve_loop` and :func:`select_w_rec`; a module without parameters.

    Example:
        >>> import jax, optax
        >>> from connectome_priors.models import CorticalRNN, RNNSpec
        >>> opt = optax.adam(1e-3)
        >>> m = CorticalRNN(RNNSpec(n_hidden=4, n_inputs=2, n_outputs=2), seed=0)
        >>> step, params, _ = train_step(m, [], opt, batch_size=3, n_time=5, n_inputs=2)
        >>> batch = (jnp.ones((3, 5, 2)), jnp.array([0, 1, 0]), jax.random.PRNGKey(0))
        >>> carry, (ce, pen, acc) = jax.jit(step)(initial_carry(params, opt), batch)
        >>> bool(carry[2]), int(carry[5]), float(pen)
        (True, 1, 0.0)
    """
    pm = PureModule(module, reset)
    _, w_fn = select_w_rec(pm, w_rec_selector)
    flat = {k: jnp.asarray(v) for k, v in pm.layout.read().items()}
    buffers = {k: flat.pop(k) for k in pm.buffer_names}
    loss_fn = make_loss(pm, w_fn, resolve_loop(module, loop), int(batch_size), int(n_time), int(n_inputs),
                        input_noise_of(module, input_noise))
    guarded = guarded_step(loss_fn, optimizer, getattr(module, "project_params", None) or (lambda p: p))
    ctx = (tuple(regularizers), buffers)
    return (lambda carry, batch: guarded(carry, batch, ctx)), flat, buffers
