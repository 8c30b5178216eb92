"""The cortical penalties as ``brainstate.nn.Regularization`` objects (``.loss(W)``), usable as
``brainstate.nn.Param(..., reg=...)``; each ``loss`` is the pure function of the same name in
:mod:`connectome_priors.regularizers._penalties`."""

from __future__ import annotations

import brainstate
import jax.numpy as jnp
import numpy as np

from connectome_priors._compat import compat_attrs

from ._penalties import communicability_cost, communicability_emd, wiring_cost

__all__ = ["CommunicabilityCostReg", "CommunicabilityEMDReg", "L1CostReg", "WiringCostReg"]


class _CorticalReg(brainstate.nn.Regularization):
    """Base: ``loss(W)`` is the penalty; the zero matrix minimises it (``reset_value``)."""

    reference_compat = False

    @property
    def attrs(self) -> dict[str, int]:
        return compat_attrs(self.reference_compat)

    def reset_value(self):
        return 0.0

    def sample_init(self, shape):
        raise NotImplementedError(f"{type(self).__name__} has no prior to sample from; "
                                  f"initialise W with MICrONSInit or a random initializer")

class WiringCostReg(_CorticalReg):
    """``loss(W) = wiring_cost(W, D, lam)``.

    Example::

        >>> import jax.numpy as jnp, brainstate
        >>> reg = WiringCostReg(jnp.ones((2, 2)) - jnp.eye(2), lam=0.5)
        >>> p = brainstate.nn.Param(jnp.array([[0.0, 1.0], [2.0, 0.0]]), reg=reg)
        >>> float(p.reg_loss())
        1.5
    """

    def __init__(self, D, lam: float = 0.3):
        super().__init__()
        self.D, self.lam = jnp.asarray(getattr(D, "values", D)), lam

    def loss(self, value):
        return wiring_cost(value, self.D.astype(jnp.asarray(value).dtype), self.lam)

class CommunicabilityCostReg(_CorticalReg):
    """``loss(W) = communicability_cost(W, D, lam, reference_compat=...)``.

    Example::

        >>> import jax.numpy as jnp
        >>> reg = CommunicabilityCostReg(jnp.ones((2, 2)) - jnp.eye(2), lam=1.0)
        >>> round(float(reg.loss(jnp.array([[0.0, 1.0], [1.0, 0.0]]))), 4)
        2.3504
    """

    def __init__(self, D, lam: float = 0.3, *, reference_compat: bool = False):
        super().__init__()
        self.D, self.lam = jnp.asarray(getattr(D, "values", D)), lam
        self.reference_compat = bool(reference_compat)

    def loss(self, value):
        return communicability_cost(value, self.D.astype(jnp.asarray(value).dtype), self.lam,
                                    reference_compat=self.reference_compat)

class CommunicabilityEMDReg(_CorticalReg):
    """``loss(W) = communicability_emd(W, C_emp, lam_emd, reference_compat=...)``.

    Example::

        >>> import jax.numpy as jnp
        >>> reg = CommunicabilityEMDReg(jnp.zeros((2, 2)), lam_emd=1.0)
        >>> round(float(reg.loss(jnp.array([[0.0, 1.0], [1.0, 0.0]]))), 4)
        1.1752
    """

    def __init__(self, C_emp, lam_emd: float = 0.1, *, reference_compat: bool = False):
        super().__init__()
        self.C_emp = np.asarray(getattr(C_emp, "values", C_emp), dtype=np.float64)
        self.lam_emd, self.reference_compat = lam_emd, bool(reference_compat)

    def loss(self, value):
        return communicability_emd(value, self.C_emp, self.lam_emd,
                                   reference_compat=self.reference_compat)

class L1CostReg(_CorticalReg):
    """``loss(W) = l1(W, lam, reference_compat=...)`` (compat: the published lam-less sum).

    Example::

        >>> import jax.numpy as jnp
        >>> float(L1CostReg(0.1, reference_compat=True).loss(jnp.array([1.0, -2.0])))
        3.0
    """

    def __init__(self, lam: float = 0.3, *, reference_compat: bool = False):
        super().__init__()
        self.lam, self.reference_compat = lam, bool(reference_compat)

    def loss(self, value):
        value = jnp.asarray(value)
        total = jnp.sum(jnp.abs(value))  # any shape, like brainstate's L1Reg
        return total if self.reference_compat else self.lam * total
