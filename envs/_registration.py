"""Register the cortex tasks with gymnasium, importing nothing but ``gymnasium.envs.registration``.

Two paths call :func:`register_envs`, both idempotent (ids already in the registry are skipped, so running
both never triggers gymnasium's "Overriding environment" warning):

* ``import connectome_priors`` (through :func:`register_on_import`), on every gymnasium version. This is what
  gymnasium >= 1.0 expects of a package (it dropped plugin entry points): ``gym.make("connectome_priors:cortex/
  Task1-v0")`` imports ``connectome_priors`` and then finds the id, and ``gym.register_envs(connectome_priors)``
  names the import for linters.
* gymnasium < 1.0 only: the ``gymnasium.envs`` entry point of the package, which gymnasium calls inside
  ``namespace("cortex")`` while ``import gymnasium`` is still running (``load_plugin_envs`` at the end of
  ``gymnasium/envs/__init__``), so ``gym.make("cortex/Task1-v0")`` works with no import of ours.

Re-entrancy: loading the plugin imports ``connectome_priors`` (this module's package), whose import calls
:func:`register_on_import` while ``gymnasium`` is half initialised; ``gymnasium.envs.registration`` is complete by
then, and it is the only module imported here (inside the function, never at module level). Conversely, when
``import connectome_priors`` comes first, the ``from gymnasium.envs.registration import ...`` below runs
``import gymnasium``, whose plugin loader calls :func:`register_envs` once more before this call finishes.
A plugin that fails or imports something heavy breaks every ``import gymnasium`` on the machine, so the
environments are registered by *string* entry points, resolved only by ``gym.make``.
"""

from __future__ import annotations

import warnings

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

    Raises:
        ImportError: gymnasium is not installed.

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
    # set namespace "cortex") or `import connectome_priors` calls us.
    with namespace(NAMESPACE):
        for name, entry_point in _ENTRY_POINTS.items():
            if f"{NAMESPACE}/{name}" in registry:
                continue
            register(id=name, entry_point=entry_point)


def register_on_import() -> None:
    """:func:`register_envs` for ``import connectome_priors``: a failure warns instead of failing the import.

    The data, graph and statistics layers need no gymnasium, and gymnasium < 1.0 imports ``connectome_priors``
    from inside ``import gymnasium`` (the plugin), so an exception here must not escape.

    Example:
        >>> import gymnasium as gym
        >>> register_on_import()
        >>> sorted(k for k in gym.registry if k.startswith("cortex/Task"))
        ['cortex/Task1-v0', 'cortex/Task2-v0', 'cortex/Task3-v0']
    """
    try:
        register_envs()
    except Exception as error:  # noqa: BLE001 - reported, never raised into an import
        warnings.warn(
            f"connectome_priors: the gymnasium environments {', '.join(ENV_IDS[:3])} were not registered "
            f"({type(error).__name__}: {error}); the rest of the package works without them",
            RuntimeWarning,
            stacklevel=2,
        )
