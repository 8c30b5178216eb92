"""The module path of :func:`models.train`: train any brainstate / brainpy module factory.

Contract (``models.train(factory, task, seeds=[...], ...)`` or ``models.train(model=factory, ...)``):

* ``factory(seed, **kw) -> module`` builds one network. It is called once per seed, after
  ``brainstate.random.seed(seed)`` (brainpy 2.8 initializers draw from it too), with those of
  these keywords its signature accepts (all of them if it takes ``**kwargs``): ``n_inputs`` (C,
  from the task), ``n_outputs`` (K, classes of the task), ``w_rec_init`` (when given: the seed's
  initializer ``w_rec_init.with_seed(seed)`` if it has ``with_seed``, as ``MICrONSInit`` does, so
  the module starts from the fast path's matrix; the seed's slice of an (S, N, N) array; else
  ``w_rec_init`` itself), and the entries of ``factory_kwargs`` (e.g. ``n_hidden``).
  ``"package.module:factory"`` strings are resolved with :func:`models.resolve_model`.
* ``module`` is a ``brainstate.nn.Module`` (parameters ``brainstate.ParamState``) or a brainpy
  2.8 ``DynamicalSystem`` built with ``mode=brainpy.math.training_mode`` (parameters
  ``TrainVar``); other ``brainstate.LongTermState`` objects are per-seed constants (buffers: E/I
  signs, masks; saved with the parameters, not trained); every other state is recurrent state.
  Non-state attributes are taken from the first seed's module. Before each batch of ``B`` trials the
  trainer resets it (``brainstate.nn.init_all_states(module, B)`` / ``module.reset(B)``, or your
  ``reset(module, B)``); then, for inputs of layout (B, T, C), it calls ``module(x[:, t])`` with
  ``x[:, t]`` (B, C) for t = 0 .. T-1 and takes the **logits (B, K) returned at the last step**
  (the tasks' label is read out at step T-1; outputs of earlier steps are ignored). The loss is
  softmax cross-entropy of those logits plus the regularizers on ``W_rec``.
  ``loop="auto"`` (default) instead calls ``module.forward_sequence(x)`` -> logits (B, K) once
  per batch when the module defines it (:class:`models.CorticalRNN` does: its hand-written
  gradients); ``loop="step"`` forces the per-step calls.
* ``W_rec`` for the regularizers (and the result's ``w_rec``): ``w_rec_selector`` -- a parameter
  name (``"rnn.Wh"``), an attribute path of the module (``"W_rec"``) or a callable
  ``module -> (N, N) array`` computed from parameters (e.g. ``|V| * sign`` for Dale) -- or, when
  ``None``: the module's ``W_rec`` attribute if it has one, else the one parameter whose last
  name component is one of ``W_REC_NAMES`` (``W_rec``, ``w_rec``, ``Wh``, ``W_hh``, ...).
  ``w_rec_init`` is passed to the factory when it accepts it, else drawn per seed with
  :func:`models.draw_w_rec` and written into the selected parameter (which must be a name).
* Constraints: if the module has ``project_params(params: dict) -> dict`` (a pure function of
  the flat ``name -> array`` dict) it is applied after every optimizer step.
* Input noise: ``input_noise`` (default: the module's ``input_noise`` attribute, else 0.05, the
  paper's) times standard normal noise is added to the training inputs, drawn from the same keys
  as the fast path; evaluation never adds noise. Randomness inside the module is not supported.

Same protocol, guard rails, metrics (seed, epoch), ``TrainResult`` and save/load as the fast path.
All seeds train in one ``jax.jit(jax.vmap(...))`` program: the module's calls are traced once
into jaxprs over its states (:class:`connectome_priors.models._states.PureModule`), so parameters are plain
arrays inside the program. Unlike the fast path, the compiled program is not cached across calls.

Example (a user's brainpy cell + readout; the recurrent weight is found by its name ``rnn.Wh``)::

    >>> import brainpy as bp, brainpy.math as bm, models
    >>> class Net(bp.DynamicalSystem):
    ...     def __init__(self, seed, n_inputs, n_outputs, w_rec_init=None):
    ...         super().__init__(mode=bm.training_mode)
    ...         self.rnn = bp.dyn.RNNCell(n_inputs, 16, Wh_initializer=w_rec_init or bp.init.Orthogonal(),
    ...                                   mode=bm.training_mode)
    ...         self.out = bp.dnn.Dense(16, n_outputs, mode=bm.training_mode)
    ...     def update(self, x):
    ...         return self.out(self.rnn(x))
    >>> res = models.train(Net, "GoNoGo", seeds=[0, 1], epochs=1, n_train=64, n_val=32, n_test=32,
    ...                    batch_size=32)                                # doctest: +SKIP
    >>> res.w_rec.shape, res.config["w_rec_name"]                        # doctest: +SKIP
    ((2, 16, 16), 'rnn.Wh')
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._common import (
    METRIC_NAMES,
    _all_finite,
    _describe,
    _rebuild_regularizer,
    _split_regularizer,
    check_protocol,
    derived_seed,
    stack_splits,
    status_lines,
    total_penalty,
)
from ._result import TrainResult
from ._rnn import RNNSpec, draw_w_rec
from ._states import (
    W_REC_NAMES,
    ParamLayout,
    PureModule,
    build_module,
    discover,
    factory_accepts,
    factory_ref,
    resolve_model,
)

LOOPS = ("auto", "step", "sequence")


def _select_w_rec(pm: PureModule, selector) -> tuple[str, Callable]:
    """``(description, params -> W_rec)``; the description is a parameter name when it is one."""
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
        return _describe(selector), pm.selector(selector)
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


def _guarded_step(loss_fn, optimizer, project):
    """One optimizer step with the fast path's guard rails (a non-finite seed is frozen)."""

    def step(carry, batch, regs):
        params, opt_state, alive, failed_step, failed_reason, count = carry
        (loss, (ce, pen, acc)), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, *batch, regs)
        updates, new_opt = optimizer.update(grads, opt_state, params)
        new_params = project(optax.apply_updates(params, updates))
        loss_ok = jnp.isfinite(loss)
        ok = alive & loss_ok & _all_finite(new_params)
        keep = lambda new, old: jnp.where(ok, new, old)  # noqa: E731
        params = jax.tree_util.tree_map(keep, new_params, params)
        opt_state = jax.tree_util.tree_map(keep, new_opt, opt_state)
        newly_dead = alive & ~ok
        failed_step = jnp.where(newly_dead, count, failed_step)
        failed_reason = jnp.where(newly_dead, jnp.where(loss_ok, 2, 1), failed_reason)
        return (params, opt_state, ok, failed_step, failed_reason, count + 1), (ce, pen, acc)

    return step


def _logits_fn(pm: PureModule, loop: str, bsz: int, t: int, c: int):
    if loop == "sequence":
        return pm.sequence(bsz, t, c)
    h0, f = pm.step(bsz, c)

    def logits(flat, x):
        _, outs = jax.lax.scan(lambda h, x_t: f(flat, h, x_t), h0, jnp.swapaxes(x, 0, 1))
        return outs[-1]

    return logits


def _loop_for(module, loop: str) -> str:
    used = ("sequence" if hasattr(module, "forward_sequence") else "step") if loop == "auto" else loop
    if used == "sequence" and not hasattr(module, "forward_sequence"):
        raise ValueError("loop='sequence' needs a module with forward_sequence(x)")
    return used


def _make_loss(pm: PureModule, w_fn, loop: str, bsz: int, t: int, c: int, noise: float):
    """``loss(params, x, y, key, (regularizers, buffers)) -> (total, (ce, penalty, acc))``: input
    noise as the fast path (same keys), logits at the last step, penalty on ``w_fn``'s W_rec."""
    logits_fn = _logits_fn(pm, loop, bsz, t, c)

    def loss_fn(p, x, y, key, ctx):
        regs, buf = ctx
        p = {**p, **buf}
        if noise > 0:
            x = x + noise * jax.random.normal(key, x.shape, x.dtype)
        logits = logits_fn(p, x)
        ce = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
        pen = total_penalty(regs, w_fn(p))
        return ce + pen, (ce, pen, (jnp.argmax(logits, -1) == y).mean())

    return loss_fn


def module_train_step(module, regularizers: Sequence[Callable], optimizer, *, batch_size: int, n_time: int,
                      n_inputs: int, loop: str = "auto", input_noise: float | None = None,
                      w_rec_selector: str | Callable | None = None, reset: Callable | None = None):
    """The module path's guarded optimizer step for one built ``module`` -- the counterpart of
    :func:`models.make_train_step` (used by ``python -m connectome_priors perf``). Returns ``(step,
    params, buffers)``: ``step(carry, (x, y, key)) -> (carry, (ce, penalty, acc))`` with ``carry =
    (params, opt_state, alive, failed_step, failed_reason, step_count)`` and ``x`` (B, T, C)."""
    pm = PureModule(module, reset)
    _, w_fn = _select_w_rec(pm, w_rec_selector)
    flat = {k: jnp.asarray(v) for k, v in pm.layout.read().items()}
    buffers = {k: flat.pop(k) for k in pm.buffer_names}
    noise = float(getattr(module, "input_noise", 0.05) if input_noise is None else input_noise)
    loss_fn = _make_loss(pm, w_fn, _loop_for(module, loop), int(batch_size), int(n_time), int(n_inputs), noise)
    guarded = _guarded_step(loss_fn, optimizer, getattr(module, "project_params", None) or (lambda p: p))
    regs = tuple(regularizers)
    return (lambda carry, batch: guarded(carry, batch, (regs, buffers))), flat, buffers


def train_module(
    factory: Callable | str,
    task: Any,
    *,
    seeds: Sequence[int] = (0,),
    epochs: int = 10,
    batch_size: int = 128,
    n_train: int = 5120,
    n_val: int = 2560,
    n_test: int = 2560,
    lr: float = 1e-3,
    regularizers: Sequence[Callable] = (),
    w_rec_init: Any = None,
    shuffle: bool = False,
    test_every_epoch: bool = False,
    optimizer: optax.GradientTransformation | None = None,
    input_noise: float | None = None,
    w_rec_selector: str | Callable | None = None,
    loop: str = "auto",
    reset: Callable | None = None,
    factory_kwargs: dict | None = None,
) -> TrainResult:
    """Train a module factory's networks, one per seed, in one compiled program (see the
    ``connectome_priors.models._train_module`` docstring for the contract). Arguments shared with
    :func:`models.train` mean the same; returns a :class:`TrainResult`."""
    ref = factory if isinstance(factory, str) else factory_ref(factory)
    factory = resolve_model(factory)
    if loop not in LOOPS:
        raise ValueError(f"loop={loop!r} is not one of {LOOPS}")
    seeds, n_steps = check_protocol(seeds, epochs, batch_size, n_train, n_val, n_test)
    epochs, batch_size = int(epochs), int(batch_size)
    xtr, ytr, xva, yva, xte, yte = stack_splits(task, seeds, n_train, n_val, n_test)
    t_len, c = xtr.shape[2], xtr.shape[3]
    n_classes = int(max(ytr.max(), yva.max(), yte.max())) + 1

    # one module per seed; the first is the template whose calls are traced
    kwargs = {**(factory_kwargs or {}), "n_inputs": c, "n_outputs": n_classes}
    accepted = factory_accepts(factory)
    init_by_factory = w_rec_init is not None and (accepted is None or "w_rec_init" in accepted)
    per_seed = ([np.asarray(w_rec_init[i]) for i in range(len(seeds))]
                if isinstance(w_rec_init, (np.ndarray, jax.Array)) and np.ndim(w_rec_init) == 3
                else [w_rec_init.with_seed(s) if hasattr(w_rec_init, "with_seed") else w_rec_init for s in seeds])
    modules = [build_module(factory, s, {**kwargs, "w_rec_init": init} if init_by_factory else kwargs)
               for s, init in zip(seeds, per_seed)]
    pm = PureModule(modules[0], reset)
    flats = [ParamLayout({**discover(m)[0], **discover(m)[1]}).read() for m in modules]
    for s, f in zip(seeds, flats):
        if {k: np.shape(v) for k, v in f.items()} != {k: np.shape(v) for k, v in flats[0].items()}:
            raise ValueError(f"the factory's module for seed {s} has other parameters than for seed {seeds[0]}")
    w_name, w_fn = _select_w_rec(pm, w_rec_selector)
    if w_rec_init is not None and not init_by_factory:
        if w_name not in flats[0]:
            raise ValueError(f"w_rec_init: the factory takes no w_rec_init and W_rec ({w_name}) is not a parameter "
                             "to write it into; accept w_rec_init in the factory or select W_rec by name")
        n = int(np.shape(flats[0][w_name])[0])
        for s, f, init in zip(seeds, flats, per_seed):
            f[w_name] = jnp.asarray(draw_w_rec(init, n, s))
    stacked = {k: jnp.stack([jnp.asarray(f[k]) for f in flats]) for k in flats[0]}
    buffers0 = {k: stacked.pop(k) for k in pm.buffer_names}  # per-seed constants, not trained
    params0 = {k: v.astype(jnp.float32) for k, v in stacked.items()}
    noise = float(getattr(modules[0], "input_noise", 0.05) if input_noise is None else input_noise)
    project = getattr(modules[0], "project_params", None) or (lambda p: p)
    loop_used = _loop_for(modules[0], loop)
    lg_val = _logits_fn(pm, loop_used, int(n_val), t_len, c)
    lg_test = _logits_fn(pm, loop_used, int(n_test), t_len, c)
    opt = optax.adam(float(lr), eps=1e-7) if optimizer is None else optimizer

    def evaluate(logits_fn, p, x, y):  # p: params and buffers
        logits = logits_fn(p, x)
        ce = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
        return ce, (jnp.argmax(logits, -1) == y).mean(dtype=jnp.float32)

    loss_fn = _make_loss(pm, w_fn, loop_used, batch_size, t_len, c, noise)
    split = [_split_regularizer(r) for r in regularizers]
    reg_templates, reg_data = tuple(t for t, _ in split), tuple(d for _, d in split)
    step = _guarded_step(loss_fn, opt, project)

    def one_seed(params, buf, seed_key, xtr, ytr, xva, yva, xte, yte, reg_data):
        regs = tuple(_rebuild_regularizer(t, d) for t, d in zip(reg_templates, reg_data))
        noise_key, shuffle_key = jax.random.fold_in(seed_key, 2), jax.random.fold_in(seed_key, 3)
        n_used = n_steps * batch_size

        def epoch(carry, e):
            if shuffle:
                idx = jax.random.permutation(jax.random.fold_in(shuffle_key, e), xtr.shape[0])[:n_used]
                xs, ys = xtr[idx], ytr[idx]
            else:
                xs, ys = xtr[:n_used], ytr[:n_used]
            xs = xs.reshape((n_steps, batch_size) + xtr.shape[1:])
            ys = ys.reshape(n_steps, batch_size)
            keys = jax.vmap(lambda i: jax.random.fold_in(noise_key, i))(e * n_steps + jnp.arange(n_steps))
            carry, (ce, pen, acc) = jax.lax.scan(lambda cr, b: step(cr, b, (regs, buf)), carry, (xs, ys, keys))
            p = {**carry[0], **buf}
            val_ce, val_acc = evaluate(lg_val, p, xva, yva)
            if test_every_epoch:
                te_ce, te_acc = evaluate(lg_test, p, xte, yte)
            else:
                nan = jnp.full((), jnp.nan, jnp.float32)
                te_ce, te_acc = jax.lax.cond(e == epochs - 1, lambda q: evaluate(lg_test, q, xte, yte),
                                             lambda q: (nan, nan), p)
            row = {"train_acc": acc.mean(), "train_loss": ce.mean(), "train_penalty": pen.mean(),
                   "val_acc": val_acc, "val_loss": val_ce, "test_acc": te_acc, "test_loss": te_ce,
                   "penalty": total_penalty(regs, w_fn(p))}
            return carry, row

        carry = (params, opt.init(params), jnp.array(True), jnp.array(-1, jnp.int32),
                 jnp.array(0, jnp.int32), jnp.array(0, jnp.int32))
        carry, rows = jax.lax.scan(epoch, carry, jnp.arange(epochs))
        params, _, alive, failed_step, failed_reason, _ = carry
        return params, rows, alive, failed_step, failed_reason

    program = jax.jit(jax.vmap(one_seed, in_axes=(0, 0, 0, 0, 0, 0, 0, 0, 0, None)))
    keys = jnp.stack([jax.random.PRNGKey(s) for s in seeds])
    t0 = time.perf_counter()
    params, rows, alive, failed_step, failed_reason = program(params0, buffers0, keys, xtr, ytr, xva, yva, xte, yte,
                                                              reg_data)
    params = jax.tree_util.tree_map(np.asarray, {**params, **buffers0})  # buffers saved with the parameters
    wall = time.perf_counter() - t0
    w_rec = np.asarray(jax.jit(jax.vmap(w_fn))(params))

    metrics = {k: np.array(rows[k], dtype=np.float64) for k in METRIC_NAMES}
    failed_step = np.asarray(failed_step)
    status = status_lines(metrics, np.asarray(alive), failed_step, np.asarray(failed_reason), n_steps)
    spec = getattr(modules[0], "spec", None)
    spec = spec if isinstance(spec, RNNSpec) and set(params) == {"w_in", "w_rec", "b", "w_out", "b_out"} else None
    json_kwargs = {k: v for k, v in kwargs.items() if isinstance(v, (int, float, str, bool, type(None)))}
    config = {
        "task": task if isinstance(task, (int, str)) else _describe(task),
        "model": ref or _describe(factory), "factory_kwargs": json_kwargs, "loop": loop_used,
        "w_rec_name": w_name, "input_noise": noise, "param_names": sorted(params0),
        "buffer_names": sorted(buffers0),
        "seeds": seeds, "epochs": epochs, "batch_size": batch_size,
        "n_train": int(n_train), "n_val": int(n_val), "n_test": int(n_test),
        "steps_per_epoch": n_steps, "lr": float(lr), "shuffle": bool(shuffle),
        "test_every_epoch": bool(test_every_epoch),
        "optimizer": f"adam(lr={float(lr)}, eps=1e-7)" if optimizer is None else _describe(optimizer),
        "regularizers": [_describe(r) for r in regularizers],
        "w_rec_init": None if w_rec_init is None else (
            f"array{tuple(np.shape(w_rec_init))}" if isinstance(w_rec_init, (np.ndarray, jax.Array))
            else _describe(w_rec_init)),
        "data_seeds": {"train": seeds, "val": [derived_seed(s, "val") for s in seeds],
                       "test": [derived_seed(s, "test") for s in seeds]},
    }
    return TrainResult(spec=spec, seeds=np.array(seeds), metrics=metrics, params=params, status=status,
                       failed_step=failed_step, config=config, wall_time_s=wall, w_rec_effective=w_rec)
