"""Register the cortex tasks with gymnasium, without importing neurogym or jax.

This module is the ``gymnasium.envs`` entry point of the package: gymnasium < 1.0 imports it while
``import gymnasium`` is still running (``load_plugin_envs`` at the end of ``gymnasium/envs/__init__``)
and calls :func:`register_envs` inside ``namespace("cortex")``. A plugin that fails or imports something
heavy breaks every ``import gymnasium`` on the machine, so this module imports nothing at module level
and the environments are registered by *string* entry points, resolved only by ``gym.make``.

``import connectome_priors.envs`` calls :func:`register_envs` too (for gymnasium versions without plugins). The call is
idempotent: ids already in the registry are skipped, so running both paths never triggers gymnasium's
"Overriding environment" warning.
"""

from __future__ import annotations

NAMESPACE = "cortex"

# id without namespace -> "module:Class" (resolved lazily by gymnasium.make)
_ENTRY_POINTS: dict[str, str] = {
    "Task1-v0": "connectome_priors.envs._tasks:OneChoiceInference",
    "Task2-v0": "connectome_priors.envs._tasks:PerceptualDecisionMaking",
    "Task3-v0": "connectome_priors.envs._tasks:GoNoGo",
    "OneChoiceInference-v0": "connectome_priors.envs._tasks:OneChoiceInference",
    "PerceptualDecisionMaking-v0": "connectome_priors.envs._tasks:PerceptualDecisionMaking",
    "GoNoGo-v0": "connectome_priors.envs._tasks:GoNoGo",
}

#: The full gymnasium ids registered by :func:`register_envs`.
ENV_IDS: tuple[str, ...] = tuple(f"{NAMESPACE}/{name}" for name in _ENTRY_POINTS)


def register_envs() -> None:
    """Register ``cortex/Task{1,2,3}-v0`` and the descriptive ids with gymnasium (idempotent).

    Example:
        >>> import gymnasium as gym
        >>> from connectome_priors.envs._registration import register_envs
        >>> register_envs()
        >>> "cortex/Task1-v0" in gym.registry
        True
    """
    # Imported here, not at module level: while gymnasium imports this plugin, `gymnasium` itself is
    # only half initialised, but `gymnasium.envs.registration` is complete and already in sys.modules.
    from gymnasium.envs.registration import namespace, register, registry

    # Our own namespace context gives the same ids whether gymnasium's plugin loader (which already
    # set namespace "cortex") or `import connectome_priors.envs` calls us.
    with namespace(NAMESPACE):
        for name, entry_point in _ENTRY_POINTS.items():
            if f"{NAMESPACE}/{name}" in registry:
                continue
            register(id=name, entry_point=entry_point)
