"""Priors from a field: soma geometry, communicability, the functional init, ``MICrONSInit``,
Dale's law and surrogate fields (geometry and the functional init are JAX-free; imported on use)."""

from connectome_priors._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    **dict.fromkeys(["distance_matrix", "grid_positions", "lattice_shape"], "._geometry"),
    **dict.fromkeys(["communicability", "empirical_communicability"], "._communicability"),
    **dict.fromkeys(["functional_weights", "nearest_centroid_subset", "select_neurons"], "._functional_init"),
    "MICrONSInit": "._initializers",
    "surrogate_field": "._surrogate",
    # per-field covariates for comparisons across fields (JAX-free)
    **dict.fromkeys(["COVARIATES", "field_covariates"], "._covariates"),
    # the sign vocabulary and Dale's law, each defined once (JAX-free)
    **dict.fromkeys(["SIGNS", "check_sign"], "._signs"),
    **dict.fromkeys(["DEFAULT_EXC_FRACTION", "excitatory_mask", "dale_signs", "balance_magnitudes", "apply_dale",
                     "effective_dale", "normalize_layout"], "._dale"),
})
