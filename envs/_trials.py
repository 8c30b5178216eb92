"""The three tasks' trial definitions: vectorised, numpy only (no neurogym, no jax).

A definition turns per-trial keys (see ``_counter_rng``) into a batch of trials. Both the NeuroGym
environments (one trial at a time) and :func:`envs.make_dataset` (thousands at a time) call the same
``sample`` method, so the two produce the same trials by construction.

Time is discretised in steps of ``dt`` milliseconds. ``timing`` follows NeuroGym: period durations in
milliseconds, each a multiple of ``dt`` so that step counts are exact. The default durations are the
paper's step counts times 100 ms, so the default ``dt = 100`` gives the paper's steps exactly (and
``dt = 50`` twice as many steps of the same durations).

Draw indices per trial (the counter-based RNG's second coordinate): condition draws use indices
0..15, noise starts at 16, so adding a condition never shifts the noise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from ._counter_rng import normals, uniforms

_NOISE_DRAWS = 16
DEFAULT_DT = 100  # ms per step at which the default timings give the paper's step counts


def _steps_from_timing(
    task: str, defaults_steps: Mapping[str, int], dt: float, timing: Mapping[str, float] | None
) -> tuple[tuple[str, int], ...]:
    """Period (name, steps) in order, from NeuroGym-style ``timing`` in ms; errors name the bad entry."""
    if not np.isfinite(dt) or dt <= 0:
        raise ValueError(f"{task}: dt must be a positive number of milliseconds, got {dt!r}")
    # defaults are physical durations (paper steps x 100 ms), as in NeuroGym: a finer dt gives more steps
    timing_ms = {name: steps * DEFAULT_DT for name, steps in defaults_steps.items()}
    if timing is not None:
        unknown = set(timing) - set(timing_ms)
        if unknown:
            raise ValueError(
                f"{task}: unknown period(s) {sorted(unknown)} in timing; periods are {list(timing_ms)}"
            )
        timing_ms.update(timing)
    periods = []
    for name, ms in timing_ms.items():
        if isinstance(ms, bool) or not isinstance(ms, int | float | np.integer | np.floating) or not np.isfinite(ms):
            raise ValueError(f"{task}: timing[{name!r}] must be a finite duration in ms, got {ms!r}")
        steps = round(ms / dt)
        if ms < 0 or abs(steps * dt - ms) > 1e-9 * max(abs(ms), 1.0):
            raise ValueError(
                f"{task}: timing[{name!r}] = {ms} ms is not a non-negative multiple of dt = {dt} ms"
            )
        periods.append((name, int(steps)))
    if sum(steps for _, steps in periods) < 1:
        raise ValueError(f"{task}: a trial needs at least one step, got timing {timing_ms}")
    return tuple(periods)


def _condition(
    task: str, name: str, value: Any, n: int, allowed: Sequence[float] | None = None
) -> np.ndarray:
    """Broadcast an override of a trial condition to [n]; check it against the allowed values."""
    array = np.broadcast_to(np.asarray(value), (n,))
    if allowed is not None and not np.isin(array, np.asarray(allowed)).all():
        raise ValueError(f"{task}: {name} must be one of {list(allowed)}, got {value!r}")
    return array


class TrialDefinition:
    """Common layout of a task: ordered periods in steps, input channels, classes read out at T - 1.

    Args:
        dt: milliseconds per step.
        timing: period durations in ms (NeuroGym style, multiples of ``dt``) overriding the defaults.

    Raises:
        ValueError: a non-positive ``dt``, an unknown period, or a duration that is not a non-negative multiple
            of ``dt``.

    Example:
        >>> d = GoNoGoTrials(dt=100, timing={"delay": 500})
        >>> d.periods, d.n_steps, d.window("decision")
        ((('fixation', 5), ('stimulus', 20), ('delay', 5), ('decision', 5)), 35, slice(30, 35, None))
    """

    name: ClassVar[str]
    paper_name: ClassVar[str]
    input_names: ClassVar[tuple[str, ...]]
    label_names: ClassVar[tuple[str, ...]]
    default_steps: ClassVar[dict[str, int]]
    conditions: ClassVar[tuple[str, ...]]  # overridable per-trial conditions (NeuroGym new_trial kwargs)

    def __init__(self, dt: float = 100, timing: Mapping[str, float] | None = None) -> None:
        self.dt = dt
        self.periods = _steps_from_timing(self.name, self.default_steps, dt, timing)

    @property
    def n_inputs(self) -> int:
        """Number of input channels."""
        return len(self.input_names)

    @property
    def n_outputs(self) -> int:
        """Number of classes read out."""
        return len(self.label_names)

    @property
    def n_steps(self) -> int:
        """Steps of one trial (T)."""
        return sum(steps for _, steps in self.periods)

    @property
    def boundaries(self) -> dict[str, tuple[int, int]]:
        """Period name -> (first step, one past the last step)."""
        bounds, start = {}, 0
        for name, steps in self.periods:
            bounds[name] = (start, start + steps)
            start += steps
        return bounds

    def window(self, period: str) -> slice:
        """The steps of ``period`` as a slice.

        Args:
            period: a period name.

        Returns:
            ``slice(first step, one past the last step)``.

        Raises:
            KeyError: an unknown period.
        """
        start, stop = self.boundaries[period]
        return slice(start, stop)

    def sample(self, keys: np.ndarray, **conditions: Any) -> tuple[np.ndarray, np.ndarray, dict]:
        """Trials for the given keys.

        Args:
            keys: [n] uint64 trial keys (``_counter_rng.trial_keys``).
            **conditions: per-trial condition overrides (``self.conditions``), scalars or [n] arrays; None = drawn.

        Returns:
            ``(inputs [n, T, C] float32, labels [n] int64, info)`` with ``info`` a dict of [n] arrays.

        Raises:
            TypeError: a condition the task does not have.
            ValueError: a condition value outside the allowed ones.
        """
        unknown = set(conditions) - set(self.conditions)
        if unknown:
            raise TypeError(
                f"{self.name}: unknown trial condition(s) {sorted(unknown)}; "
                f"this task accepts {list(self.conditions)}"
            )
        keys = np.atleast_1d(np.asarray(keys, dtype=np.uint64))
        inputs, labels, info = self._sample(keys, {k: v for k, v in conditions.items() if v is not None})
        return inputs.astype(np.float32, copy=False), labels.astype(np.int64, copy=False), info

    def _sample(self, keys: np.ndarray, conditions: dict) -> tuple[np.ndarray, np.ndarray, dict]:
        raise NotImplementedError


class OneChoiceTrials(TrialDefinition):
    """Task 1, one-choice inference (one-step maze of Achterberg et al. 2023): goal -> delay -> choices.

    Inputs: channels 0-3 one-hot goal location (7, 9, 17, 19) during ``goal``; zeros during ``delay``;
    channels 4-7 (moves l, u, r, d) are 1 for the two candidate moves during ``choices``.
    Label: the move toward the goal, l=0, u=1, r=2, d=3. Mazes are drawn uniformly from the 8 below.
    Without memory of the goal (last step only) the best accuracy is 5/8 = 0.625.
    """

    name = "OneChoiceInference"
    paper_name = "Achterberg et al. 2023, one-step inference in a maze"
    input_names = ("goal_7", "goal_9", "goal_17", "goal_19", "move_l", "move_u", "move_r", "move_d")
    label_names = ("l", "u", "r", "d")
    default_steps = {"goal": 20, "delay": 10, "choices": 20}
    conditions = ("maze", "ground_truth")

    GOALS = (7, 9, 17, 19)
    # maze id -> (goal location, the two candidate moves, the correct move); moves l=0, u=1, r=2, d=3
    MAZES = (
        (9, (1, 0), 1),
        (9, (2, 3), 2),
        (19, (0, 3), 3),
        (17, (2, 3), 3),
        (17, (1, 0), 0),
        (7, (1, 2), 1),
        (19, (0, 2), 2),
        (7, (0, 2), 0),
    )

    def __init__(self, dt: float = 100, timing: Mapping[str, float] | None = None) -> None:
        super().__init__(dt=dt, timing=timing)
        n_mazes = len(self.MAZES)
        self.maze_goal = np.array([goal for goal, _, _ in self.MAZES])
        self.maze_label = np.array([label for _, _, label in self.MAZES], dtype=np.int64)
        self.goal_pattern = np.zeros((n_mazes, 8))
        self.choice_pattern = np.zeros((n_mazes, 8))
        for maze, (goal, moves, _) in enumerate(self.MAZES):
            self.goal_pattern[maze, self.GOALS.index(goal)] = 1.0
            self.choice_pattern[maze, [4 + move for move in moves]] = 1.0
        # every move is the answer of exactly two mazes: a label override picks one of them uniformly
        self.mazes_by_label = np.array([np.flatnonzero(self.maze_label == k) for k in range(4)])

    def _sample(self, keys, conditions):
        n = keys.size
        u = uniforms(keys, 0, 1)[:, 0]
        if "maze" in conditions:
            maze = _condition(self.name, "maze", conditions["maze"], n, range(len(self.MAZES)))
        elif "ground_truth" in conditions:
            label = _condition(self.name, "ground_truth", conditions["ground_truth"], n, range(4))
            maze = self.mazes_by_label[label, np.floor(u * 2).astype(np.int64)]
        else:
            maze = np.floor(u * len(self.MAZES)).astype(np.int64)
        inputs = np.zeros((n, self.n_steps, self.n_inputs))
        inputs[:, self.window("goal")] = self.goal_pattern[maze][:, None, :]
        inputs[:, self.window("choices")] = self.choice_pattern[maze][:, None, :]
        info = {"maze": maze.astype(np.int64), "goal": self.maze_goal[maze]}
        return inputs, self.maze_label[maze], info


class PerceptualDecisionTrials(TrialDefinition):
    """Task 2, perceptual decision making (Britten et al. 1992): fixation -> stimulus -> delay.

    Inputs [fixation, evidence_0, evidence_1]: fixation is 1 at every step; during ``stimulus``
    ``evidence_k = cos(theta_k - theta_choice) * coh / 200 + 0.5 + sigma / sqrt(dt) * N(0, 1)`` with
    theta = (0, pi), independent noise per channel and step; evidence is 0 outside the stimulus.
    Coherence (%) and choice are uniform over ``coherences`` and {0, 1}. Label: the choice.
    ``sigma`` follows NeuroGym (noise per sqrt(ms)): the per-step std is sigma / sqrt(dt) = 0.1 by default.
    """

    name = "PerceptualDecisionMaking"
    paper_name = "Britten et al. 1992, random-dot motion discrimination"
    input_names = ("fixation", "evidence_0", "evidence_1")
    label_names = ("choice_0", "choice_1")
    default_steps = {"fixation": 1, "stimulus": 30, "delay": 10}
    conditions = ("coherence", "ground_truth")
    THETA = np.array([0.0, np.pi])

    def __init__(
        self,
        dt: float = 100,
        timing: Mapping[str, float] | None = None,
        coherences: Sequence[float] = (0.0, 6.4, 12.8, 25.6, 51.2),
        sigma: float = 1.0,
    ) -> None:
        super().__init__(dt=dt, timing=timing)
        self.coherences = np.asarray(coherences, dtype=np.float64).reshape(-1)
        if self.coherences.size == 0 or not np.all(np.isfinite(self.coherences)):
            raise ValueError(f"{self.name}: coherences must be a non-empty list of finite %, got {coherences!r}")
        if not np.isfinite(sigma) or sigma < 0:
            raise ValueError(f"{self.name}: sigma must be a non-negative number, got {sigma!r}")
        self.sigma = float(sigma)
        self.sigma_step = self.sigma / np.sqrt(dt)

    def _sample(self, keys, conditions):
        n = keys.size
        u = uniforms(keys, 0, 2)
        if "coherence" in conditions:
            coherence = _condition(self.name, "coherence", conditions["coherence"], n).astype(np.float64)
        else:
            coherence = self.coherences[np.floor(u[:, 0] * self.coherences.size).astype(np.int64)]
        if "ground_truth" in conditions:
            choice = _condition(self.name, "ground_truth", conditions["ground_truth"], n, (0, 1))
        else:
            choice = np.floor(u[:, 1] * 2).astype(np.int64)
        stim = self.window("stimulus")
        n_stim = stim.stop - stim.start
        signal = np.cos(self.THETA[None, :] - self.THETA[choice][:, None]) * coherence[:, None] / 200 + 0.5
        noise = normals(keys, _NOISE_DRAWS, n_stim * 2).reshape(n, n_stim, 2) * self.sigma_step
        inputs = np.zeros((n, self.n_steps, self.n_inputs))
        inputs[:, :, 0] = 1.0
        inputs[:, stim, 1:] = signal[:, None, :] + noise
        return inputs, choice.astype(np.int64), {"coherence": coherence}


class GoNoGoTrials(TrialDefinition):
    """Task 3, Go/NoGo (Zhang et al. 2019): fixation -> stimulus -> delay -> decision.

    Inputs: fixation and delay [1, 0, 0]; stimulus [0, 1, 0] (NoGo) or [0, 0, 1] (Go); decision [0, 0, 0].
    Label: NoGo = 0, Go = 1, balanced. Without memory (last step only) the best accuracy is 0.5.
    """

    name = "GoNoGo"
    paper_name = "Zhang et al. 2019, active information maintenance in working memory"
    input_names = ("fixation", "nogo", "go")
    label_names = ("nogo", "go")
    default_steps = {"fixation": 5, "stimulus": 20, "delay": 10, "decision": 5}
    conditions = ("ground_truth",)

    def _sample(self, keys, conditions):
        n = keys.size
        if "ground_truth" in conditions:
            go = _condition(self.name, "ground_truth", conditions["ground_truth"], n, (0, 1)).astype(np.int64)
        else:
            go = np.floor(uniforms(keys, 0, 1)[:, 0] * 2).astype(np.int64)
        inputs = np.zeros((n, self.n_steps, self.n_inputs))
        inputs[:, self.window("fixation"), 0] = 1.0
        inputs[:, self.window("delay"), 0] = 1.0
        inputs[:, self.window("stimulus")] = np.eye(3)[1 + go][:, None, :]
        return inputs, go, {}


DEFINITIONS: dict[str, type[TrialDefinition]] = {
    "Task1": OneChoiceTrials,
    "Task2": PerceptualDecisionTrials,
    "Task3": GoNoGoTrials,
}
