"""connectome-priors: measured cortex (MICrONS) as inductive bias for recurrent networks.

The public API is re-exported here from small private modules. Names backed by JAX are
imported lazily, so the data, graph-metric and statistics layer (``graph_metrics``, ``stats``) stays importable
without JAX::

    >>> import connectome_priors as cp
    >>> ds = cp.load_field("5_3_8")          # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

from ._lazy import attach

# public name -> the subpackage (or module) that defines it; imported on first use
__getattr__, __dir__, _names = attach(__name__, {
    # data (JAX-free): fields/
    **dict.fromkeys(["load_field", "load_spikes", "FieldDataError", "list_fields", "fetch_field_files", "cache_dir",
                     "field_ids", "bin_spikes", "sttc_matrix", "binned_correlation", "precision_matrix",
                     "from_cave"], ".fields"),
    # priors: spatial embedding (JAX-free), communicability, functional init, initializers, surrogates
    **dict.fromkeys(["distance_matrix", "grid_positions", "lattice_shape", "communicability",
                     "empirical_communicability", "functional_weights", "MICrONSInit", "surrogate_field"],
                    ".priors"),
    # regularizers (JAX; the *Reg objects need brainstate)
    **dict.fromkeys(["wiring_cost", "communicability_cost", "communicability_emd", "l1", "wasserstein_1d",
                     "WiringCostReg", "CommunicabilityCostReg", "CommunicabilityEMDReg", "L1CostReg"],
                    ".regularizers"),
    # graph metrics of any weight matrix (JAX-free)
    **dict.fromkeys(["graph_metrics", "GRAPH_METRIC_NAMES", "graph_from_weights", "binarize_top", "weight_entropy",
                     "modularity", "greedy_modularity_labels", "assortativity", "clustering_and_efficiency",
                     "null_graphs", "null_clustering_and_efficiency", "small_world_sigma"], ".graph"),
    # the training protocol (JAX-free)
    "Protocol": "._protocol",
    # subpackages: cp.stats.summarize, cp.envs.make_dataset, cp.models.train, ...
    **{name: f".{name}" for name in ("fields", "priors", "regularizers", "graph", "stats", "envs", "models",
                                     "benchmarks")},
})
__all__ = [*_names, "__version__"]

# The gymnasium ids cortex/Task1-v0 ... (gym.make("connectome_priors:cortex/Task1-v0"), gym.register_envs(cp)):
# registered on import, idempotent and cheap (gymnasium's registry only; no jax, no environment is built).
from .envs._registration import register_on_import as _register_on_import  # noqa: E402

_register_on_import()
