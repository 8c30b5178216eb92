"""NeuroGym's trial protocol on a small base class of our own (no neurogym import).

:class:`BaseTrialEnv` implements the subset of ``neurogym.core.TrialEnv`` (neurogym 2.2) that the cortex tasks
use, with the same names and semantics, so NeuroGym's ``Dataset``, its observation wrappers (``PassAction``,
``PassReward``, ``Noise``), ``Monitor`` and ``neurogym.utils.plotting.plot_env`` work on the tasks when neurogym
is installed (the ``[neurogym]`` extra), and nothing here needs it:

* time runs in steps of ``dt`` ms; ``self.t`` (ms) and ``self.t_ind`` (step) count within the trial;
* a task's ``_new_trial(**conditions)`` lays out its periods with :meth:`~BaseTrialEnv.add_period` (``start_t`` /
  ``end_t`` in ms, ``start_ind`` / ``end_ind`` in steps), fills the observation array ``self.ob`` [steps, ...]
  (:meth:`~BaseTrialEnv.add_ob`, :meth:`~BaseTrialEnv.set_ob`) and the correct action per step ``self.gt``
  (:meth:`~BaseTrialEnv.set_groundtruth`) and returns the trial's conditions, kept as ``self.trial``;
* a task's ``_step(action)`` returns ``(ob, reward, terminated, truncated, info)``, with ``ob`` usually
  ``self.ob_now`` and ``info["new_trial"] = True`` to end the trial early (a response);
* :meth:`~BaseTrialEnv.step` adds ``info["gt"]`` (the correct action of the step just taken), ends the trial
  after its last step (adding ``r_tmax`` to the reward when the task did not end it), and on a trial's end adds
  ``info["performance"]`` and ``info["trial"]`` and starts the next trial through ``self._top`` (the outermost
  trial wrapper, see :meth:`~BaseTrialEnv.set_top`). The returned observation is the one of the *next* step,
  ``ob[t_ind]`` after the clock moved, so the last step of a trial returns the next trial's first observation;
* an episode never terminates: trials follow each other;
* :meth:`~BaseTrialEnv.reset` starts a new trial and takes one step (so that wrappers that change the
  observation in ``step`` apply to the first one); ``options={"step_fn": f}`` makes that step with ``f``
  (NeuroGym's wrappers pass their own ``step``), ``options={"no_step": True}`` skips it.

Deliberate differences from neurogym 2.2: the step index decides when a trial ends (not a float clock compared
with ``tmax``, which can lose or gain a step when ``dt`` is not exactly representable); period durations are
fixed numbers (no sampled ``timing`` distributions: the tasks have none); and the step that :meth:`reset` takes
uses :attr:`BaseTrialEnv.reset_action` (0, fixate) instead of reseeding ``action_space`` with 0 and sampling
from it, so a reset never answers for the agent nor touches the action space's random stream.

NeuroGym's *trial* wrappers (``SideBias``, ``RandomGroundTruth``, ``TrialHistoryV2``, ``ScheduleAttr``) check
``isinstance(env.unwrapped, neurogym.TrialEnv)``; a task class that also derives from it passes that check with
this protocol unchanged: ``class BiasedPDM(PerceptualDecisionMaking, neurogym.TrialEnv): pass``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

#: placeholder a task's ``_step`` returns as its observation: :meth:`BaseTrialEnv.step` replaces it by
#: ``ob[t_ind]`` once the clock has moved (NeuroGym's ``OBNOW``)
OB_NOW = "ob_unknown_yet"

StepResult = tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]


class NamedBox(spaces.Box):
    """A gymnasium ``Box`` whose channels have names (NeuroGym's ``spaces.Box``; used by its plots and wrappers).

    Args:
        low: lower bounds (see ``gymnasium.spaces.Box``).
        high: upper bounds.
        name: channel name -> index (or list of indices), e.g. ``{"fixation": 0, "stimulus": [1, 2]}``.
        **kwargs: ``shape``, ``dtype``, ``seed`` of ``gymnasium.spaces.Box``.

    Raises:
        TypeError: ``name`` is neither a dict nor None.

    Example:
        >>> import numpy as np
        >>> box = NamedBox(0.0, 1.0, shape=(3,), dtype=np.float32, name={"fixation": 0, "stimulus": [1, 2]})
        >>> box.name["stimulus"], box.shape
        ([1, 2], (3,))
    """

    def __init__(self, low: Any, high: Any, name: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(low, high, **kwargs)
        if name is not None and not isinstance(name, dict):
            raise TypeError(f"name must be a dict or None, got {type(name).__name__}")
        self.name = name


class NamedDiscrete(spaces.Discrete):
    """A gymnasium ``Discrete`` space whose actions have names (NeuroGym's ``spaces.Discrete``).

    Args:
        n: number of actions.
        name: action name -> action (or list of actions), e.g. ``{"fixation": 0, "choice": [1, 2]}``.
        **kwargs: ``seed`` and ``start`` of ``gymnasium.spaces.Discrete``.

    Raises:
        TypeError: ``name`` is neither a dict nor None.

    Example:
        >>> space = NamedDiscrete(3, name={"fixation": 0, "choice": [1, 2]})
        >>> int(space.n), space.name["choice"], space.contains(2), space.contains(3)
        (3, [1, 2], True, False)
    """

    def __init__(self, n: int, name: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(n, **kwargs)
        if name is not None and not isinstance(name, dict):
            raise TypeError(f"name must be a dict or None, got {type(name).__name__}")
        self.name = name


class BaseTrialEnv(gym.Env):
    """NeuroGym's trial-based environment protocol (``neurogym.core.TrialEnv``), the part the tasks use.

    Subclasses set ``observation_space`` and ``action_space`` and implement ``_new_trial(**conditions) -> dict``
    and ``_step(action) -> (ob, reward, terminated, truncated, info)``; see the module docstring for the protocol.

    Args:
        dt: milliseconds per step.
        r_tmax: reward added at the end of a trial that the task did not end itself (no response).

    Raises:
        ValueError: ``dt`` is not a positive finite number.

    Example:
        >>> import numpy as np
        >>> class Blink(BaseTrialEnv):  # fixation 2 steps, then a cue; answer 1 at the last step
        ...     observation_space = NamedBox(0.0, 1.0, shape=(1,), dtype=np.float32, name={"cue": 0})
        ...     action_space = NamedDiscrete(2, name={"fixation": 0, "choice": [1]})
        ...     def _new_trial(self, **conditions):
        ...         self.add_period(["fixation", "cue"], duration=[200, 100])
        ...         self.add_ob(1.0, period="cue", where="cue")
        ...         self.set_groundtruth(0)
        ...         self.set_groundtruth(1, period="cue")
        ...         return {"ground_truth": 1, **conditions}
        ...     def _step(self, action):
        ...         return self.ob_now, float(action == self.gt_now), False, False, {}
        >>> env = Blink(dt=100)
        >>> ob, info = env.reset(seed=0)     # the first step (action 0) is taken: ob is that of step 1
        >>> env.ob[:, 0].tolist(), env.gt.tolist(), (env.start_ind["cue"], env.end_ind["cue"]), env.t_ind
        ([0.0, 0.0, 1.0], [0, 0, 1], (2, 3), 1)
        >>> ob, reward, terminated, truncated, info = env.step(0)
        >>> ob.tolist(), info["new_trial"], int(info["gt"])
        ([1.0], False, 0)
        >>> ob, reward, terminated, truncated, info = env.step(1)   # last step: the trial ends, the next begins
        >>> reward, info["new_trial"], info["performance"], env.t_ind, env.num_tr
        (1.0, True, 0, 0, 2)
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}
    #: the action of the step :meth:`reset` takes (0: NeuroGym's fixation / no response)
    reset_action: ClassVar[Any] = 0

    def __init__(self, dt: float = 100, r_tmax: float = 0.0) -> None:
        super().__init__()
        if isinstance(dt, bool) or not isinstance(dt, int | float | np.integer | np.floating) or not (
            np.isfinite(dt) and dt > 0
        ):
            raise ValueError(f"dt must be a positive number of milliseconds, got {dt!r}")
        self.dt = dt
        self.r_tmax = r_tmax
        self.t = 0.0
        self.t_ind = 0
        self.tmax = 0.0
        self.num_tr = 0
        self.performance = 0
        self.rewards: dict[str, float] = {}
        self.timing: dict[str, float] = {}
        self.trial: dict[str, Any] | None = None
        self.rng = np.random.RandomState()
        self.ob: np.ndarray | None = None
        self.gt: np.ndarray | None = None
        self.start_t: dict[str, float] = {}
        self.end_t: dict[str, float] = {}
        self.start_ind: dict[str, int] = {}
        self.end_ind: dict[str, int] = {}
        self._n_steps = 0  # steps of the current trial (NeuroGym: tmax / dt)
        self._ob_built = False
        self._gt_built = False
        self._has_gt = False
        self._top: Any = self

    # ------------------------------------------------------------------------------------------ to override

    def _new_trial(self, **conditions: Any) -> dict[str, Any]:
        """Lay out the next trial (periods, ``ob``, ``gt``) and return its conditions; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} does not define _new_trial")

    def _step(self, action: Any) -> StepResult:
        """One step of the current trial, before the clock moves; subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} does not define _step")

    @staticmethod
    def post_step(
        ob: Any, reward: SupportsFloat, terminated: bool, truncated: bool, info: dict[str, Any]
    ) -> StepResult:
        """Last change to a step's result (NeuroGym's hook; the identity here).

        Args:
            ob: observation.
            reward: reward.
            terminated: always False for these tasks.
            truncated: always False for these tasks.
            info: the step's info dict.

        Returns:
            The five values, unchanged.
        """
        return ob, reward, terminated, truncated, info

    # ------------------------------------------------------------------------------------------ the protocol

    def seed(self, seed: int | None = None) -> list[int | None]:
        """Reseed ``self.rng`` (a ``numpy.random.RandomState``) and the action space.

        Args:
            seed: the seed; None for fresh entropy.

        Returns:
            ``[seed]``.
        """
        self.rng = np.random.RandomState(seed)
        if getattr(self, "action_space", None) is not None:
            self.action_space.seed(seed)
        return [seed]

    def set_top(self, wrapper: Any) -> None:
        """Make ``wrapper`` the object whose ``new_trial`` (and ``step``, in :meth:`reset`) starts trials.

        NeuroGym's trial wrappers call this so that trials they bias are the ones the environment runs.

        Args:
            wrapper: the outermost trial wrapper (or the environment itself).
        """
        self._top = wrapper

    def new_trial(self, **conditions: Any) -> dict[str, Any]:
        """Start a new trial: build it with ``_new_trial`` and keep its conditions as ``self.trial``.

        Args:
            **conditions: per-trial conditions for the task (e.g. ``ground_truth=1``).

        Returns:
            The trial's conditions (also ``self.trial``).
        """
        self._n_steps = 0
        self._ob_built = False
        self._gt_built = False
        trial = self._new_trial(**conditions)
        self.trial = trial
        self.num_tr += 1
        self._has_gt = self._gt_built
        return trial

    def step(self, action: Any) -> StepResult:
        """Take one step; at a trial's end, report it and start the next trial.

        Args:
            action: an action of ``action_space``.

        Returns:
            ``(ob, reward, terminated, truncated, info)``: ``ob`` is the observation of the next step (the next
            trial's first after a trial's last step); ``info`` holds ``new_trial`` and ``gt`` (the correct action
            of the step just taken), and at a trial's end ``performance`` and ``trial`` (the new trial).
        """
        ob, reward, terminated, truncated, info = self._step(action)
        info.setdefault("new_trial", False)
        if self._has_gt and "gt" not in info:
            info["gt"] = self.gt_now
        self.t_ind += 1
        self.t = self.t_ind * self.dt
        if self.t_ind >= self._n_steps and not info["new_trial"]:
            info["new_trial"] = True
            reward += self.r_tmax
        if info["new_trial"]:
            info["performance"] = self.performance
            self.t, self.t_ind = 0.0, 0
            info["trial"] = self._top.new_trial()
            self.performance = 0
        if ob is OB_NOW:
            ob = self.ob[self.t_ind]
        return self.post_step(ob, reward, terminated, truncated, info)

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Start a new trial and take its first step.

        Args:
            seed: seeds ``np_random`` (gymnasium); subclasses may reseed their trial stream too.
            options: ``step_fn`` (a callable used for the first step instead of ``step``; NeuroGym's wrappers
                pass their own) and ``no_step`` (True: take no step, return a sample of the observation space).

        Returns:
            ``(ob, {})``: the observation after the first step, taken with :attr:`reset_action`.
        """
        super().reset(seed=seed)
        self.num_tr = 0
        self.t, self.t_ind = 0.0, 0
        self._top.new_trial()
        options = options or {}
        if options.get("no_step", False):
            return self.observation_space.sample(), {}
        step_fn: Callable[[Any], StepResult] = options.get("step_fn") or self._top.step
        ob, *_ = step_fn(self.reset_action)
        return ob, {}

    # ------------------------------------------------------------------------------------ building a trial

    def add_period(
        self,
        period: str | Sequence[str],
        duration: float | Sequence[float] | None = None,
        after: str | float | None = None,
    ) -> None:
        """Add one period, or several back to back, to the trial being built.

        Args:
            period: a period name, or a list of names laid out one after the other.
            duration: its duration in ms (a list for a list of periods); None takes ``self.timing[period]``.
            after: the name of the period it follows, or its start time in ms; None starts at 0 (a list's first
                period only; the others follow each other).

        Raises:
            RuntimeError: the observation array of the trial is already built (add periods first).
            ValueError: a duration is missing, negative, not finite or not a multiple of ``dt``, or the list of
                durations does not match the list of periods.
        """
        if self._ob_built:
            raise RuntimeError("add_period: the observation is already built; add every period before add_ob")
        if not isinstance(period, str):
            names = list(period)
            durations = [None] * len(names) if duration is None else list(duration)  # type: ignore[arg-type]
            if len(durations) != len(names):
                raise ValueError(f"add_period: {len(durations)} durations for {len(names)} periods")
            for i, (name, ms) in enumerate(zip(names, durations)):
                self.add_period(name, duration=ms, after=after if i == 0 else names[i - 1])
            return
        if duration is None:
            duration = self.timing.get(period)
        if isinstance(duration, bool) or not isinstance(duration, int | float | np.integer | np.floating):
            raise ValueError(f"add_period: period {period!r} needs a fixed duration in ms, got {duration!r}")
        steps = round(duration / self.dt)
        if not np.isfinite(duration) or duration < 0 or abs(steps * self.dt - duration) > 1e-9 * max(duration, 1):
            raise ValueError(f"add_period: {period!r} lasts {duration!r} ms, not a non-negative multiple of "
                             f"dt = {self.dt} ms")
        start = self.end_t[after] if isinstance(after, str) else (after or 0)
        start_ind = round(start / self.dt)
        self.start_t[period], self.end_t[period] = start, start + duration
        self.start_ind[period], self.end_ind[period] = start_ind, start_ind + steps
        self._n_steps = max(self._n_steps, start_ind + steps)
        self.tmax = self._n_steps * self.dt

    def _period_slice(self, period: str | None) -> slice:
        return slice(None) if period is None else slice(self.start_ind[period], self.end_ind[period])

    def view_ob(self, period: str | None = None) -> np.ndarray:
        """The trial's observations, all or those of one period (a view: writing to it changes ``self.ob``).

        Args:
            period: a period name; None for the whole trial.

        Returns:
            The array ``ob[start:end]`` of shape [steps, *observation_space.shape].
        """
        if not self._ob_built:
            self.ob = np.zeros((self._n_steps, *self.observation_space.shape), dtype=self.observation_space.dtype)
            self._ob_built = True
        return self.ob[self._period_slice(period)]

    def _where(self, where: Any) -> Any:
        if isinstance(where, str):
            return self.observation_space.name[where]
        return where

    def add_ob(self, value: Any, period: str | Sequence[str] | None = None, where: Any = None) -> None:
        """Add ``value`` to the observations of a period (or every step), in some channels (or all).

        Args:
            value: a number, an array broadcastable to the selection, or a callable of the selected array.
            period: a period name, a list of names, or None for the whole trial.
            where: channel index, indices, or a channel name of ``observation_space.name``; None for all.
        """
        self._write_ob(value, period, where, reset=False)

    def set_ob(self, value: Any, period: str | Sequence[str] | None = None, where: Any = None) -> None:
        """Set the observations of a period (or every step), in some channels (or all), to ``value``.

        Args:
            value: as in :meth:`add_ob`.
            period: as in :meth:`add_ob`.
            where: as in :meth:`add_ob`.
        """
        self._write_ob(value, period, where, reset=True)

    def _write_ob(self, value: Any, period: str | Sequence[str] | None, where: Any, reset: bool) -> None:
        periods = [period] if period is None or isinstance(period, str) else list(period)
        index = (Ellipsis,) if where is None else (Ellipsis, self._where(where))
        for name in periods:
            ob = self.view_ob(name)
            if reset:
                ob[index] = 0
            ob[index] += value(ob[index]) if callable(value) else value

    def set_groundtruth(self, value: Any, period: str | Sequence[str] | None = None, where: str | None = None) -> None:
        """Set the correct action of a period (or of every step).

        Args:
            value: the action; with ``where``, an index into ``action_space.name[where]``.
            period: a period name, a list of names, or None for the whole trial.
            where: an action group of ``action_space.name`` (e.g. ``"choice"``), or None.
        """
        if not self._gt_built:
            self.gt = np.zeros((self._n_steps, *self.action_space.shape), dtype=self.action_space.dtype)
            self._gt_built = True
        if where is not None:
            value = self.action_space.name[where][value]
        for name in [period] if period is None or isinstance(period, str) else list(period):
            self.gt[self._period_slice(name)] = value

    def view_groundtruth(self, period: str) -> np.ndarray:
        """The correct actions of one period (a view of ``self.gt``).

        Args:
            period: a period name.

        Returns:
            ``gt[start:end]``.
        """
        if not self._gt_built:
            self.set_groundtruth(0)
        return self.gt[self._period_slice(period)]

    def in_period(self, period: str, t: float | None = None) -> bool:
        """Whether time ``t`` (ms; default the current time ``self.t``) lies in ``period``.

        Args:
            period: a period name of the current trial.
            t: a time in ms within the trial.

        Returns:
            ``start_t[period] <= t < end_t[period]``.
        """
        t = self.t if t is None else t
        return bool(self.start_t[period] <= t < self.end_t[period])

    @property
    def ob_now(self) -> str:
        """Placeholder for "the observation after this step" in ``_step`` (see :data:`OB_NOW`)."""
        return OB_NOW

    @property
    def gt_now(self) -> Any:
        """The correct action of the current step."""
        return self.gt[self.t_ind]
