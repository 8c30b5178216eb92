"""Graph metrics of a weight matrix: entropy, modularity, small-world σ, assortativity.

The paper (arXiv 2606.14975) summarises every trained ``W_rec`` (N x N, rows presynaptic) by four numbers; the same
function takes any square matrix, e.g. the empirical connectome ``load_field(f).connectome`` (an ``xarray.DataArray``).
The graph ones use one undirected binary graph, built by :func:`graph_from_weights`:

1. ``A = |W|``;
2. keep the strongest ``top_fraction`` (10 %) of the entries: ``B_ij = A_ij > q`` (strict, so entries tied with the
   threshold and zero weights never become edges);
3. undirected by the OR rule: an edge ``{i, j}`` exists when either ``B_ij`` or ``B_ji`` is kept (this is what
   ``networkx.from_numpy_array`` does with an asymmetric matrix, as in the reference notebook), so the density of
   the graph is between ``top_fraction / 2`` and ``top_fraction`` of the pairs;
4. no self-loops.

Where the two modes differ (``reference_compat=False`` is the default, corrected one):

========================  ===========================================  ============================================
step                      default                                      ``reference_compat=True`` (published numbers)
========================  ===========================================  ============================================
threshold ``q``           the ``k = round(f * N(N-1))``-th largest      ``np.quantile(|W|, 1 - f)`` over all ``N²``
                          off-diagonal ``|W_ij|`` (the diagonal is      entries, diagonal included: strong self
                          dropped anyway, so it must not use up the     weights use up part of the 10 % and are then
                          10 %); keep the entries above the            removed, so fewer edges remain
                          ``(k+1)``-th largest
entropy values            ``|W|`` (the paper's stated recipe)          the signed ``W`` (what the notebook's code
                                                                       does)
small-world null          ``n_null`` Erdős–Rényi ``G(N, m)`` graphs    1000 graphs ``(U + Uᵀ)/2 > 0.7`` with
                          with the same node and edge count, no        ``U ~ Uniform(0,1)^{N x N}``: edge density
                          self-loops (density-matched)                 0.18 whatever the trained graph's density,
                                                                       and self-loops on the diagonal (p = 0.3)
                                                                       that enter its clustering coefficients
========================  ===========================================  ============================================

Metrics (both modes):

* ``Entropy``: ``H = -Σ_g p_g log2 p_g`` with ``p_g ∝ kde(x_g)``, a Gaussian KDE (Scott's bandwidth, all ``N²``
  values) evaluated on 100 evenly spaced points ``x_g`` from the smallest to the largest value, normalised to sum 1.
* ``Modularity``: ``Q = Σ_c [L_c/m - (d_c/2m)²]`` of the Clauset-Newman-Moore greedy partition (unweighted), the same
  partition as ``networkx.community.greedy_modularity_communities`` (same merge order and tie-breaking), computed
  on a dense ΔQ matrix.
* ``SmallWorldness``: Humphries' ``σ = (C / C_null) / (L / L_null)`` with ``C`` the mean local clustering coefficient
  (nodes of degree < 2 count as 0, as ``bct.clustering_coef_bu``) and ``L = 1 / E`` the harmonic mean shortest path
  length, ``E`` the global efficiency (``bct.efficiency_bin``; unreachable pairs contribute 0, so disconnected graphs
  are handled as in the reference). Hence ``σ = (C / C_null) · (E / E_null)``. Null means are cached per
  ``(N, m, n_null, seed)`` (``(N, n_null, seed)`` in compat mode, whose null does not depend on the graph).
* ``Assortativity``: the degree assortativity ``r`` (Newman 2003), the Pearson correlation of the degrees at the two
  ends of every edge, taken in both directions (= ``networkx.degree_assortativity_coefficient``).

A metric that is undefined on the given graph is NaN: any non-finite weight (all four, as in the reference), constant
weights (entropy), no edges (modularity, σ, assortativity), all degrees equal (assortativity), null clustering or
efficiency of 0 (σ).

Each step is its own public function: :func:`graph_from_weights` / :func:`binarize_top` (``._graph``),
:func:`weight_entropy` (``._entropy``), :func:`modularity` / :func:`greedy_modularity_labels` (``._modularity``),
:func:`assortativity` (``._assortativity``), :func:`clustering_and_efficiency` (``._clustering``),
:func:`null_clustering_and_efficiency` / :func:`null_graphs` (``._graph_nulls``), :func:`small_world_sigma`
(``._small_world``).

Example::

    >>> import numpy as np
    >>> import connectome_priors as cp
    >>> W = np.random.default_rng(0).normal(size=(60, 60))
    >>> m = cp.graph_metrics(W)
    >>> sorted(m)
    ['Assortativity', 'Entropy', 'Modularity', 'SmallWorldness']
    >>> 0.0 < m["Modularity"] < 1.0
    True
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ._assortativity import assortativity
from ._binary import as_matrix, graph_from_weights
from ._entropy import weight_entropy
from ._modularity import modularity
from ._small_world import small_world_sigma

GRAPH_METRIC_NAMES: tuple[str, ...] = ("Entropy", "Modularity", "SmallWorldness", "Assortativity")


def graph_metrics(
    W: np.ndarray,
    *,
    top_fraction: float = 0.1,
    reference_compat: bool = False,
    seed: int = 0,
    n_null: int | None = None,
) -> dict[str, float]:
    """The paper's four metrics of a weight matrix: ``{"Entropy", "Modularity", "SmallWorldness", "Assortativity"}``.

    ``W``: any real square matrix (``ndarray`` or ``xarray.DataArray``, e.g. a trained ``W_rec`` or
    ``load_field(f).connectome``). With ``G`` the top-``top_fraction`` undirected graph of ``|W|``
    (:func:`graph_from_weights`): ``Entropy = H(kde(|W|))`` (signed ``W`` under ``reference_compat``),
    ``Modularity = Q(G)`` of the CNM partition, ``SmallWorldness = (C/C_null)·(E/E_null)``,
    ``Assortativity = r(G)``; the module docstring has the recipe and the two modes.

    ``seed`` seeds the small-world null graphs (cached: calls with the same ``N`` and edge count reuse them).
    All four are NaN, with a ``RuntimeWarning`` saying why, when ``W`` has a non-finite entry; a metric that is
    undefined for the graph (no edges, two nodes) is NaN with a warning too.

    Example::

        >>> import numpy as np
        >>> W = np.random.default_rng(1).normal(size=(40, 40))
        >>> a, b = graph_metrics(W, seed=3), graph_metrics(W, seed=3)
        >>> a == b
        True
    """
    W = as_matrix(W)
    if not np.all(np.isfinite(W)):
        warnings.warn(f"graph_metrics: W has {int(np.count_nonzero(~np.isfinite(W)))} non-finite entries; "
                      "all four metrics are NaN", RuntimeWarning, stacklevel=2)
        return dict.fromkeys(GRAPH_METRIC_NAMES, math.nan)
    A = graph_from_weights(W, top_fraction, reference_compat=reference_compat)
    out = {
        "Entropy": weight_entropy(W, absolute=not reference_compat),
        "Modularity": modularity(A),
        "SmallWorldness": small_world_sigma(A, n_null=n_null, seed=seed, reference_compat=reference_compat),
        "Assortativity": assortativity(A),
    }
    undefined = [name for name, value in out.items() if not math.isfinite(value)]
    if undefined:  # legitimate for a graph without edges or of 2 nodes, but never silent
        warnings.warn(
            f"graph_metrics: {', '.join(undefined)} undefined (NaN) for this {W.shape[0]}x{W.shape[1]} matrix, "
            f"whose top-{top_fraction:g} graph has {int(np.count_nonzero(np.triu(A, 1)))} edge(s)",
            RuntimeWarning, stacklevel=2)
    return out
