"""The paper's three cognitive tasks as NeuroGym/Gymnasium environments and seeded trial batches.

* ``Task1-v0`` = ``OneChoiceInference-v0``: goal 20, delay 10, choices 20 steps (T = 50), 8 inputs, 4 classes
* ``Task2-v0`` = ``PerceptualDecisionMaking-v0``: fixation 1, stimulus 30, delay 10 (T = 41), 3 inputs, 2 classes
* ``Task3-v0`` = ``GoNoGo-v0``: fixation 5, stimulus 20, delay 10, decision 5 (T = 40), 3 inputs, 2 classes

The label is read out at the last step. All ids live in the ``cortex`` namespace (``gym.make("cortex/Task1-v0")``) and
are registered by a
``gymnasium.envs`` entry point on ``import gymnasium`` and again (idempotently) on ``import connectome_priors.envs``.
This module imports nothing heavy: the environments (neurogym) and the batches load on first use.

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
    **dict.fromkeys(["TrialBatch", "make_dataset", "task_spec", "resolve_task"], "._dataset"),
})
__all__ = ["ENV_IDS", "register_envs", *_names]

register_envs()
