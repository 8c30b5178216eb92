"""Cortical penalties of a recurrent weight matrix: pure JAX functions (``_penalties``) and the same
as ``brainstate.nn.Regularization`` objects (``_brainstate``, imported on first use)."""

from connectome_priors._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    **dict.fromkeys(["l1", "wiring_cost", "communicability_cost", "communicability_emd", "wasserstein_1d"],
                    "._penalties"),
    **dict.fromkeys(["WiringCostReg", "CommunicabilityCostReg", "CommunicabilityEMDReg", "L1CostReg"],
                    "._brainstate"),
})
