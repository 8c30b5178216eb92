"""What the training loop (``_train``) and its step (``_step``) share: data and seeds, regularizers
(their array data become program arguments), metric names and status lines."""

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
#: optimizer steps per point of the learning curve (``models.train(curve_every=...)``): 8 points per epoch of
#: the paper's protocol (40 steps), 80 per run -- fine enough for steps-to-criterion, small enough to commit
DEFAULT_CURVE_EVERY = 5
_REASONS = {0: "ok", 1: "non-finite loss", 2: "non-finite weights"}


def derived_seed(seed: int, purpose: str) -> int:
    """A data seed for ``purpose`` derived from the run seed (deterministic).

    Args:
        seed: the run seed.
        purpose: what the data is for, e.g. ``"val"`` or ``"test"``.

    Returns:
        A seed in [0, 2**31 - 1).

    Example:
        >>> derived_seed(0, "val") == derived_seed(0, "val") != derived_seed(0, "test")
        True
    """
    tag = int.from_bytes(purpose.encode(), "little") % (2**31)
    return int(np.random.SeedSequence([int(seed), tag]).generate_state(1)[0] % (2**31 - 1))


def load_trials(task: Any, n_trials: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The trials of a task as arrays.

    Args:
        task: a task id understood by ``envs.make_dataset`` (1/2/3, "Task1", names) or a
            callable ``(n_trials, seed) -> TrialBatch | (inputs, labels)``.
        n_trials: how many trials.
        seed: the data seed.

    Returns:
        ``(inputs (n, T, C) float32, labels (n,) int32)``.

    Raises:
        ValueError: the task gave arrays of other shapes.
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
    """The summed penalty of ``W_rec``.

    Args:
        regularizers: callables ``penalty(W_rec) -> scalar``.
        w: the recurrent matrix.

    Returns:
        ``sum_r r(w)`` in ``w``'s dtype (0 when there are none).

    Example:
        >>> float(total_penalty([jnp.sum, lambda w: 2 * jnp.sum(w)], jnp.ones((2, 2))))
        12.0
    """
    total = jnp.zeros((), w.dtype)
    for reg in regularizers:
        total = total + jnp.asarray(reg(w), w.dtype)
    return total


def all_finite(tree: Any) -> jax.Array:
    """Whether every leaf of ``tree`` is finite everywhere (a boolean scalar)."""
    leaves = jax.tree_util.tree_leaves(tree)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))


def split_regularizer(reg: Callable) -> tuple[tuple, dict[str, jax.Array]]:
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


def rebuild_regularizer(template: tuple, data: dict[str, jax.Array]) -> Callable:
    """The regularizer of a :func:`split_regularizer` template with its array ``data`` (inside the program)."""
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


def stack_splits(task: Any, seeds: Sequence[int], n_train: int, n_val: int, n_test: int) -> tuple[np.ndarray, ...]:
    """``(xtr, ytr, xva, yva, xte, yte)``, each stacked over seeds; the training trials of seed ``s``
    are drawn with data seed ``s``, validation and test with ``derived_seed(s, "val" / "test")``."""
    return (*_stack_seed_data(task, seeds, n_train, "train"), *_stack_seed_data(task, seeds, n_val, "val"),
            *_stack_seed_data(task, seeds, n_test, "test"))


def describe(obj: Any) -> str:
    """A short JSON-ready description for the result's config: a partial's function and its scalar keywords, a
    function's name, else ``repr``."""
    if isinstance(obj, functools.partial):
        kw = {k: v for k, v in obj.keywords.items() if np.ndim(v) == 0}
        return f"{getattr(obj.func, '__name__', repr(obj.func))}({', '.join(f'{k}={v!r}' for k, v in kw.items())})"
    return getattr(obj, "__name__", None) or repr(obj)


def status_lines(metrics: dict[str, np.ndarray], alive: np.ndarray, failed_step: np.ndarray,
                 failed_reason: np.ndarray, n_steps: int) -> list[str]:
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


def block_means(x: jax.Array, every: int) -> jax.Array:
    """Means of ``x`` (n,) over consecutive blocks of ``every`` entries (the last block may be shorter).

    Args:
        x: per-step values of one epoch.
        every: block length.

    Returns:
        ``(ceil(n / every),)`` block means.

    Example:
        >>> block_means(jnp.arange(5.0), 2).tolist()
        [0.5, 2.5, 4.0]
    """
    n = x.shape[0]
    n_blocks = -(-n // every)
    block = jnp.arange(n) // every
    sums = jax.ops.segment_sum(x, block, n_blocks)
    return sums / jax.ops.segment_sum(jnp.ones_like(x), block, n_blocks)


def curve_steps(epochs: int, steps_per_epoch: int, every: int) -> np.ndarray:
    """The global optimizer step at the end of each learning-curve block (see :func:`block_means`).

    Args:
        epochs: number of epochs.
        steps_per_epoch: optimizer steps per epoch.
        every: block length.

    Returns:
        int array ``(epochs * ceil(steps_per_epoch / every),)``.

    Example:
        >>> curve_steps(2, 5, 2).tolist()
        [2, 4, 5, 7, 9, 10]
    """
    ends = np.minimum(np.arange(every, steps_per_epoch + every, every), steps_per_epoch)
    return (np.arange(epochs)[:, None] * steps_per_epoch + ends[None, :]).ravel().astype(np.int64)
