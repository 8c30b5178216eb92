"""The paper's three cognitive tasks as Gymnasium environments (NeuroGym's trial protocol) and seeded trial batches.

* ``Task1-v0`` = ``OneChoiceInference-v0``: goal 20, delay 10, choices 20 steps (T = 50), 8 inputs, 4 classes
* ``Task2-v0`` = ``PerceptualDecisionMaking-v0``: fixation 1, stimulus 30, delay 10 (T = 41), 3 inputs, 2 classes
* ``Task3-v0`` = ``GoNoGo-v0``: fixation 5, stimulus 20, delay 10, decision 5 (T = 40), 3 inputs, 2 classes

The label is read out at the last step. All ids live in the ``cortex`` namespace. They are registered on
``import connectome_priors`` (any gymnasium version; idempotent), so ``gym.make("connectome_priors:cortex/Task1-v0")``
works in a fresh interpreter and ``gym.register_envs(connectome_priors)`` is the explicit idiom; with gymnasium < 1.0
a ``gymnasium.envs`` plugin entry point also registers them on ``import gymnasium``, so ``gym.make("cortex/Task1-v0")``
needs no import of ours there. The environments implement NeuroGym's ``TrialEnv`` protocol on a small base class of
their own (:class:`BaseTrialEnv`); neurogym itself is optional (the ``[neurogym]`` extra: its ``Dataset``, wrappers
and plots). This module imports nothing heavy: the environments and the batches load on first use.

Example:
    >>> from connectome_priors import envs
    >>> batch = envs.make_dataset("Task3", 8, seed=0)
    >>> batch.inputs.shape, envs.task_spec(3)["readout_step"]
    ((8, 40, 3), 39)
"""

from __future__ import annotations

from connectome_priors._lazy import attach

from ._registration import ENV_IDS, register_envs

__getattr__, __dir__, _names = attach(__name__, {
    **dict.fromkeys(["OneChoiceInference", "PerceptualDecisionMaking", "GoNoGo", "CortexTrialEnv"], "._tasks"),
    **dict.fromkeys(["BaseTrialEnv", "NamedBox", "NamedDiscrete"], "._trial_env"),
    **dict.fromkeys(["TrialBatch", "make_dataset", "task_spec", "resolve_task"], "._dataset"),
})
__all__ = ["ENV_IDS", "register_envs", *_names]
# registration happens on `import connectome_priors` (which every import of this package runs first)
