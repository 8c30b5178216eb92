"""Training: BPTT + Adam for several seeds in one compiled program.

Protocol (the paper's Keras ``fit``, see docs/reference_protocol.md): ``n_train = 5120`` trials,
``batch_size = 128`` (40 steps per epoch), 10 epochs (400 steps), Adam with ``lr = 1e-3`` (and
``epsilon = 1e-7`` as Keras; optax adds it to the bias-corrected sqrt(v), Keras before the
correction, a difference that matters only in the first steps), loss = softmax cross-entropy at the last step + the sum of the
regularizers applied to the effective ``W_rec``. Input noise is on during training only.

One compiled program trains all seeds: ``jit(vmap(train_one_seed))`` with ``lax.scan`` over epochs
and, inside, over the steps of an epoch, so there is no per-step Python dispatch.

Data: for run seed ``s`` the training set is ``make_dataset(task, n_train, seed=s)`` (data seed =
run seed; unlike the paper, which drew one dataset per notebook run and shared it across all runs,
so our seeds vary data as well as initialization); validation and test sets use seeds derived from
``s`` (``derived_seed(s, "val")``, ``derived_seed(s, "test")``), so every variant trained with seed
``s`` sees the same train/val/test trials and variants are compared on equal footing. Batches are
taken in a fixed order each epoch (``shuffle=False``, as Keras with an unshuffled ``tf.data``
dataset); a remainder smaller than a batch is dropped.

Metrics, arrays of shape (seed, epoch):

* ``train_acc``/``train_loss``/``train_penalty``: the running mean over the epoch's batches, with
  noise on and weights changing -- Keras' ``accuracy``/``loss`` history, i.e. the paper's
  "Accuracy". (Keras' ``loss`` is ``train_loss + train_penalty``.)
* ``val_acc``/``val_loss``/``test_acc``/``test_loss``: cross-entropy and accuracy of the weights
  at the end of the epoch, no noise (the test set only after the last epoch unless
  ``test_every_epoch=True``; earlier entries NaN). ``penalty``: regularizer value at the end of
  the epoch.

Guard rails: a step whose loss or new weights are not finite is not applied; that seed's weights
and optimizer state stay frozen from then on, its ``status`` says where and why it stopped and
its metrics from that epoch on are NaN; the other seeds continue.

Example::

    >>> import numpy as np
    >>> def toy(n, seed):                      # the sign of the mean input decides the class
    ...     rng = np.random.default_rng(seed)
    ...     y = rng.integers(0, 2, n)
    ...     x = (2 * y[:, None, None] - 1) * 0.5 + rng.normal(0, 1, (n, 5, 1))
    ...     return x.astype("float32"), y
    >>> res = train(RNNSpec(n_hidden=8), toy, seeds=[0, 1], epochs=2, n_train=256,
    ...             n_val=64, n_test=64, batch_size=32)
    >>> res.metrics["val_acc"].shape
    (2, 2)
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._common import (  # noqa: F401 - re-exported names of the old module layout
    _REASONS,
    METRIC_NAMES,
    _all_finite,
    _describe,
    _rebuild_regularizer,
    _split_regularizer,
    check_protocol,
    derived_seed,
    load_trials,
    stack_splits,
    status_lines,
    total_penalty,
)
from ._result import TrainResult
from ._rnn import RNNSpec, effective_w_rec, forward, init_params, project


def _evaluate(params, spec, x, y):
    """(mean cross-entropy, accuracy) without input noise."""
    logits = forward(params, x, spec)
    ce = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    return ce, (jnp.argmax(logits, -1) == y).mean(dtype=jnp.float32)


def make_train_step(spec: RNNSpec, regularizers: Sequence[Callable], optimizer):
    """One guarded optimizer step ``(carry, (x, y, key)) -> (carry, (ce, penalty, acc))``.

    ``carry = (params, opt_state, alive, failed_step, failed_reason, step)``.
    """
    regularizers = tuple(regularizers)

    def loss_fn(params, x, y, key):
        logits = forward(params, x, spec, key)
        ce = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
        pen = total_penalty(regularizers, effective_w_rec(params, spec))
        acc = (jnp.argmax(logits, -1) == y).mean()
        return ce + pen, (ce, pen, acc)

    def step(carry, batch):
        params, opt_state, alive, failed_step, failed_reason, count = carry
        x, y, key = batch
        (loss, (ce, pen, acc)), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, x, y, key)
        updates, new_opt = optimizer.update(grads, opt_state, params)
        new_params = project(optax.apply_updates(params, updates), spec)
        loss_ok = jnp.isfinite(loss)
        ok = alive & loss_ok & _all_finite(new_params)
        keep = lambda new, old: jnp.where(ok, new, old)  # noqa: E731 - freeze a dead seed
        params = jax.tree_util.tree_map(keep, new_params, params)
        opt_state = jax.tree_util.tree_map(keep, new_opt, opt_state)
        newly_dead = alive & ~ok
        failed_step = jnp.where(newly_dead, count, failed_step)
        failed_reason = jnp.where(newly_dead, jnp.where(loss_ok, 2, 1), failed_reason)
        return (params, opt_state, ok, failed_step, failed_reason, count + 1), (ce, pen, acc)

    return step


def _build_program(*args):
    """The jitted all-seeds program; cached so repeated ``train`` calls reuse the compilation."""
    try:
        return _build_program_cached(*args)
    except TypeError:  # an unhashable regularizer or optimizer: build without the cache
        return _build_program_cached.__wrapped__(*args)


@functools.lru_cache(maxsize=32)
def _build_program_cached(spec, reg_templates, optimizer, epochs, n_steps, batch_size, shuffle, test_every_epoch):
    if isinstance(optimizer, tuple) and optimizer and optimizer[0] == "keras-adam":
        optimizer = optax.adam(optimizer[1], eps=1e-7)

    def one_seed(params, seed_key, xtr, ytr, xva, yva, xte, yte, reg_data):
        regularizers = tuple(_rebuild_regularizer(t, d) for t, d in zip(reg_templates, reg_data))
        step = make_train_step(spec, regularizers, optimizer)
        noise_key = jax.random.fold_in(seed_key, 2)
        shuffle_key = jax.random.fold_in(seed_key, 3)
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
            carry, (ce, pen, acc) = jax.lax.scan(step, carry, (xs, ys, keys))
            p = carry[0]
            val_ce, val_acc = _evaluate(p, spec, xva, yva)
            if test_every_epoch:
                te_ce, te_acc = _evaluate(p, spec, xte, yte)
            else:  # the test set costs as much as the val set: only after the last epoch
                nan = jnp.full((), jnp.nan, jnp.float32)
                te_ce, te_acc = jax.lax.cond(e == epochs - 1, lambda q: _evaluate(q, spec, xte, yte),
                                             lambda q: (nan, nan), p)
            row = {
                "train_acc": acc.mean(), "train_loss": ce.mean(), "train_penalty": pen.mean(),
                "val_acc": val_acc, "val_loss": val_ce, "test_acc": te_acc, "test_loss": te_ce,
                "penalty": total_penalty(regularizers, effective_w_rec(p, spec)),
            }
            return carry, row

        opt_state = optimizer.init(params)
        carry = (params, opt_state, jnp.array(True), jnp.array(-1, jnp.int32),
                 jnp.array(0, jnp.int32), jnp.array(0, jnp.int32))
        carry, rows = jax.lax.scan(epoch, carry, jnp.arange(epochs))
        params, _, alive, failed_step, failed_reason, _ = carry
        return params, rows, alive, failed_step, failed_reason

    # regularizer data is shared by all seeds (not mapped)
    return jax.jit(jax.vmap(one_seed, in_axes=(0, 0, 0, 0, 0, 0, 0, 0, None)))


def train(
    spec: RNNSpec | Callable | str | None = None,
    task: Any = None,
    *,
    model: Callable | str | None = None,
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
    **module_options: Any,
) -> TrainResult:
    """Train the network on ``task`` for every seed in ``seeds`` in one compiled program.

    spec: an :class:`RNNSpec` (the fast built-in path; ``n_inputs``/``n_outputs`` left ``None``
        are taken from the data), or a module factory ``seed -> brainstate/brainpy module`` (also
        as ``model=``, or an import path ``"package.module:factory"``): the module path, see
        :func:`models.train_module` for its contract and its extra keywords (``input_noise``,
        ``w_rec_selector``, ``loop``, ``reset``, ``factory_kwargs``), passed through here.
    task: ``envs`` task id (1/2/3, "Task1", ...) or callable ``(n_trials, seed) -> trials``.
    regularizers: callables ``penalty(W_rec) -> scalar`` added to the loss, e.g.
        ``functools.partial(connectome_priors.communicability_cost, D=D, lam=0.3)``.
    w_rec_init: initializer for ``W_rec`` (see ``draw_w_rec``), or an array (S, N, N) / (N, N).
    test_every_epoch: evaluate the test set after every epoch (default: after the last one only;
        ``test_*`` metrics of earlier epochs are NaN -- each evaluation costs as much compute as
        the validation pass, which the paper's protocol runs every epoch).
    optimizer: default ``optax.adam(lr, eps=1e-7)`` (Keras' Adam epsilon).

    Returns a :class:`TrainResult`. Formula per step:
    ``loss = mean_b CE(softmax(h_T W_out + b_out), y) + sum_r r(W_rec)``.
    """
    if model is not None:
        if spec is not None:
            raise TypeError("pass the network either as the first argument or as model=, not both")
        spec = model
    if spec is None or task is None:
        raise TypeError("train() needs a network (an RNNSpec or a module factory) and a task")
    if not isinstance(spec, RNNSpec):
        from ._train_module import train_module

        return train_module(spec, task, seeds=seeds, epochs=epochs, batch_size=batch_size, n_train=n_train,
                            n_val=n_val, n_test=n_test, lr=lr, regularizers=regularizers, w_rec_init=w_rec_init,
                            shuffle=shuffle, test_every_epoch=test_every_epoch, optimizer=optimizer, **module_options)
    if module_options:
        raise TypeError(f"options {sorted(module_options)} apply to module factories only, not to an RNNSpec")
    seeds, n_steps = check_protocol(seeds, epochs, batch_size, n_train, n_val, n_test)
    xtr, ytr, xva, yva, xte, yte = stack_splits(task, seeds, n_train, n_val, n_test)
    n_classes = int(max(ytr.max(), yva.max(), yte.max())) + 1
    spec = dataclasses.replace(
        spec,
        n_inputs=xtr.shape[-1] if spec.n_inputs is None else spec.n_inputs,
        n_outputs=n_classes if spec.n_outputs is None else spec.n_outputs,
    )
    if spec.n_inputs != xtr.shape[-1]:
        raise ValueError(f"spec.n_inputs={spec.n_inputs} but task {task!r} has {xtr.shape[-1]} input channels")
    if n_classes > spec.n_outputs:
        raise ValueError(f"spec.n_outputs={spec.n_outputs} but task {task!r} has labels up to {n_classes - 1}")

    n = int(spec.n_hidden)
    if isinstance(w_rec_init, (np.ndarray, jax.Array)) and np.ndim(w_rec_init) == 3:
        if np.shape(w_rec_init) != (len(seeds), n, n):
            raise ValueError(f"w_rec_init has shape {np.shape(w_rec_init)}, expected ({len(seeds)}, {n}, {n})")
        per_seed = [np.asarray(w_rec_init[i]) for i in range(len(seeds))]
    else:
        per_seed = [w_rec_init] * len(seeds)
    params0 = [init_params(spec, s, init) for s, init in zip(seeds, per_seed)]
    params0 = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *params0)
    keys = jnp.stack([jax.random.PRNGKey(s) for s in seeds])

    opt_desc = f"adam(lr={float(lr)}, eps=1e-7)" if optimizer is None else _describe(optimizer)
    opt_key = ("keras-adam", float(lr)) if optimizer is None else optimizer
    split = [_split_regularizer(r) for r in regularizers]
    reg_templates = tuple(t for t, _ in split)
    reg_data = tuple(d for _, d in split)
    program = _build_program(spec, reg_templates, opt_key, int(epochs), n_steps, int(batch_size), bool(shuffle),
                             bool(test_every_epoch))
    t0 = time.perf_counter()
    params, rows, alive, failed_step, failed_reason = program(params0, keys, xtr, ytr, xva, yva, xte, yte, reg_data)
    params = jax.tree_util.tree_map(np.asarray, params)
    wall = time.perf_counter() - t0

    metrics = {k: np.array(rows[k], dtype=np.float64) for k in METRIC_NAMES}
    failed_step = np.asarray(failed_step)
    status = status_lines(metrics, np.asarray(alive), failed_step, np.asarray(failed_reason), n_steps)

    config = {
        "task": task if isinstance(task, (int, str)) else _describe(task),
        "seeds": seeds, "epochs": int(epochs), "batch_size": int(batch_size),
        "n_train": int(n_train), "n_val": int(n_val), "n_test": int(n_test),
        "steps_per_epoch": n_steps, "lr": float(lr), "shuffle": bool(shuffle),
        "test_every_epoch": bool(test_every_epoch),
        "optimizer": opt_desc,
        "regularizers": [_describe(r) for r in regularizers],
        "w_rec_init": None if w_rec_init is None else (
            f"array{tuple(np.shape(w_rec_init))}" if isinstance(w_rec_init, (np.ndarray, jax.Array))
            else _describe(w_rec_init)),
        "data_seeds": {"train": seeds, "val": [derived_seed(s, "val") for s in seeds],
                       "test": [derived_seed(s, "test") for s in seeds]},
    }
    return TrainResult(spec=spec, seeds=np.array(seeds), metrics=metrics, params=params, status=status,
                       failed_step=failed_step, config=config, wall_time_s=wall)
