"""``--model``: the ablation and the sweep train a user's module factory instead of the built-in RNN."""

from __future__ import annotations

import json

import pytest

from connectome_priors.benchmarks import _ablation as ablation
from connectome_priors.benchmarks import _cli as cli
from connectome_priors.benchmarks import _schema as schema
from connectome_priors.benchmarks.sweep import _cli as sw
from connectome_priors.benchmarks.sweep import _plan as plan

EXAMPLE = "connectome_priors.models.examples:rnncell_net"


def test_model_enters_the_config_hash_only_when_set():
    base = schema.AblationConfig()
    mine = schema.AblationConfig(model=EXAMPLE)
    assert "model" not in base.identity()  # stores of the built-in model keep their hash
    assert mine.identity()["model"] == EXAMPLE
    assert mine.config_hash() != base.config_hash()
    assert mine.to_json()["model"] == EXAMPLE


@pytest.mark.parametrize("bad", ["connectome_priors.models.examples", ":rnncell_net",
                                 "connectome_priors.models.examples:"])
def test_model_must_be_an_import_path(bad):
    with pytest.raises(ValueError, match="must be an import path 'package.module:factory'"):
        schema.AblationConfig(model=bad)


def test_cli_passes_model_and_names_the_default_folder():
    args = cli.ablation_parser().parse_args(["--model", EXAMPLE, "--quick"])
    config = cli.config_from_args(args)
    assert config.model == EXAMPLE
    assert cli.default_out(config).endswith("-quick-rnncell_net")


def test_sweep_options_carry_the_model_into_each_cell():
    parser = sw.add_arguments(__import__("argparse").ArgumentParser())
    fields, options = sw.options_from_args(parser.parse_args(["--fields", "5_3_8", "--model", EXAMPLE, "--quick"]))
    cell = plan.plan_cells(fields, options)[0]
    assert ablation.config_from_sweep(cell, options).model == EXAMPLE


def test_a_constrained_sign_needs_a_factory_that_takes_sign():
    config = schema.AblationConfig(field="5_3_8", sign="nonneg", model=EXAMPLE)
    with pytest.raises(ValueError, match="takes no 'sign' keyword"):
        ablation._model(config, 42)


def test_unknown_factory_names_the_module():
    config = schema.AblationConfig(field="5_3_8", model="no_such_package.nets:factory")
    with pytest.raises(ModuleNotFoundError, match="no_such_package"):
        ablation._model(config, 42)


@pytest.mark.slow
def test_ablation_trains_a_brainpy_rnncell_model_end_to_end(tmp_path, microns_dir):
    out = tmp_path / "mine"
    argv = ["--field", "5_3_8", "--model", EXAMPLE, "--tasks", "3", "--variants", "W*D*C,W", "--seeds", "2",
            "--epochs", "1", "--n-train", "256", "--n-val", "64", "--n-test", "64", "--no-progress",
            "--data-dir", str(microns_dir), "--out", str(out)]
    assert cli.ablation_main(argv) == 0
    runs = [json.loads(p.read_text()) for p in sorted(out.glob("runs/*/*/seed_*.json"))]
    assert {(r["variant"], r["seed"]) for r in runs} == {("W*D*C", 0), ("W*D*C", 1), ("W", 0), ("W", 1)}
    assert all(r["status"] == "ok" for r in runs)
    # the user's model was trained (the module path records the factory), not the built-in RNN
    assert json.loads((out / "config.json").read_text())["model"] == EXAMPLE
    assert "module factory `connectome_priors.models.examples:rnncell_net`" in (out / "report.md").read_text()
    # W*D*C's functional init reached the user's cell: its initial W_rec differs from W's orthogonal one
    assert {r["w_rec_init"] for r in runs if r["variant"] == "W*D*C"} != {r["w_rec_init"] for r in runs
                                                                          if r["variant"] == "W"}
