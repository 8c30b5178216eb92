"""The three tasks as NeuroGym-style trial environments (``gym.make("cortex/Task1-v0")`` etc.).

They follow NeuroGym's ``TrialEnv`` protocol through :class:`~connectome_priors.envs._trial_env.BaseTrialEnv`, our
own small implementation of it (neurogym is not needed), so with the ``[neurogym]`` extra NeuroGym's wrappers
(``PassAction``, ``PassReward``, ``Noise``, ``Monitor``), ``neurogym.Dataset`` and its plots work on them; its
trial wrappers (``SideBias``...) need a class that also derives from ``neurogym.TrialEnv`` (see ``_trial_env``).
Conventions:

* one step is ``dt`` ms (default 100); ``timing`` gives period durations in ms, multiples of ``dt``;
  the defaults are the paper's step counts (Task1 goal 20, delay 10, choices 20, ...);
* the environment runs trial after trial without terminating; ``info["new_trial"]`` marks the last step
  of a trial and ``self.trial`` holds its conditions (``ground_truth`` = the class label);
* action 0 is "fixate / no response", action ``1 + k`` answers class ``k`` (``action_space.name``);
  ``self.gt[t]`` is the correct action per step: 0 outside the response window, ``1 + label`` inside;
* the reset observation is the one after one step (action 0) of the first trial (NeuroGym's ``reset`` steps
  once so that observation-modifying wrappers apply to it).

Response window: the last ``response_window`` steps of the trial (default 1: the readout step of the
supervised task). Outside it actions have no effect. Inside it, the first non-zero action ends the trial
with ``rewards["correct"]`` (+1) if it is ``1 + label`` and ``rewards["fail"]`` (0) otherwise; no response
earns ``rewards["miss"]`` (0) at the trial's end. So by default the only non-zero reward is +1 for the
correct answer in the window.

Seeding: trials come from the counter-based stream of :func:`envs.make_dataset`. ``reset(seed=s)`` (or
``seed(s)``) restarts that stream at trial 0 with seed ``s`` (a plain NeuroGym ``reset`` leaves
``self.rng`` alone) and reseeds ``self.rng`` (used by NeuroGym wrappers); after it, the k-th trial is
trial k of ``make_dataset(task, n, seed=s)``. Without a seed the stream starts from fresh entropy.

Example:
    >>> from connectome_priors.envs import GoNoGo, make_dataset
    >>> env = GoNoGo()
    >>> ob, info = env.reset(seed=3)                      # trial 0 of the stream of seed 3, after one step
    >>> bool((env.ob == make_dataset("GoNoGo", 1, seed=3).inputs[0]).all()), env.t_ind
    (True, 1)
    >>> while True:                                       # fixate to the last step, then answer correctly
    ...     label = env.trial["ground_truth"]
    ...     ob, reward, terminated, truncated, info = env.step(1 + label if env.t_ind == 39 else 0)
    ...     if info["new_trial"]:
    ...         break
    >>> reward, info["performance"], info["trial"]["trial_index"]
    (1.0, 1, 1)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from ._counter_rng import trial_keys
from ._trial_env import BaseTrialEnv, NamedBox, NamedDiscrete
from ._trials import GoNoGoTrials, OneChoiceTrials, PerceptualDecisionTrials, TrialDefinition

_DEFAULT_REWARDS = {"correct": 1.0, "fail": 0.0, "miss": 0.0}


class CortexTrialEnv(BaseTrialEnv):
    """Shared machinery of the three tasks (NeuroGym trial protocol); subclasses choose the trial definition.

    Args:
        definition: the task's trial definition (periods in steps, inputs, classes, ``sample``).
        rewards: overrides of ``{"correct": 1.0, "fail": 0.0, "miss": 0.0}``.
        response_window: the last this many steps of a trial accept an answer (default 1: the readout step).

    Raises:
        ValueError: an unknown or non-finite reward, or a response window outside [1, steps of a trial].
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}
    _obs_low: ClassVar[Sequence[float]]
    _obs_high: ClassVar[Sequence[float]]

    def __init__(
        self,
        definition: TrialDefinition,
        rewards: Mapping[str, float] | None = None,
        response_window: int = 1,
    ) -> None:
        super().__init__(dt=definition.dt)
        self.definition = definition
        self.timing = {name: steps * definition.dt for name, steps in definition.periods}
        self.rewards = dict(_DEFAULT_REWARDS)
        if rewards is not None:
            unknown = set(rewards) - set(_DEFAULT_REWARDS)
            if unknown:
                raise ValueError(
                    f"{definition.name}: unknown reward key(s) {sorted(unknown)}; keys are {list(_DEFAULT_REWARDS)}"
                )
            for key, value in rewards.items():
                if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                        or not np.isfinite(value):
                    raise ValueError(f"{definition.name}: rewards[{key!r}] must be a finite number, got {value!r}")
            self.rewards.update({key: float(value) for key, value in rewards.items()})
        n_steps = definition.n_steps
        if isinstance(response_window, bool) or not isinstance(response_window, int | np.integer) or not (
            1 <= response_window <= n_steps
        ):
            raise ValueError(
                f"{definition.name}: response_window must be an integer in [1, {n_steps}] (steps), "
                f"got {response_window!r}"
            )
        self.response_window = int(response_window)
        self.choices = np.arange(definition.n_outputs)
        self.observation_space = NamedBox(
            np.asarray(self._obs_low, dtype=np.float32),
            np.asarray(self._obs_high, dtype=np.float32),
            dtype=np.float32,
            name={name: i for i, name in enumerate(definition.input_names)},
        )
        self.action_space = NamedDiscrete(
            1 + definition.n_outputs, name={"fixation": 0, "choice": list(range(1, 1 + definition.n_outputs))}
        )
        self._trial_seed: int | None = None
        self._trial_counter = 0

    def seed(self, seed: int | None = None) -> list[int]:
        """Restart the trial stream at trial 0 with ``seed`` (fresh entropy if None); reseed ``self.rng``.

        Args:
            seed: a non-negative integer, or None for fresh entropy.

        Returns:
            ``[seed]``, the seed used.

        Raises:
            ValueError: ``seed`` is negative or not an integer.
        """
        if seed is None:
            seed = int(np.random.SeedSequence().entropy)
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
        self._trial_seed = int(seed)
        self._trial_counter = 0
        self.rng = np.random.RandomState(np.random.MT19937(self._trial_seed))
        self.action_space.seed(self._trial_seed)
        return [self._trial_seed]

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """NeuroGym reset (a new trial, one step); a ``seed`` also restarts the trial stream (see :meth:`seed`).

        Args:
            seed: restarts the trial stream (and ``np_random``, ``self.rng``, the action space) when given.
            options: ``step_fn`` / ``no_step``, see :meth:`BaseTrialEnv.reset`.

        Returns:
            ``(observation, {})``.
        """
        if seed is not None:
            self.seed(seed)
        return super().reset(seed=seed, options=options)

    def _new_trial(self, **conditions: Any) -> dict[str, Any]:
        if self._trial_seed is None:
            self.seed(None)
        index = self._trial_counter
        key = trial_keys(self._trial_seed, np.array([index]))
        # NeuroGym convention: conditions the task knows set the trial, other kwargs (e.g. SideBias's
        # "probs") are only recorded in the trial dict
        known = {k: v for k, v in conditions.items() if k in self.definition.conditions}
        extra = {k: v for k, v in conditions.items() if k not in self.definition.conditions}
        inputs, labels, info = self.definition.sample(key, **known)
        self._trial_counter += 1

        self.add_period([name for name, _ in self.definition.periods])  # durations from self.timing
        self.add_ob(inputs[0])
        label = int(labels[0])
        self.set_groundtruth(0)  # fixate everywhere ...
        self.gt[self.definition.n_steps - self.response_window :] = 1 + label  # ... except the window
        self.r_tmax = self.rewards["miss"]  # added by step() when a trial ends without response
        self.performance = 0
        info = {k: v[0].item() for k, v in info.items()}
        return {**extra, "ground_truth": label, "trial_index": index, **info}

    def _step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        if not self.action_space.contains(action):  # 99, -1, None, "a", 1.5: refused, not scored as a miss
            raise ValueError(f"{self.definition.name}: action {action!r} is not in the action space "
                             f"{{0, ..., {self.action_space.n - 1}}} (0 = fixate, 1 + k = answer class k)")
        action = int(action)
        gt = self.gt_now
        reward = 0.0
        new_trial = False
        in_window = self.t_ind >= self.definition.n_steps - self.response_window
        if in_window and action != 0:
            new_trial = True
            if action == gt:
                reward = self.rewards["correct"]
                self.performance = 1
            else:
                reward = self.rewards["fail"]
        return self.ob_now, reward, False, False, {"new_trial": new_trial, "gt": gt}


class OneChoiceInference(CortexTrialEnv):
    """Task 1, one-choice inference (Achterberg et al. 2023): goal 20 -> delay 10 -> choices 20 steps.

    8 inputs (goal 7/9/17/19 one-hot, then moves l/u/r/d), 4 classes (l, u, r, d); actions
    0 = fixate, 1..4 = move. See ``connectome_priors.envs._trials.OneChoiceTrials`` for the mazes and
    ``connectome_priors.envs._tasks`` for the reward and seeding rules. Trial conditions for ``new_trial``:
    ``maze`` (0..7) or ``ground_truth`` (0..3).

    Args:
        dt: milliseconds per step.
        timing: period durations in ms (multiples of ``dt``) overriding the defaults, e.g. ``{"delay": 2000}``.
        rewards: overrides of ``{"correct": 1.0, "fail": 0.0, "miss": 0.0}``.
        response_window: the last this many steps of a trial accept an answer (default 1: the readout step).

    Raises:
        ValueError: a bad ``dt``, ``timing``, reward or response window (the message names it).

    Example:
        >>> env = OneChoiceInference()
        >>> ob, _ = env.reset(seed=0)
        >>> ob.shape, env.ob.shape, int(env.action_space.n), env.new_trial(maze=4)["goal"]
        ((8,), (50, 8), 5, 17)
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": [],
        "paper_name": "Achterberg et al. 2023, spatially embedded recurrent neural networks (one-step maze)",
        "paper_link": "https://doi.org/10.1038/s42256-023-00748-9",
        "tags": ["working memory", "inference", "delayed response", "supervised"],
    }
    _obs_low = (0.0,) * 8
    _obs_high = (1.0,) * 8

    def __init__(
        self,
        dt: float = 100,
        timing: Mapping[str, float] | None = None,
        rewards: Mapping[str, float] | None = None,
        response_window: int = 1,
    ) -> None:
        super().__init__(OneChoiceTrials(dt=dt, timing=timing), rewards, response_window)


class PerceptualDecisionMaking(CortexTrialEnv):
    """Task 2, perceptual decision making (Britten et al. 1992): fixation 1 -> stimulus 30 -> delay 10.

    3 inputs (fixation, evidence_0, evidence_1), 2 classes; actions 0 = fixate, 1/2 = choice 0/1.
    Trial conditions for ``new_trial``: ``coherence`` (%) and ``ground_truth`` (0, 1).

    Args:
        dt: milliseconds per step.
        timing: period durations in ms (multiples of ``dt``) overriding the defaults, e.g. ``{"delay": 2000}``.
        rewards: overrides of ``{"correct": 1.0, "fail": 0.0, "miss": 0.0}``.
        response_window: the last this many steps of a trial accept an answer (default 1: the readout step).
        coherences: the coherences (%) drawn uniformly per trial.
        sigma: noise per sqrt(ms), NeuroGym's convention (per-step std sigma / sqrt(dt) = 0.1 by default).

    Raises:
        ValueError: a bad ``dt``, ``timing``, reward, response window, coherence or sigma (the message names it).

    Example:
        >>> env = PerceptualDecisionMaking(coherences=(51.2,))
        >>> _ = env.reset(seed=0)
        >>> trial = env.new_trial(ground_truth=1)
        >>> trial["coherence"], int(env.gt[-1]), env.ob.shape
        (51.2, 2, (41, 3))
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": [],
        "paper_name": "Britten et al. 1992, The analysis of visual motion",
        "paper_link": "https://doi.org/10.1523/JNEUROSCI.12-12-04745.1992",
        "tags": ["perceptual", "two-alternative", "delayed response", "supervised"],
    }
    _obs_low = (0.0, -np.inf, -np.inf)
    _obs_high = (1.0, np.inf, np.inf)

    def __init__(
        self,
        dt: float = 100,
        timing: Mapping[str, float] | None = None,
        coherences: Sequence[float] = (0.0, 6.4, 12.8, 25.6, 51.2),
        sigma: float = 1.0,
        rewards: Mapping[str, float] | None = None,
        response_window: int = 1,
    ) -> None:
        definition = PerceptualDecisionTrials(dt=dt, timing=timing, coherences=coherences, sigma=sigma)
        super().__init__(definition, rewards, response_window)


class GoNoGo(CortexTrialEnv):
    """Task 3, Go/NoGo (Zhang et al. 2019): fixation 5 -> stimulus 20 -> delay 10 -> decision 5 steps.

    3 inputs (fixation, nogo, go), 2 classes (NoGo = 0, Go = 1); actions 0 = fixate, 1 = NoGo, 2 = Go.
    Trial condition for ``new_trial``: ``ground_truth`` (0, 1).

    Args:
        dt: milliseconds per step.
        timing: period durations in ms (multiples of ``dt``) overriding the defaults, e.g. ``{"delay": 2000}``.
        rewards: overrides of ``{"correct": 1.0, "fail": 0.0, "miss": 0.0}``.
        response_window: the last this many steps of a trial accept an answer (default 1: the readout step).

    Raises:
        ValueError: a bad ``dt``, ``timing``, reward or response window (the message names it).

    Example:
        >>> env = GoNoGo(response_window=5)
        >>> _ = env.reset(seed=0)
        >>> env.gt[30:].tolist() == [0] * 5 + [1 + env.trial["ground_truth"]] * 5
        True
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": [],
        "paper_name": "Zhang et al. 2019, Active information maintenance in working memory by a sensory cortex",
        "paper_link": "https://elifesciences.org/articles/43191",
        "tags": ["delayed response", "go-no-go", "supervised"],
    }
    _obs_low = (0.0, 0.0, 0.0)
    _obs_high = (1.0, 1.0, 1.0)

    def __init__(
        self,
        dt: float = 100,
        timing: Mapping[str, float] | None = None,
        rewards: Mapping[str, float] | None = None,
        response_window: int = 1,
    ) -> None:
        super().__init__(GoNoGoTrials(dt=dt, timing=timing), rewards, response_window)
