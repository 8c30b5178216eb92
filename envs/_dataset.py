"""Seeded supervised batches and task specs built from the same trial definitions as the environments."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ._counter_rng import trial_keys
from ._trials import DEFINITIONS, TrialDefinition

# lower-cased aliases -> canonical key of DEFINITIONS
_ALIASES: dict[str, str] = {}
for _key, _cls in DEFINITIONS.items():
    _number = _key[-1]
    for _alias in (_key, _cls.name, f"cortex/{_key}-v0", f"cortex/{_cls.name}-v0", _number):
        _ALIASES[_alias.lower()] = _key


class TrialBatch(NamedTuple):
    """A batch of trials, as :func:`make_dataset` returns it.

    Attributes:
        inputs: [n, T, C] float32, the observations of every step.
        labels: [n] int64, the class read out at step T - 1.
        info: per-trial [n] arrays: ``trial_index`` always; ``maze`` / ``goal`` for Task1, ``coherence`` (%) for
            Task2.

    Example:
        >>> batch = make_dataset(3, 2, seed=0)
        >>> batch.inputs.shape, batch.labels.dtype, sorted(batch.info)
        ((2, 40, 3), dtype('int64'), ['trial_index'])
    """

    inputs: np.ndarray
    labels: np.ndarray
    info: dict[str, np.ndarray]


def resolve_task(task: int | str) -> str:
    """Canonical task key ("Task1", "Task2", "Task3") from 1/2/3, "Task1", a descriptive name or a gym id.

    Args:
        task: 1, 2, 3, "Task1".., "OneChoiceInference".., "cortex/Task1-v0".. (case-insensitive).

    Returns:
        "Task1", "Task2" or "Task3".

    Raises:
        TypeError: ``task`` is neither an integer nor a string.
        ValueError: an unknown task.

    Example:
        >>> resolve_task(2), resolve_task("GoNoGo"), resolve_task("cortex/Task1-v0")
        ('Task2', 'Task3', 'Task1')
    """
    if isinstance(task, bool) or not isinstance(task, int | str | np.integer):
        raise TypeError(f"task must be 1, 2, 3 or a task name, got {type(task).__name__} {task!r}")
    key = _ALIASES.get(str(task).strip().lower())
    if key is None:
        names = ", ".join(f"{k} ({cls.name})" for k, cls in DEFINITIONS.items())
        raise ValueError(f"unknown task {task!r}; expected 1, 2, 3 or one of: {names}")
    return key


def trial_definition(task: int | str, **task_kwargs: Any) -> TrialDefinition:
    """The trial definition of ``task`` built with the task's constructor arguments (dt, timing, ...).

    Args:
        task: anything :func:`resolve_task` accepts.
        **task_kwargs: ``dt``, ``timing`` and, for Task2, ``coherences`` and ``sigma``.

    Returns:
        The task's :class:`~connectome_priors.envs._trials.TrialDefinition`.

    Raises:
        TypeError: an argument the task does not take.
        ValueError: an unknown task or a bad argument value.

    Example:
        >>> trial_definition("GoNoGo", dt=50).n_steps
        80
    """
    cls = DEFINITIONS[resolve_task(task)]
    try:
        return cls(**task_kwargs)
    except TypeError as error:
        raise TypeError(f"{cls.name}: bad task argument(s) {sorted(task_kwargs)}: {error}") from None


def make_dataset(
    task: int | str, n_trials: int, seed: int, *, first_trial: int = 0, **task_kwargs: Any
) -> TrialBatch:
    """Trials ``first_trial .. first_trial + n_trials - 1`` of the seeded trial stream of ``task``.

    Trial ``i`` depends only on ``(seed, i, task_kwargs)``: its key is
    ``mix(base(seed) + (i + 1) * GAMMA)`` (SplitMix64, see ``connectome_priors.envs._counter_rng``), so the same seed
    gives
    the same batch, a longer batch starts with the shorter one, and different seeds give different
    trials. ``env.reset(seed=seed)`` makes an environment of the same task start the same stream: its
    k-th trial after the reset is trial k here. Built with array operations only (no loop over trials
    or steps). ``task_kwargs`` are the environment's trial arguments: ``dt`` (ms per step), ``timing``
    (ms per period, multiples of dt), and for Task2 ``coherences`` and ``sigma``.

    Args:
        task: anything :func:`resolve_task` accepts.
        n_trials: how many trials.
        seed: non-negative integer seed of the trial stream.
        first_trial: index of the first trial returned.
        **task_kwargs: the task's trial arguments (see above).

    Returns:
        A :class:`TrialBatch`.

    Raises:
        ValueError: a negative or non-integer ``n_trials``, ``first_trial`` or ``seed``, or a bad task argument.
        TypeError: an argument the task does not take.

    Example:
        >>> batch = make_dataset("Task1", 4, seed=0)
        >>> batch.inputs.shape, batch.inputs.dtype, batch.labels.shape
        ((4, 50, 8), dtype('float32'), (4,))
        >>> bool((make_dataset(1, 2, seed=0).inputs == batch.inputs[:2]).all())
        True
    """
    if isinstance(n_trials, bool) or not isinstance(n_trials, int | np.integer) or n_trials < 0:
        raise ValueError(f"n_trials must be a non-negative integer, got {n_trials!r}")
    if isinstance(first_trial, bool) or not isinstance(first_trial, int | np.integer) or first_trial < 0:
        raise ValueError(f"first_trial must be a non-negative integer, got {first_trial!r}")
    definition = trial_definition(task, **task_kwargs)
    indices = np.arange(first_trial, first_trial + n_trials, dtype=np.int64)
    inputs, labels, info = definition.sample(trial_keys(seed, indices))
    return TrialBatch(inputs=inputs, labels=labels, info={"trial_index": indices, **info})


def task_spec(task: int | str, **task_kwargs: Any) -> dict[str, Any]:
    """Shapes and timeline of ``task``, for model and benchmark code.

    Returns a dict with ``task`` ("Task1"..), ``name``, ``env_id``, ``n_inputs``, ``n_outputs`` (classes
    read out), ``T`` (steps), ``dt`` (ms), ``periods`` ({name: (start, stop)} in steps, in order,
    stop exclusive), ``readout_step`` (T - 1), ``input_names`` and ``label_names``.

    Args:
        task: anything :func:`resolve_task` accepts.
        **task_kwargs: the task's trial arguments, as for :func:`make_dataset`.

    Returns:
        The dict described above.

    Raises:
        ValueError: an unknown task or a bad task argument.
        TypeError: an argument the task does not take.

    Example:
        >>> spec = task_spec(3)
        >>> spec["n_inputs"], spec["n_outputs"], spec["T"], spec["periods"]["decision"]
        (3, 2, 40, (35, 40))
    """
    key = resolve_task(task)
    definition = trial_definition(key, **task_kwargs)
    return {
        "task": key,
        "name": definition.name,
        "env_id": f"cortex/{key}-v0",
        "n_inputs": definition.n_inputs,
        "n_outputs": definition.n_outputs,
        "T": definition.n_steps,
        "dt": definition.dt,
        "periods": definition.boundaries,
        "readout_step": definition.n_steps - 1,
        "input_names": definition.input_names,
        "label_names": definition.label_names,
    }
