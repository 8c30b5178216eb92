"""Per-field covariates (connectome_priors.priors.field_covariates) against loops and pandas written here."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from connectome_priors import load_field
from connectome_priors.priors import COVARIATES, field_covariates, functional_weights
from connectome_priors.priors._functional_init import diagonal_share


@pytest.fixture(scope="module")
def field():
    return load_field("5_3_8")  # embedded in the package: no data folder needed


def test_covariates_match_pairwise_loops(field):
    cov = field_covariates(field, seeds=(0, 5))
    assert list(cov) == list(COVARIATES)
    n = field.sizes["neuron"]
    counts = field["connectome"].values
    pos = field["positions"].values
    pairs = list(itertools.combinations(range(n), 2))
    assert cov["n_neurons"] == n
    assert cov["connectome_density"] == pytest.approx(
        sum(counts[i, j] > 0 for i in range(n) for j in range(n) if i != j) / (n * (n - 1)))
    dist = [math.dist(pos[i], pos[j]) for i, j in pairs]
    assert cov["distance_median_um"] == pytest.approx(np.median(dist))
    assert cov["distance_iqr_um"] == pytest.approx(np.subtract(*np.percentile(dist, [75, 25])))
    sttc = [field["sttc"].values[i, j] for i, j in pairs]
    assert (cov["sttc_mean"], cov["sttc_sd"]) == pytest.approx((np.mean(sttc), pd.Series(sttc).std()))
    syn = pd.Series([counts[i, j] + counts[j, i] for i, j in pairs])
    assert cov["rho_sttc_synapses"] == pytest.approx(pd.Series(sttc).corr(syn, method="spearman"))
    shares = [diagonal_share(functional_weights(field, seed=s))["squared"] for s in (0, 5)]
    assert cov["w_star_diag_share"] == pytest.approx(np.mean(shares)) and 0 < cov["w_star_diag_share"] <= 1


def test_missing_variable_and_no_seed_are_named(field):
    with pytest.raises(ValueError, match="variable 'sttc' missing"):
        field_covariates(field.drop_vars("sttc"))
    with pytest.raises(ValueError, match="seeds must name at least one seed"):
        field_covariates(field, seeds=())


def test_no_synapse_gives_nan_correlation_not_an_error(field):
    empty = field.copy(deep=True)
    empty["connectome"][:] = 0
    cov = field_covariates(empty, seeds=(0,))
    assert cov["connectome_density"] == 0.0 and math.isnan(cov["rho_sttc_synapses"])
