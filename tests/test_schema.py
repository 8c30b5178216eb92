"""What a run is and where it is stored: the variant table, the configuration hash, the run store's folder guard."""

from __future__ import annotations

import json

import numpy as np
import pytest

from connectome_priors.benchmarks import _run_store, _schema, _variants

TINY = dict(field="5_3_8", seeds=(0, 1), epochs=1, tasks=("Task3",),
            variants=("W*D*C", "WD*C*"), n_train=256, n_val=128, n_test=128)


def test_variant_table_matches_the_paper_order_and_factors():
    names = _variants.variant_names()
    assert names == ["W*D*C", "WD*C", "WDC", "WD*", "WD", "W", "W*D*C*", "WD*C*", "W*DC*", "W!D*C", "W!D*C*"]
    # the name spells the factors: W*/W!/W init, D*/D/none distance, C/C*/none penalty
    spell = {"w*": "W*", "w!": "W!", "w": "W", "d*": "D*", "d": "D", "c": "C", "c*": "C*", "none": ""}
    for v in _variants.VARIANTS:
        f = v.factors
        assert spell[f["w_variant"]] + spell[f["d_variant"]] + spell[f["c_variant"]] == v.name
    assert len(_variants.variant_names(controls=True)) == 11 + 8
    with pytest.raises(ValueError, match="unknown variant 'WX'"):
        _variants.get_variant("WX")


def test_the_variant_table_is_read_by_the_one_grammar():
    """The runner's variants are connectome_priors.stats' grammar; the controls keep their names and meanings."""
    from connectome_priors import stats

    assert _variants.variant_names(controls=True) == list(stats.CANONICAL_VARIANTS + stats.CONTROL_VARIANTS)
    for v in _variants.VARIANTS + _variants.CONTROLS:
        assert v == stats.Variant.from_name(v.name) and v.control == (v in _variants.CONTROLS)
    assert [(v.name, v.init, v.distance, v.penalty) for v in _variants.CONTROLS] == [
        ("Wdiag-D*C", "diagonal_only", "real", "comm"), ("W*nodiag-D*C", "functional_nodiag", "real", "comm"),
        ("Wsurr-D*C", "surrogate", "real", "comm"), ("Wdiagx-D*C", "diagonal_other_seed", "real", "comm"),
        ("Wid-D*C", "identity", "real", "comm"), ("Wspec-D*C", "spectrum_matched", "real", "comm"),
        ("W-lam0", "orthogonal", None, "zero"), ("W*-lam0", "functional", None, "zero")]
    assert set(_variants.CONTROL_DESCRIPTIONS) == set(stats.CONTROL_VARIANTS)
    # every variant the ablation runs weighs its penalty by a distance (the λ = 0 controls have none)
    assert all(v.distance is not None for v in _variants.VARIANTS + _variants.CONTROLS
               if v.penalty not in (None, "zero"))
    with pytest.raises(ValueError, match="unknown variant 'WC'"):  # a grammar name, but not a variant it runs
        _variants.get_variant("WC")


def test_config_hash_ignores_selection_but_not_protocol():
    a = _schema.AblationConfig(**TINY)
    b = _schema.AblationConfig(**{**TINY, "seeds": (0, 1, 2, 3), "tasks": ("Task1",), "variants": ("WD",)})
    c = _schema.AblationConfig(**{**TINY, "epochs": 2})
    assert a.config_hash() == b.config_hash()
    assert a.config_hash() != c.config_hash()
    with pytest.raises(ValueError, match="sign="):
        _schema.AblationConfig(sign="positive")
    with pytest.raises(ValueError, match="--tasks: unknown task '4'"):
        _schema.AblationConfig(tasks=("4",))


def test_out_dir_with_another_configuration_is_refused(tmp_path):
    tiny = _schema.AblationConfig(**TINY)
    _run_store.claim_out_dir(tmp_path, tiny)
    _run_store.claim_out_dir(tmp_path, _schema.AblationConfig(**{**TINY, "seeds": (5,)}))  # extends: fine
    other = _schema.AblationConfig(**{**TINY, "epochs": 3})
    _run_store.claim_out_dir(tmp_path, other)  # the folder holds no run yet: taken over
    assert json.loads((tmp_path / "config.json").read_text())["config_hash"] == other.config_hash()
    _run_store.RUN_STORE.write(tmp_path, {"variant": "W*D*C", "task": "Task3", "seed": 0, "status": "ok",
                                          "config_hash": other.config_hash(), "metrics": {}})
    with pytest.raises(ValueError, match="epochs"):  # now it holds a run of the other configuration
        _run_store.claim_out_dir(tmp_path, tiny)


def test_config_hash_ignores_number_types():
    base = _schema.AblationConfig(**TINY)
    other = _schema.AblationConfig(**{**TINY, "n_train": float(TINY.get("n_train", 5120)),
                                        "epochs": np.int64(base.epochs)})
    assert other.config_hash() == base.config_hash()
    with pytest.raises(ValueError, match="n_train"):
        _schema.AblationConfig(**{**TINY, "n_train": 1000.5})


def test_config_hash_is_stable_across_refactors():
    # Known values computed with the code BEFORE the issue-13 refactor (commit 8341877): stores
    # written before it (config.json, every run's config_hash) must resume and report after it,
    # so the hashed fields, their JSON form and the hash function must never change silently.
    assert _schema.AblationConfig().config_hash() == "836f4b590e1d3d79"
    assert _schema.AblationConfig(seeds=range(5), reference_compat=True).config_hash() == "0f793a5c18d7c027"
    tiny = _schema.AblationConfig(field="5_3_8", seeds=(0,), epochs=1, tasks=("Task3",),
                                    variants=("W*D*C",), n_train=256, n_val=128, n_test=128,
                                    reference_compat=True, sign="nonneg")
    assert tiny.config_hash() == "fd713cbb6cfc57e0"
