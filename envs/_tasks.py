"""The three tasks as NeuroGym ``TrialEnv`` environments (``gym.make("cortex/Task1-v0")`` etc.).

NeuroGym conventions kept, so its wrappers (``PassAction``, ``PassReward``, ``Noise``, ``Monitor``,
``SideBias``, ``ngym.Dataset``...) work:

* one step is ``dt`` ms (default 100); ``timing`` gives period durations in ms, multiples of ``dt``;
  the defaults are the paper's step counts (Task1 goal 20, delay 10, choices 20, ...);
* the environment runs trial after trial without terminating; ``info["new_trial"]`` marks the last step
  of a trial and ``self.trial`` holds its conditions (``ground_truth`` = the class label);
* action 0 is "fixate / no response", action ``1 + k`` answers class ``k`` (``action_space.name``);
  ``self.gt[t]`` is the correct action per step: 0 outside the response window, ``1 + label`` inside;
* the reset observation is the one after one step of the first trial (NeuroGym's ``reset`` steps once
  so that observation-modifying wrappers apply to it).

Response window: the last ``response_window`` steps of the trial (default 1: the readout step of the
supervised task). Outside it actions have no effect. Inside it, the first non-zero action ends the trial
with ``rewards["correct"]`` (+1) if it is ``1 + label`` and ``rewards["fail"]`` (0) otherwise; no response
earns ``rewards["miss"]`` (0) at the trial's end. So by default the only non-zero reward is +1 for the
correct answer in the window.

Seeding: trials come from the counter-based stream of :func:`envs.make_dataset`. ``reset(seed=s)`` (or
``seed(s)``) restarts that stream at trial 0 with seed ``s`` (NeuroGym's own ``reset`` leaves
``self.rng`` alone) and reseeds ``self.rng`` (used by NeuroGym wrappers); after it, the k-th trial is
trial k of ``make_dataset(task, n, seed=s)``. Without a seed the stream starts from fresh entropy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from neurogym.core import TrialEnv
from neurogym.utils import spaces

from ._counter_rng import trial_keys
from ._trials import GoNoGoTrials, OneChoiceTrials, PerceptualDecisionTrials, TrialDefinition

_DEFAULT_REWARDS = {"correct": 1.0, "fail": 0.0, "miss": 0.0}


class CortexTrialEnv(TrialEnv):
    """Shared NeuroGym machinery of the three tasks; subclasses choose the trial definition."""

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
        self.observation_space = spaces.Box(
            np.asarray(self._obs_low, dtype=np.float32),
            np.asarray(self._obs_high, dtype=np.float32),
            dtype=np.float32,
            name={name: i for i, name in enumerate(definition.input_names)},
        )
        self.action_space = spaces.Discrete(
            1 + definition.n_outputs, name={"fixation": 0, "choice": list(range(1, 1 + definition.n_outputs))}
        )
        self._trial_seed: int | None = None
        self._trial_counter = 0

    def seed(self, seed: int | None = None) -> list[int]:
        """Restart the trial stream at trial 0 with ``seed`` (fresh entropy if None); reseed ``self.rng``."""
        if seed is None:
            seed = int(np.random.SeedSequence().entropy)
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
        self._trial_seed = int(seed)
        self._trial_counter = 0
        self.rng = np.random.RandomState(np.random.MT19937(self._trial_seed))
        self.action_space.seed(self._trial_seed)
        return [self._trial_seed]

    def reset(self, seed: int | None = None, options: dict | None = None):
        """NeuroGym reset; a ``seed`` also restarts the trial stream (see :meth:`seed`)."""
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

        names = [name for name, _ in self.definition.periods]
        self.add_period(names, duration=[self.timing[name] for name in names])
        self.add_ob(inputs[0])
        label = int(labels[0])
        self.set_groundtruth(0)  # fixate everywhere ...
        self.gt[self.definition.n_steps - self.response_window :] = 1 + label  # ... except the window
        self.r_tmax = self.rewards["miss"]  # added by TrialEnv.step when a trial ends without response
        # TrialEnv ends a trial when its float clock passes tmax - dt; half a step of slack makes
        # that happen after exactly n_steps steps whatever rounding dt (e.g. 0.1 ms) brings
        self.tmax = self.definition.n_steps * self.dt + 0.5 * self.dt
        self.performance = 0
        info = {k: v[0].item() for k, v in info.items()}
        return {**extra, "ground_truth": label, "trial_index": index, **info}

    def _step(self, action):
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
    ``connectome_priors.envs._tasks`` for
    the reward and seeding rules.
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
    ``coherences`` in %, ``sigma`` noise per sqrt(ms) (per-step std sigma / sqrt(dt) = 0.1 by default).
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
