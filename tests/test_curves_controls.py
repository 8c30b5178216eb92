"""Learning curves recorded by the one training loop, and the ablation's decisive controls (issue 22)."""

from __future__ import annotations

import numpy as np
import pytest

from connectome_priors import models
from connectome_priors.benchmarks._ablation import FieldPriors, build_prior, learning_curve
from connectome_priors.benchmarks._controls import IdentityInit, OtherSeedDiagonalInit, SpectrumMatchedInit
from connectome_priors.benchmarks._schema import AblationConfig
from connectome_priors.benchmarks._variants import CONTROLS, get_variant
from connectome_priors.stats import Variant


def _toy(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = (2 * y[:, None, None] - 1) * 0.5 + rng.normal(0, 1, (n, 5, 1))
    return x.astype("float32"), y


@pytest.fixture(scope="module")
def trained():
    return models.train(models.RNNSpec(n_hidden=8), _toy, seeds=[0, 1], epochs=3, n_train=320, n_val=64,
                        n_test=64, batch_size=32, curve_every=4)


def test_curve_blocks_average_to_the_epoch_means(trained):
    curves = trained.curves
    # 10 steps per epoch in blocks of 4: 4, 8, 10 -> 3 points per epoch
    assert curves["step"].tolist() == [4, 8, 10, 14, 18, 20, 24, 28, 30]
    assert curves["train_acc"].shape == curves["train_loss"].shape == (2, 9)
    weights = np.array([4, 4, 2])
    for name, metric in (("train_acc", "train_acc"), ("train_loss", "train_loss")):
        blocks = curves[name].reshape(2, 3, 3)
        np.testing.assert_allclose((blocks * weights).sum(-1) / 10, trained.metrics[metric], rtol=1e-5)
    assert trained.config["curve_every"] == 4


def test_curves_survive_save_and_load(trained, tmp_path):
    back = models.load_result(models.save_result(trained, tmp_path / "r.npz"))
    for k, v in trained.curves.items():
        np.testing.assert_array_equal(back.curves[k], v)


def test_curve_is_nan_after_a_seed_stops():
    def exploding(w):  # finite at first, then the penalty overflows float32
        return (w.sum() * 0 + 1e30) ** 2

    res = models.train(models.RNNSpec(n_hidden=4), _toy, seeds=[0], epochs=1, n_train=64, n_val=32, n_test=32,
                       batch_size=16, regularizers=[exploding], curve_every=1)
    assert res.status[0] != "ok"
    assert np.isnan(res.curves["train_acc"][0]).all()


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_curve_every_is_checked(bad):
    with pytest.raises(ValueError, match="curve_every"):
        models.train(models.RNNSpec(n_hidden=4), _toy, seeds=[0], epochs=1, n_train=64, n_val=32, n_test=32,
                     batch_size=16, curve_every=bad)


def test_learning_curve_record_is_compact_json(trained):
    rec = learning_curve(trained, 1)
    assert rec["step"] == trained.curves["step"].tolist()
    assert rec["train_acc"] == [round(float(v), 4) for v in trained.curves["train_acc"][1]]
    assert len(rec["val_acc"]) == 3


# ------------------------------------------------------------------------------------------- controls


def test_control_names_spell_their_one_changed_factor():
    assert Variant.from_name("W*-lam0").penalty == "zero" and Variant.from_name("W*-lam0").control
    assert Variant.from_name("W-lam0").factors == {"w_variant": "w", "d_variant": "none", "c_variant": "lam0"}
    for name in ("Wdiagx-D*C", "Wid-D*C", "Wspec-D*C"):
        v = Variant.from_name(name)
        assert (v.distance, v.penalty, v.control) == ("real", "comm", True)
    with pytest.raises(ValueError, match="distance unused"):
        Variant.from_name("WD*-lam0")
    assert {v.name for v in CONTROLS} >= {"Wdiagx-D*C", "Wid-D*C", "Wspec-D*C", "W-lam0", "W*-lam0"}


@pytest.fixture(scope="module")
def priors(microns_dir):
    return FieldPriors(AblationConfig(field="5_3_8", data_dir=str(microns_dir), seeds=(0,), epochs=1))


def test_lam0_controls_have_no_penalty_and_keep_their_init(priors):
    init, regs = build_prior(get_variant("W*-lam0"), priors)
    assert regs == [] and type(init).__name__ == "MICrONSInit"
    init, regs = build_prior(get_variant("W-lam0"), priors)
    assert regs == [] and init is None
    _, regs = build_prior(get_variant("W*D*C"), priors)
    assert len(regs) == 1


def test_control_inits_against_the_functional_matrix(priors):
    n = priors.n
    w_star = {s: models.draw_w_rec(build_prior(get_variant("W*D*C"), priors)[0], n, s) for s in (0, 1)}
    diag_init = build_prior(get_variant("Wdiagx-D*C"), priors)[0]
    ident_init = build_prior(get_variant("Wid-D*C"), priors)[0]
    spec_init = build_prior(get_variant("Wspec-D*C"), priors)[0]
    assert isinstance(diag_init, OtherSeedDiagonalInit) and isinstance(ident_init, IdentityInit)
    assert isinstance(spec_init, SpectrumMatchedInit)
    for s in (0, 1):
        w = w_star[s]
        d_other = models.draw_w_rec(diag_init, n, s)
        assert np.count_nonzero(d_other - np.diag(np.diag(d_other))) == 0  # diagonal only
        assert not np.allclose(np.diag(d_other), np.diag(w))  # ... and not this seed's own draw
        np.testing.assert_allclose(models.draw_w_rec(ident_init, n, s), np.mean(np.diag(w)) * np.eye(n), rtol=1e-5)
        q_w = models.draw_w_rec(spec_init, n, s).astype(np.float64)
        np.testing.assert_allclose(np.sort(np.abs(np.linalg.eigvals(q_w))), np.sort(np.abs(np.linalg.eigvals(w))),
                                   atol=1e-4)
        np.testing.assert_allclose(np.linalg.norm(q_w), np.linalg.norm(w), rtol=1e-4)  # a rotation
        assert abs(np.trace(q_w) - np.trace(w)) < 1e-3 * n
        assert np.abs(np.diag(q_w)).sum() / np.abs(q_w).sum() < 0.5 * np.abs(np.diag(w)).sum() / np.abs(w).sum()
    assert not np.allclose(models.draw_w_rec(spec_init, n, 0), models.draw_w_rec(spec_init, n, 1))
