"""Graph metrics of any weight matrix (entropy, modularity, small-worldness, assortativity) on its
binary top-10 % graph, with density-matched null graphs (JAX-free)."""

from ._assortativity import assortativity
from ._binary import binarize_top, graph_from_weights
from ._clustering import clustering_and_efficiency
from ._entropy import weight_entropy
from ._metrics import GRAPH_METRIC_NAMES, graph_metrics
from ._modularity import greedy_modularity_labels, modularity
from ._nulls import null_clustering_and_efficiency, null_graphs
from ._small_world import small_world_sigma

__all__ = [
    "GRAPH_METRIC_NAMES", "assortativity", "binarize_top", "clustering_and_efficiency", "graph_from_weights",
    "graph_metrics", "greedy_modularity_labels", "modularity", "null_clustering_and_efficiency", "null_graphs",
    "small_world_sigma", "weight_entropy",
]
