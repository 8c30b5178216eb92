"""``as_brainpy``: a brainstate module as a brainpy 2.8 ``DynamicalSystem``, for ``bp.DSRunner``.

brainpy 2.8.2's ``DSRunner`` refuses any target that is not a ``brainpy.DynamicalSystem``, and a
``brainstate.nn.Module`` (such as :class:`connectome_priors.models.CorticalRNN`) is not one; see
the ``_module`` docstring. brainpy's variables are brainstate ``State`` objects, so the wrapper
only forwards ``update`` and ``reset_state``. In its own module so that training imports no brainpy.
"""

from __future__ import annotations

from typing import Any

import brainpy as bp
import brainstate
import jax


def as_brainpy(module: brainstate.nn.Module) -> bp.DynamicalSystem:
    """Wrap a brainstate module as a ``brainpy.DynamicalSystem``.

    Args:
        module: a brainstate module with a per-step ``update(x)``.

    Returns:
        A ``DynamicalSystem`` whose ``update(x)`` calls ``module.update(x)`` and whose
        ``reset_state(batch_size)`` resets the module's hidden states.

    Example:
        >>> import brainpy as bp, jax.numpy as jnp
        >>> from connectome_priors.models import CorticalRNN, RNNSpec
        >>> m = CorticalRNN(RNNSpec(n_hidden=4, n_inputs=2, n_outputs=2), seed=0)
        >>> m.init_state(3)
        >>> runner = bp.DSRunner(as_brainpy(m), data_first_axis="T", progress_bar=False)
        >>> runner.run(inputs=jnp.ones((5, 3, 2))).shape
        (5, 3, 2)
    """
    return BrainstateModule(module)


class BrainstateModule(bp.DynamicalSystem):
    """The wrapper :func:`as_brainpy` returns (``target``: the wrapped module)."""

    def __init__(self, target: brainstate.nn.Module) -> None:
        super().__init__()
        self.target = target

    def reset_state(self, batch_size: int | None = None, **kwargs: Any) -> None:
        """Reset the wrapped module's hidden states for ``batch_size`` trials."""
        brainstate.nn.reset_all_states(self.target, batch_size)

    def update(self, x: jax.Array) -> jax.Array:
        """One step of the wrapped module."""
        return self.target.update(x)
