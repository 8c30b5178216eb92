"""Helpers shared by the fast path (``_train``) and the module path (``_train_module``): data,
seeds, regularizers (their array data become program arguments), metric names and status lines."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

METRIC_NAMES = (
    "train_acc", "train_loss", "train_penalty",
    "val_acc", "val_loss", "test_acc", "test_loss", "penalty",
)
_REASONS = {0: "ok", 1: "non-finite loss", 2: "non-finite weights"}


def derived_seed(seed: int, purpose: str) -> int:
    """A data seed for ``purpose`` ('val', 'test', ...) derived from the run seed (deterministic)."""
    tag = int.from_bytes(purpose.encode(), "little") % (2**31)
    return int(np.random.SeedSequence([int(seed), tag]).generate_state(1)[0] % (2**31 - 1))


def load_trials(task: Any, n_trials: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(inputs (n, T, C) float32, labels (n,) int32) from a task id or a dataset callable.

    ``task`` is a task id understood by ``envs.make_dataset`` (1/2/3, "Task1", names) or a
    callable ``(n_trials, seed) -> TrialBatch | (inputs, labels)``.
    """
    if callable(task) and not isinstance(task, (int, str)):
        batch = task(int(n_trials), int(seed))
    else:
        from connectome_priors import envs

        batch = envs.make_dataset(task, int(n_trials), seed=int(seed))
    if isinstance(batch, tuple):
        inputs, labels = batch[0], batch[1]
    else:
        inputs, labels = batch.inputs, batch.labels
    inputs = np.asarray(inputs, np.float32)
    labels = np.asarray(labels)
    if inputs.ndim != 3 or labels.shape != (inputs.shape[0],):
        raise ValueError(
            f"task {task!r} gave inputs {inputs.shape} and labels {labels.shape}; "
            "expected (n_trials, T, C) and (n_trials,)")
    return inputs, labels.astype(np.int32)


def total_penalty(regularizers: Sequence[Callable], w: jax.Array) -> jax.Array:
    """Sum of ``penalty(W_rec)`` over ``regularizers`` (0 when there are none)."""
    total = jnp.zeros((), w.dtype)
    for reg in regularizers:
        total = total + jnp.asarray(reg(w), w.dtype)
    return total


def _all_finite(tree) -> jax.Array:
    leaves = jax.tree_util.tree_leaves(tree)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))


def _split_regularizer(reg: Callable) -> tuple[tuple, dict[str, jax.Array]]:
    """``(hashable template, array data)`` of a regularizer.

    Arrays bound as keywords of a ``functools.partial`` (a distance matrix ``D``, an empirical
    ``C_emp``) become arguments of the compiled program instead of constants baked into it, so
    regularizers that differ only in their data share one compilation (the ablation's variants).
    """
    if isinstance(reg, functools.partial) and not reg.args:
        arrays = {k: jnp.asarray(np.asarray(v)) for k, v in reg.keywords.items()
                  if not isinstance(v, (str, bytes)) and np.ndim(v) > 0}
        static = tuple(sorted((k, v) for k, v in reg.keywords.items() if k not in arrays))
        signature = tuple(sorted((k, v.shape, str(v.dtype)) for k, v in arrays.items()))
        return ("partial", reg.func, static, signature), arrays
    return ("callable", reg), {}


def _rebuild_regularizer(template: tuple, data: dict[str, jax.Array]) -> Callable:
    if template[0] == "partial":
        return functools.partial(template[1], **dict(template[2]), **data)
    return template[1]


def _stack_seed_data(task, seeds, n, purpose):
    xs, ys = [], []
    for s in seeds:
        data_seed = int(s) if purpose == "train" else derived_seed(int(s), purpose)
        x, y = load_trials(task, n, data_seed)
        xs.append(x)
        ys.append(y)
    shapes = {x.shape for x in xs}
    if len(shapes) != 1:
        raise ValueError(f"task {task!r} gave {purpose} inputs of different shapes across seeds: {shapes}")
    return np.stack(xs), np.stack(ys)


def check_protocol(seeds: Sequence[int], epochs: int, batch_size: int, n_train: int, n_val: int,
                   n_test: int) -> tuple[list[int], int]:
    """Validate the arguments shared by both training paths; return (seeds as ints, steps per epoch)."""
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    for name, v in (("epochs", epochs), ("batch_size", batch_size), ("n_train", n_train),
                    ("n_val", n_val), ("n_test", n_test)):
        if int(v) < 1:
            raise ValueError(f"{name} must be a positive integer, got {v}")
    n_steps = int(n_train) // int(batch_size)
    if n_steps < 1:
        raise ValueError(f"n_train={n_train} is smaller than batch_size={batch_size}")
    return seeds, n_steps


def stack_splits(task: Any, seeds: Sequence[int], n_train: int, n_val: int, n_test: int) -> tuple[np.ndarray, ...]:
    """(xtr, ytr, xva, yva, xte, yte), each stacked over seeds; every split drawn from its own seed."""
    return (*_stack_seed_data(task, seeds, n_train, "train"), *_stack_seed_data(task, seeds, n_val, "val"),
            *_stack_seed_data(task, seeds, n_test, "test"))


def _describe(obj) -> str:
    if isinstance(obj, functools.partial):
        kw = {k: v for k, v in obj.keywords.items() if np.ndim(v) == 0}
        return f"{getattr(obj.func, '__name__', repr(obj.func))}({', '.join(f'{k}={v!r}' for k, v in kw.items())})"
    return getattr(obj, "__name__", None) or repr(obj)




def status_lines(metrics: dict, alive, failed_step, failed_reason, n_steps: int) -> list[str]:
    """``"ok"`` or where and why each seed stopped; NaN-fills a stopped seed's metrics in place."""
    status = []
    for i in range(len(alive)):
        if bool(alive[i]):
            status.append("ok")
            continue
        fs = int(failed_step[i])
        epoch, step = divmod(fs, n_steps)
        status.append(f"stopped: {_REASONS[int(failed_reason[i])]} at epoch {epoch} step {step} "
                      f"(global step {fs}); weights frozen at the last finite step")
        for k in metrics:
            metrics[k][i, epoch:] = np.nan
    return status
