"""connectome-priors: measured cortex (MICrONS) as inductive bias for recurrent networks.

The public API is re-exported here from small private modules. Names backed by JAX are
imported lazily, so the data, graph-metric and statistics layer (``graph_metrics``, ``stats``) stays importable
without JAX::

    >>> import connectome_priors as cp
    >>> ds = cp.load_field("5_3_8")          # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> private module that defines it
_EXPORTS: dict[str, str] = {
    # data (JAX-free)
    "load_field": "._field",
    "load_spikes": "._field",
    "FieldDataError": "._errors",
    "list_fields": "._fetch",
    "fetch_field_files": "._fetch",
    "cache_dir": "._fetch",
    "field_ids": "._registry",
    # functional similarity from spike trains (JAX-free)
    "bin_spikes": "._functional",
    "sttc_matrix": "._functional",
    "binned_correlation": "._functional",
    "precision_matrix": "._functional",
    # live MICrONS tables
    "from_cave": "._cave",
    # spatial embedding (JAX-free)
    "distance_matrix": "._geometry",
    "grid_positions": "._geometry",
    "lattice_shape": "._geometry",
    # communicability and regularizers (JAX)
    "communicability": "._communicability",
    "empirical_communicability": "._communicability",
    "wiring_cost": "._regularizers",
    "communicability_cost": "._regularizers",
    "communicability_emd": "._regularizers",
    "l1": "._regularizers",
    "wasserstein_1d": "._regularizers",
    "WiringCostReg": "._regularizers",
    "CommunicabilityCostReg": "._regularizers",
    "CommunicabilityEMDReg": "._regularizers",
    "L1CostReg": "._regularizers",
    # functional initialization and initializers
    "functional_weights": "._functional_init",
    "MICrONSInit": "._initializers",
    # synthetic fields
    "surrogate_field": "._surrogate",
    # graph metrics of any weight matrix (JAX-free)
    "graph_metrics": "._graph_metrics",
    "GRAPH_METRIC_NAMES": "._graph_metrics",
    "graph_from_weights": "._graph",
    "binarize_top": "._graph",
    "weight_entropy": "._entropy",
    "modularity": "._modularity",
    "greedy_modularity_labels": "._modularity",
    "assortativity": "._assortativity",
    "clustering_and_efficiency": "._clustering",
    "null_graphs": "._graph_nulls",
    "null_clustering_and_efficiency": "._graph_nulls",
    "small_world_sigma": "._small_world",
    # statistics of an ablation (JAX-free): a public submodule, cp.stats.summarize etc.
    "stats": ".stats",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'connectome_priors' has no attribute {name!r}")
    imported = importlib.import_module(module, __name__)
    value = imported if module == f".{name}" else getattr(imported, name)  # a public submodule, or a name
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return __all__
