"""The paper's three cognitive tasks as NeuroGym/Gymnasium environments and seeded trial batches.

* ``Task1-v0`` = ``OneChoiceInference-v0``: goal 20, delay 10, choices 20 steps (T = 50), 8 inputs, 4 classes
* ``Task2-v0`` = ``PerceptualDecisionMaking-v0``: fixation 1, stimulus 30, delay 10 (T = 41), 3 inputs, 2 classes
* ``Task3-v0`` = ``GoNoGo-v0``: fixation 5, stimulus 20, delay 10, decision 5 (T = 40), 3 inputs, 2 classes

The label is read out at the last step. All ids live in the ``cortex`` namespace (``gym.make("cortex/Task1-v0")``) and are registered by a
``gymnasium.envs`` entry point on ``import gymnasium`` and again (idempotently) on ``import envs``.
This module imports nothing heavy: the environments (neurogym) and the batches load on first use.

Example:
    >>> import envs
    >>> batch = envs.make_dataset("Task3", 8, seed=0)
    >>> batch.inputs.shape, envs.task_spec(3)["readout_step"]
    ((8, 40, 3), 39)
"""

from __future__ import annotations

import importlib
from typing import Any

from envs._registration import ENV_IDS, register_envs

_EXPORTS = {
    "OneChoiceInference": "envs._tasks",
    "PerceptualDecisionMaking": "envs._tasks",
    "GoNoGo": "envs._tasks",
    "CortexTrialEnv": "envs._tasks",
    "TrialBatch": "envs._dataset",
    "make_dataset": "envs._dataset",
    "task_spec": "envs._dataset",
    "resolve_task": "envs._dataset",
}

__all__ = ["ENV_IDS", "register_envs", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'envs' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


register_envs()
