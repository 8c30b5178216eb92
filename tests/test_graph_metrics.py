"""The public graph metrics (``connectome_priors.graph_metrics`` and its steps), against networkx / scipy / bctpy
and formulas written here."""

from __future__ import annotations

import math
import time

import networkx as nx
import numpy as np
import pytest
from scipy.stats import entropy as scipy_entropy
from scipy.stats import gaussian_kde

import connectome_priors as cp
from connectome_priors.graph._clustering import clustering_and_efficiency_batch
from connectome_priors.graph._nulls import _null_means


def _random_graphs(count: int, seed: int):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = int(rng.integers(6, 45))
        p = float(rng.uniform(0.04, 0.5))
        G = nx.gnp_random_graph(n, p, seed=int(rng.integers(2**31)))
        yield G, nx.to_numpy_array(G, dtype=int)


def _partition(labels: np.ndarray) -> set[frozenset[int]]:
    return {frozenset(np.flatnonzero(labels == label).tolist()) for label in np.unique(labels)}


# ---------------------------------------------------------------------------------------------------------------
# graph construction


def test_graph_from_weights_is_networkx_of_the_thresholded_matrix_in_compat_mode():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(40, 40))
    # the reference recipe, spelled out: quantile over all N² entries, strict >, nx undirected graph, no self-loops
    A = np.abs(W)
    B = (A > np.quantile(A, 0.9)).astype(int)
    G = nx.from_numpy_array(B)
    G.remove_edges_from(nx.selfloop_edges(G))
    expected = nx.to_numpy_array(G, dtype=int).astype(bool)
    np.testing.assert_array_equal(cp.graph_from_weights(W, 0.1, reference_compat=True), expected)


def test_default_threshold_keeps_exactly_k_off_diagonal_entries():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(30, 30))
    W[np.diag_indices(30)] = 100.0  # strong self weights must not use up the 10 %
    B = cp.binarize_top(W, 0.1)
    k = round(0.1 * 30 * 29)
    assert B.sum() == k and not B.diagonal().any()
    off = np.abs(W)[~np.eye(30, dtype=bool)]
    assert np.abs(W)[B].min() == np.sort(off)[-k]
    # compat mode: the 30 diagonal entries take part of the 10 % and are then removed
    assert cp.binarize_top(W, 0.1, reference_compat=True).sum() < k


def test_ties_at_the_threshold_and_zeros_are_never_edges():
    W = np.zeros((10, 10))
    W[0, 1:4] = 1.0  # 3 nonzero entries, k = round(0.1 * 90) = 9
    B = cp.binarize_top(W, 0.1)
    assert B.sum() == 3
    W = np.ones((5, 5))  # everything tied: nothing is stronger than the threshold
    assert cp.binarize_top(W, 0.1).sum() == 0


def test_graph_is_the_or_of_both_directions():
    W = np.zeros((4, 4))
    W[0, 1] = 5.0
    W[2, 3] = 4.0
    W[3, 2] = 0.1
    A = cp.graph_from_weights(W, 2 / 12)
    assert A[0, 1] and A[1, 0] and A[2, 3] and A[3, 2] and A.sum() == 4


@pytest.mark.parametrize(
    ("W", "message"),
    [(np.zeros((3, 4)), "square"), (np.zeros(5), "square"), (np.zeros((1, 1)), "at least 2")],
)
def test_bad_matrices_are_rejected(W, message):
    with pytest.raises(ValueError, match=message):
        cp.graph_metrics(W)


def test_bad_top_fraction_is_rejected():
    with pytest.raises(ValueError, match="top_fraction"):
        cp.binarize_top(np.eye(3), 1.5)


def test_non_binary_or_asymmetric_adjacency_is_rejected():
    with pytest.raises(ValueError, match="binary"):
        cp.modularity(np.full((3, 3), 0.5))
    A = np.zeros((3, 3), dtype=int)
    A[0, 1] = 1
    with pytest.raises(ValueError, match="symmetric"):
        cp.assortativity(A)


# ---------------------------------------------------------------------------------------------------------------
# entropy


@pytest.mark.parametrize("absolute", [True, False])
def test_entropy_matches_scipy_gaussian_kde_recipe(absolute):
    W = np.random.default_rng(2).standard_t(3, size=(50, 50))
    x = (np.abs(W) if absolute else W).ravel()
    grid = np.linspace(x.min(), x.max(), 100)
    p = gaussian_kde(x)(grid)
    expected = scipy_entropy(p / p.sum(), base=2)
    assert cp.weight_entropy(W, absolute=absolute) == pytest.approx(expected, abs=1e-12)


def test_entropy_properties():
    rng = np.random.default_rng(3)
    W = rng.normal(size=(30, 30))
    assert 0 < cp.weight_entropy(W) <= math.log2(100)
    assert cp.weight_entropy(7.5 * W) == pytest.approx(cp.weight_entropy(W), abs=1e-12)  # scale-free
    assert cp.weight_entropy(np.full((5, 5), 0.3)) != cp.weight_entropy(np.full((5, 5), 0.3))  # NaN: constant


# ---------------------------------------------------------------------------------------------------------------
# modularity, assortativity, clustering, efficiency


def test_greedy_partition_is_networkx_cnm_partition():
    for G, A in _random_graphs(25, seed=4):
        if G.number_of_edges() == 0:
            continue
        expected = {frozenset(c) for c in nx.community.greedy_modularity_communities(G)}
        assert _partition(cp.greedy_modularity_labels(A)) == expected


def test_modularity_matches_networkx():
    for G, A in _random_graphs(25, seed=5):
        if G.number_of_edges() == 0:
            assert math.isnan(cp.modularity(A))
            continue
        communities = nx.community.greedy_modularity_communities(G)
        assert cp.modularity(A) == pytest.approx(nx.community.modularity(G, communities), abs=1e-12)


def test_modularity_of_given_labels_matches_networkx():
    G = nx.karate_club_graph()
    A = nx.to_numpy_array(G, weight=None, dtype=int)
    labels = np.array([G.nodes[v]["club"] == "Officer" for v in G], dtype=int)
    expected = nx.community.modularity(G, [set(np.flatnonzero(labels == c)) for c in (0, 1)], weight=None)
    assert cp.modularity(A, labels) == pytest.approx(expected, abs=1e-12)


def test_assortativity_matches_networkx():
    for G, A in _random_graphs(25, seed=6):
        if G.number_of_edges() == 0:
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            expected = nx.degree_assortativity_coefficient(G)
        np.testing.assert_allclose(cp.assortativity(A), expected, atol=1e-10)


def test_assortativity_is_nan_for_regular_graphs():
    assert math.isnan(cp.assortativity(nx.to_numpy_array(nx.cycle_graph(8), dtype=int)))


def test_clustering_and_efficiency_match_networkx():
    for G, A in _random_graphs(25, seed=7):
        C, E = cp.clustering_and_efficiency(A)
        assert C == pytest.approx(nx.average_clustering(G), abs=1e-12)
        assert E == pytest.approx(nx.global_efficiency(G), abs=1e-12)


def test_efficiency_of_long_paths_and_disconnected_graphs():
    # a path of 12 nodes plus an isolated node: distances up to 11, unreachable pairs count 0
    G = nx.path_graph(12)
    G.add_node(12)
    C, E = cp.clustering_and_efficiency(nx.to_numpy_array(G, dtype=int))
    assert C == 0.0
    assert E == pytest.approx(nx.global_efficiency(G), abs=1e-12)


def test_clustering_and_efficiency_match_bct_with_self_loops():
    bct = pytest.importorskip("bct")
    rng = np.random.default_rng(8)
    U = rng.random((3, 25, 25))
    graphs = (U + U.transpose(0, 2, 1)) / 2 > 0.7  # the reference null, self-loops included
    C, E = clustering_and_efficiency_batch(graphs)
    for g, c, e in zip(graphs.astype(float), C, E):
        assert c == pytest.approx(np.mean(bct.clustering_coef_bu(g)), abs=1e-12)
        assert e == pytest.approx(bct.efficiency_bin(g), abs=1e-12)


# ---------------------------------------------------------------------------------------------------------------
# nulls and small-world sigma


def test_reference_null_reproduces_the_notebook_loop():
    """Same random stream, the notebook's per-matrix loop (written here with networkx-free numpy + bct formulas)."""
    n, n_null, seed = 20, 30, 11
    rng = np.random.default_rng(seed)
    clustering, efficiency = [], []
    for _ in range(n_null):
        Wperm = rng.random((n, n))
        Wperm = (Wperm + Wperm.T) / 2
        A = np.where(Wperm > 0.7, 1, 0)
        # bct.clustering_coef_bu: for each u, edges among its row-neighbours (self-loops included) / (k² - k)
        local = []
        for u in range(n):
            V = np.flatnonzero(A[u])
            k = V.size
            local.append(A[np.ix_(V, V)].sum() / (k * k - k) if k >= 2 else 0.0)
        clustering.append(np.mean(local))
        G = nx.from_numpy_array(A)
        G.remove_edges_from(nx.selfloop_edges(G))
        efficiency.append(nx.global_efficiency(G))
    expected = (np.mean(clustering), np.mean(efficiency))
    got = cp.null_clustering_and_efficiency(n, 1, n_null=n_null, seed=seed, reference_compat=True)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_gnm_null_graphs_are_density_matched_and_match_networkx_statistics():
    n, m, n_null, seed = 24, 50, 12, 5
    clustering, efficiency = [], []
    for batch in cp.null_graphs(n, m, n_null, seed):
        for A in batch:
            assert np.array_equal(A, A.T) and not A.diagonal().any() and A.sum() == 2 * m
            G = nx.from_numpy_array(A.astype(int))
            clustering.append(nx.average_clustering(G))
            efficiency.append(nx.global_efficiency(G))
    assert len(clustering) == n_null
    got = cp.null_clustering_and_efficiency(n, m, n_null=n_null, seed=seed)
    np.testing.assert_allclose(got, (np.mean(clustering), np.mean(efficiency)), rtol=1e-12)


def test_gnm_null_picks_pairs_uniformly():
    counts = np.zeros((8, 8))
    for batch in cp.null_graphs(8, 7, 800, 0):
        counts += batch.sum(axis=0)
    upper = counts[np.triu_indices(8, 1)]
    expected = 800 * 7 / 28
    assert np.abs(upper - expected).max() < 5 * math.sqrt(expected)  # ~5 sigma


def test_nulls_are_cached():
    _null_means.cache_clear()
    cp.null_clustering_and_efficiency(30, 40, n_null=5, seed=1)
    cp.null_clustering_and_efficiency(30, 40, n_null=5, seed=1)
    info = _null_means.cache_info()
    assert info.hits == 1 and info.misses == 1


def test_sigma_is_the_humphries_ratio_with_the_cached_nulls():
    G = nx.watts_strogatz_graph(30, 6, 0.1, seed=3)
    A = nx.to_numpy_array(G, dtype=int)
    m = G.number_of_edges()
    C_null, E_null = cp.null_clustering_and_efficiency(30, m, n_null=40, seed=2)
    expected = (nx.average_clustering(G) / C_null) / ((1 / nx.global_efficiency(G)) / (1 / E_null))
    assert cp.small_world_sigma(A, n_null=40, seed=2) == pytest.approx(expected, rel=1e-12)


def test_sigma_agrees_with_networkx_sigma_in_kind():
    """networkx.sigma (degree-preserving nulls, transitivity, path length) and ours (G(n, m) nulls, average clustering,
    efficiency) are different estimators; both must call a rewired ring small-world and an ER graph not."""
    ring = nx.connected_watts_strogatz_graph(30, 6, 0.1, seed=1)
    er = nx.gnm_random_graph(30, ring.number_of_edges(), seed=2)
    assert nx.is_connected(er)
    ours_ring = cp.small_world_sigma(nx.to_numpy_array(ring, dtype=int), n_null=50)
    ours_er = cp.small_world_sigma(nx.to_numpy_array(er, dtype=int), n_null=50)
    theirs_ring = nx.sigma(ring, niter=2, nrand=3, seed=0)
    assert ours_ring > 1.5 and theirs_ring > 1.5
    assert abs(ours_er - 1.0) < 0.3


def test_degenerate_graphs_give_nan_with_a_warning_not_errors():
    with pytest.warns(RuntimeWarning, match=r"undefined \(NaN\) for this 6x6 matrix, whose top-0.1 graph has 0 edge"):
        metrics = cp.graph_metrics(np.zeros((6, 6)))
    assert all(math.isnan(v) for v in metrics.values())
    with pytest.warns(RuntimeWarning, match="undefined"):
        cp.graph_metrics(np.ones((2, 2)))
    W = np.random.default_rng(0).normal(size=(6, 6))
    W[2, 3] = np.nan
    with pytest.warns(RuntimeWarning, match="1 non-finite entries"):
        assert all(math.isnan(v) for v in cp.graph_metrics(W).values())


# ---------------------------------------------------------------------------------------------------------------
# all four together


def test_graph_metrics_composes_the_individual_metrics():
    W = np.random.default_rng(9).normal(size=(40, 40))
    for compat in (False, True):
        A = cp.graph_from_weights(W, 0.1, reference_compat=compat)
        got = cp.graph_metrics(W, reference_compat=compat, seed=4, n_null=20)
        assert list(got) == list(cp.GRAPH_METRIC_NAMES)
        assert got["Entropy"] == cp.weight_entropy(W, absolute=not compat)
        assert got["Modularity"] == cp.modularity(A)
        assert got["Assortativity"] == cp.assortativity(A)
        assert got["SmallWorldness"] == cp.small_world_sigma(A, n_null=20, seed=4, reference_compat=compat)


@pytest.mark.slow
def test_graph_metrics_at_paper_size_is_fast_and_matches_networkx():
    """N = 312 (field 6_6_2): all four metrics within the 2 s budget once the nulls are cached."""
    W = np.random.default_rng(10).normal(size=(312, 312))
    cp.graph_metrics(W)  # fills the null cache for this edge count
    start = time.perf_counter()
    got = cp.graph_metrics(W)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0
    G = nx.from_numpy_array(cp.graph_from_weights(W).astype(int))
    communities = nx.community.greedy_modularity_communities(G)
    assert got["Modularity"] == pytest.approx(nx.community.modularity(G, communities), abs=1e-12)
    assert got["Assortativity"] == pytest.approx(nx.degree_assortativity_coefficient(G), abs=1e-10)


def test_reference_compat_reproduces_the_notebook_recipe_end_to_end():
    """The notebook's model_metrics (networkx + bct + scipy), with its np.random nulls drawn from our seeded stream."""
    bct = pytest.importorskip("bct")
    n, n_null, seed = 30, 40, 6
    W = np.random.default_rng(12).normal(scale=0.3, size=(n, n)).astype(np.float32)
    W[np.diag_indices(n)] = 1.0  # strong self weights, as a functional init has

    x = W.flatten()
    grid = np.linspace(x.min(), x.max(), 100)
    p = gaussian_kde(x)(grid)
    entropy = scipy_entropy(p / p.sum(), base=2)
    A = np.abs(W)
    G = nx.from_numpy_array((A > np.quantile(A, q=0.9)).astype(int))
    G.remove_edges_from(nx.selfloop_edges(G))
    q = nx.community.modularity(G, list(nx.community.greedy_modularity_communities(G)))
    r = nx.degree_assortativity_coefficient(G)
    adjacency = nx.to_numpy_array(G)
    clu = np.mean(bct.clustering_coef_bu(adjacency))
    pth = bct.efficiency_bin(adjacency)
    rng = np.random.default_rng(seed)
    cluperm, pthperm = [], []
    for _ in range(n_null):
        Wperm = rng.random((n, n))
        Aperm = np.where((Wperm + Wperm.T) / 2 > 0.7, 1, 0)
        cluperm.append(np.mean(bct.clustering_coef_bu(Aperm)))
        pthperm.append(bct.efficiency_bin(Aperm))
    smw = (clu / np.mean(cluperm)) / (np.mean(pthperm) / pth)

    got = cp.graph_metrics(W, reference_compat=True, seed=seed, n_null=n_null)
    assert got["Entropy"] == pytest.approx(entropy, abs=1e-6)  # float32 input: KDE summation order differs
    assert got["Modularity"] == pytest.approx(q, abs=1e-12)
    assert got["Assortativity"] == pytest.approx(r, abs=1e-10)
    assert got["SmallWorldness"] == pytest.approx(smw, rel=1e-12)


def test_graph_metrics_of_the_empirical_connectome(microns_dir):
    field = cp.load_field("5_3_8", data_dir=microns_dir)
    conn = field.connectome  # an xarray.DataArray of synapse counts (pre, post)
    got = cp.graph_metrics(conn)
    np.testing.assert_equal(got, cp.graph_metrics(conn.values))
    assert list(got) == list(cp.GRAPH_METRIC_NAMES)
    assert 0.0 < got["Entropy"] and 0.0 < got["Modularity"] < 1.0
