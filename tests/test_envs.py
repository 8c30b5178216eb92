"""The three cognitive tasks: registration, gymnasium API, trial semantics, seeding, env == dataset."""

from __future__ import annotations

import ast
import hashlib
import re
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from scipy import stats

from connectome_priors import envs
from connectome_priors.envs._counter_rng import normals, trial_keys, uniforms
from connectome_priors.envs._trial_env import BaseTrialEnv, NamedBox, NamedDiscrete

ROOT = Path(__file__).resolve().parents[1]
GYMNASIUM_1 = int(gym.__version__.split(".")[0]) >= 1

# The definitions, written out independently of envs/_trials.py.
PERIODS = {
    1: [("goal", 20), ("delay", 10), ("choices", 20)],
    2: [("fixation", 1), ("stimulus", 30), ("delay", 10)],
    3: [("fixation", 5), ("stimulus", 20), ("delay", 10), ("decision", 5)],
}
N_INPUTS = {1: 8, 2: 3, 3: 3}
N_OUTPUTS = {1: 4, 2: 2, 3: 2}
MOVES = "lurd"  # label and channel order: l=0 (ch4), u=1 (ch5), r=2 (ch6), d=3 (ch7)
GOAL_CHANNEL = {7: 0, 9: 1, 17: 2, 19: 3}
MAZES = [(9, "ul", "u"), (9, "rd", "r"), (19, "ld", "d"), (17, "rd", "d"),
         (17, "ul", "l"), (7, "ur", "u"), (19, "lr", "r"), (7, "lr", "l")]  # fmt: skip
COHERENCES = (0.0, 6.4, 12.8, 25.6, 51.2)
SIGMA_STEP = 0.1


def bounds(task: int) -> dict[str, slice]:
    out, start = {}, 0
    for name, steps in PERIODS[task]:
        out[name] = slice(start, start + steps)
        start += steps
    return out


def lookup_accuracy(features: np.ndarray, labels: np.ndarray) -> float:
    """Best accuracy of any function of the (discrete) features: majority label per distinct pattern."""
    _, group = np.unique(features.reshape(len(features), -1), axis=0, return_inverse=True)
    counts = np.zeros((group.max() + 1, labels.max() + 1))
    np.add.at(counts, (group.ravel(), labels), 1)
    return counts.max(axis=1).sum() / len(labels)


def maze_bayes_accuracy(feature) -> float:
    """Exact best accuracy over uniform mazes when only feature(maze) is seen (from the issue's table)."""
    groups: dict = {}
    for goal, moves, answer in MAZES:
        groups.setdefault(feature(goal, moves), []).append(answer)
    return sum(max(answers.count(a) for a in set(answers)) for answers in groups.values()) / len(MAZES)


def tolerance(p: float, n: int) -> float:
    return 4.5 * np.sqrt(max(p * (1 - p), 1e-4) / n) + 1e-9


# ----------------------------------------------------------------------------------------- registry


def run_fresh(script: str, cwd: Path, prelude: str = "") -> subprocess.CompletedProcess:
    """Run ``prelude + script`` in a fresh interpreter from a folder outside the repository (as a user would)."""
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(script)], cwd=cwd, capture_output=True,
                          text=True, timeout=180)


# gymnasium >= 1.0 has no plugin entry points; below it, `import gymnasium` calls ours. This hides our plugin from
# gymnasium < 1.0 in a fresh interpreter, so the "registered on `import connectome_priors`" path is tested there too.
HIDE_PLUGIN = """
import importlib.metadata as md
_entry_points = md.entry_points
def entry_points(**kwargs):
    found = _entry_points(**kwargs)
    if kwargs.get("group") == "gymnasium.envs":
        return md.EntryPoints([ep for ep in found if not ep.value.startswith("connectome_priors.")])
    return found
md.entry_points = entry_points
"""


def test_make_with_the_module_prefix_works_in_a_fresh_interpreter_without_plugins(tmp_path):
    """gymnasium >= 1.0's idiom: gym.make("pkg:ns/Env-v0") imports pkg, whose import registers the ids."""
    result = run_fresh("""
        import sys
        import gymnasium as gym
        assert "connectome_priors" not in sys.modules and not [k for k in gym.registry if k.startswith("cortex/")]
        try:
            gym.make("cortex/Task1-v0")
        except gym.error.Error:
            pass
        else:
            raise AssertionError("cortex/Task1-v0 was registered without plugin and without import")
        env = gym.make("connectome_priors:cortex/Task1-v0")
        assert type(env.unwrapped).__name__ == "OneChoiceInference"
        obs, info = env.reset(seed=0)
        ends = 0
        for _ in range(3 * 50):
            obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
            assert obs in env.observation_space and not terminated and not truncated
            ends += info["new_trial"]
        assert ends >= 3, ends
        heavy = [m for m in ("jax", "brainstate", "brainpy", "neurogym") if m in sys.modules]
        assert not heavy, heavy
        print("OK")
    """, tmp_path, prelude=HIDE_PLUGIN)
    assert result.returncode == 0 and "OK" in result.stdout, result.stderr[-3000:]


def test_import_connectome_priors_registers_the_ids_cheaply(tmp_path):
    """gym.register_envs(connectome_priors) is the explicit idiom; the import builds no environment, loads no jax."""
    result = run_fresh("""
        import sys
        import connectome_priors
        import gymnasium as gym
        gym.register_envs(connectome_priors)
        ids = sorted(k for k in gym.registry if k.startswith("cortex/"))
        assert ids == sorted(connectome_priors.envs.ENV_IDS), ids
        heavy = ("jax", "brainstate", "brainpy", "neurogym", "matplotlib", "connectome_priors.envs._tasks",
                 "connectome_priors.envs._dataset")
        assert not [m for m in heavy if m in sys.modules], [m for m in heavy if m in sys.modules]
        env = gym.make("cortex/Task2-v0")
        assert env.reset(seed=0)[0].shape == (3,)
        print("OK")
    """, tmp_path, prelude=HIDE_PLUGIN)
    assert result.returncode == 0 and "OK" in result.stdout, result.stderr[-3000:]


@pytest.mark.skipif(GYMNASIUM_1, reason="gymnasium >= 1.0 has no plugin entry points")
def test_import_gymnasium_is_light_and_its_plugin_registers_the_ids(tmp_path):
    result = run_fresh("""
        import sys
        import gymnasium as gym
        heavy = ("neurogym", "jax", "matplotlib", "connectome_priors.envs._tasks", "connectome_priors.envs._dataset")
        assert not [m for m in heavy if m in sys.modules], [m for m in heavy if m in sys.modules]
        ids = sorted(k for k in gym.registry if k.startswith("cortex/"))
        assert ids == sorted(["cortex/Task1-v0", "cortex/Task2-v0", "cortex/Task3-v0",
            "cortex/OneChoiceInference-v0", "cortex/PerceptualDecisionMaking-v0", "cortex/GoNoGo-v0"]), ids
        env = gym.make("cortex/Task1-v0")
        obs, info = env.reset(seed=0)
        assert obs.shape == (8,) and type(env.unwrapped).__name__ == "OneChoiceInference"
        print("OK")
    """, tmp_path)
    assert result.returncode == 0 and "OK" in result.stdout, result.stderr[-3000:]


def test_import_without_gymnasium_warns_and_the_data_layer_still_works(tmp_path):
    result = run_fresh("""
        import sys, warnings
        sys.modules["gymnasium"] = None  # as if not installed
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import connectome_priors as cp
        messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
        assert any("cortex/Task1-v0" in m and "not registered" in m for m in messages), messages
        assert "5_3_8" in set(cp.list_fields()["field"])
        assert cp.envs.make_dataset(3, 2, seed=0).inputs.shape == (2, 40, 3)
        print("OK")
    """, tmp_path)
    assert result.returncode == 0 and "OK" in result.stdout, result.stderr[-3000:]


def test_envs_never_import_neurogym(tmp_path):
    """The NeuroGym protocol lives in envs/_trial_env.py; neurogym itself is only the optional extra."""
    for path in sorted((ROOT / "envs").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not [n for n in names if n.split(".")[0] == "neurogym"], f"{path.name}:{node.lineno}"
    result = run_fresh("""
        import sys
        sys.modules["neurogym"] = None  # installed or not, it must not be needed
        import gymnasium as gym
        from gymnasium.utils.env_checker import check_env
        from connectome_priors import envs
        for env_id in envs.ENV_IDS:
            env = gym.make(env_id)
            check_env(env.unwrapped)
            env.reset(seed=0)
            for _ in range(100):
                env.step(env.action_space.sample())
        assert envs.make_dataset(1, 4, seed=0).inputs.shape == (4, 50, 8)
        print("OK")
    """, tmp_path)
    assert result.returncode == 0 and "OK" in result.stdout, result.stderr[-3000:]


def test_import_envs_registers_idempotently_without_neurogym(tmp_path):
    script = textwrap.dedent(
        """
        import sys, warnings
        warnings.simplefilter("always")
        with warnings.catch_warnings(record=True) as caught:
            # before gymnasium: connectome_priors.envs -> gymnasium -> plugin -> connectome_priors.envs._registration
            from connectome_priors import envs
            import gymnasium as gym
            envs.register_envs()
            batch = envs.make_dataset(2, 3, seed=0)
        assert not [w for w in caught if "Overriding" in str(w.message)], [str(w.message) for w in caught]
        assert "neurogym" not in sys.modules and "jax" not in sys.modules
        assert set(envs.ENV_IDS) <= set(gym.registry)
        print("OK")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "OK" in result.stdout, result.stderr[-3000:]


def test_register_envs_outside_plugin_gives_namespaced_ids():
    from gymnasium.envs.registration import registry

    saved = {env_id: registry.pop(env_id) for env_id in envs.ENV_IDS}
    try:
        envs.register_envs()  # no namespace context active: must still produce cortex/...
        assert set(envs.ENV_IDS) <= set(registry)
        for env_id in envs.ENV_IDS:
            assert registry[env_id].namespace == "cortex"
            assert registry[env_id].entry_point == saved[env_id].entry_point
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            envs.register_envs()
        assert not [w for w in caught if "Overriding" in str(w.message)]
    finally:
        registry.update(saved)


@pytest.mark.parametrize("env_id", envs.ENV_IDS)
def test_check_env_passes(env_id):
    env = gym.make(env_id)
    check_env(env.unwrapped)
    obs, _ = env.reset(seed=1)  # through gym.make's own wrappers (PassiveEnvChecker, OrderEnforcing)
    for _ in range(3):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert obs in env.observation_space and not terminated and not truncated


def test_task_names_resolve_to_the_same_task():
    for task, name in [(1, "OneChoiceInference"), (2, "PerceptualDecisionMaking"), (3, "GoNoGo")]:
        reference = envs.make_dataset(task, 5, seed=3)
        for alias in (f"Task{task}", f"task{task}", name, f"cortex/{name}-v0", str(task)):
            assert np.array_equal(envs.make_dataset(alias, 5, seed=3).inputs, reference.inputs)
        assert type(gym.make(f"cortex/Task{task}-v0").unwrapped) is type(gym.make(f"cortex/{name}-v0").unwrapped)


# ----------------------------------------------------------------------------------- trial timeline


@pytest.mark.parametrize("task", [1, 2, 3])
def test_periods_order_and_lengths(task):
    spec = envs.task_spec(task)
    expected = {name: (s.start, s.stop) for name, s in bounds(task).items()}
    assert list(spec["periods"].items()) == list(expected.items())
    T = sum(steps for _, steps in PERIODS[task])
    assert (spec["T"], spec["readout_step"]) == (T, T - 1)
    assert (spec["n_inputs"], spec["n_outputs"]) == (N_INPUTS[task], N_OUTPUTS[task])
    batch = envs.make_dataset(task, 16, seed=0)
    assert batch.inputs.shape == (16, T, N_INPUTS[task]) and batch.inputs.dtype == np.float32
    assert batch.labels.shape == (16,) and batch.labels.dtype == np.int64

    env = gym.make(f"cortex/Task{task}-v0").unwrapped
    env.reset(seed=0)
    assert env.ob.shape == (T, N_INPUTS[task])
    for name, (start, stop) in expected.items():
        assert (env.start_ind[name], env.end_ind[name]) == (start, stop)
    gt = env.gt
    assert np.all(gt[:-1] == 0) and gt[-1] == 1 + env.trial["ground_truth"]
    assert env.action_space.n == 1 + N_OUTPUTS[task]


def test_task1_inputs_and_labels_follow_the_maze_table():
    batch = envs.make_dataset(1, 800, seed=11)
    b = bounds(1)
    assert set(np.unique(batch.info["maze"])) == set(range(8))
    for maze, (goal, moves, answer) in enumerate(MAZES):
        rows = batch.info["maze"] == maze
        goal_vec = np.zeros(8)
        goal_vec[GOAL_CHANNEL[goal]] = 1
        choice_vec = np.zeros(8)
        choice_vec[[4 + MOVES.index(m) for m in moves]] = 1
        x = batch.inputs[rows]
        assert np.all(x[:, b["goal"]] == goal_vec)  # goal channels only in the goal period
        assert np.all(x[:, b["delay"]] == 0)
        assert np.all(x[:, b["choices"]] == choice_vec)  # candidate moves only in the choices period
        assert np.all(batch.labels[rows] == MOVES.index(answer))
        assert np.all(batch.info["goal"][rows] == goal)


def test_task3_inputs_and_labels():
    batch = envs.make_dataset(3, 400, seed=2)
    b = bounds(3)
    x, go = batch.inputs, batch.labels
    assert np.all(x[:, b["fixation"]] == [1, 0, 0]) and np.all(x[:, b["delay"]] == [1, 0, 0])
    assert np.all(x[:, b["decision"]] == 0)
    assert np.all(x[go == 0][:, b["stimulus"]] == [0, 1, 0]) and np.all(x[go == 1][:, b["stimulus"]] == [0, 0, 1])


def test_task2_inputs_signal_and_noise():
    batch = envs.make_dataset(2, 3000, seed=4)
    b = bounds(2)
    x, choice, coh = batch.inputs.astype(np.float64), batch.labels, batch.info["coherence"]
    assert np.all(x[:, :, 0] == 1)  # fixation channel on in every period
    assert np.all(x[:, b["fixation"], 1:] == 0) and np.all(x[:, b["delay"], 1:] == 0)
    assert set(np.unique(coh)) == set(COHERENCES)
    theta = np.array([0, np.pi])
    signal = np.cos(theta[None, :] - theta[choice][:, None]) * coh[:, None] / 200 + 0.5
    residual = x[:, b["stimulus"], 1:] - signal[:, None, :]
    assert abs(residual.mean()) < 1e-3 and abs(residual.std() - SIGMA_STEP) < 1e-3
    assert stats.kstest(residual.ravel()[:20000] / SIGMA_STEP, "norm").pvalue > 1e-3
    # independent across channels and steps
    r = residual.reshape(len(x), -1)
    assert abs(np.corrcoef(r[:, 0], r[:, 1])[0, 1]) < 0.08 and abs(np.corrcoef(r[:, 0], r[:, 2])[0, 1]) < 0.08


# ---------------------------------------------------------------- where the label can be read from


def test_task1_label_is_readable_only_from_goal_and_choices_together():
    batch = envs.make_dataset(1, 4000, seed=5)
    x, y, b, n = batch.inputs, batch.labels, bounds(1), 4000
    cases = {
        "goal": (x[:, b["goal"]], maze_bayes_accuracy(lambda goal, moves: goal)),
        "delay": (x[:, b["delay"]], maze_bayes_accuracy(lambda goal, moves: 0)),
        "choices": (x[:, b["choices"]], maze_bayes_accuracy(lambda goal, moves: frozenset(moves))),
        "goal+choices": (
            np.concatenate([x[:, b["goal"]], x[:, b["choices"]]], axis=1),
            maze_bayes_accuracy(lambda goal, moves: (goal, frozenset(moves))),
        ),
    }
    assert cases["goal+choices"][1] == 1.0 and cases["delay"][1] == 0.25 and cases["goal"][1] == 0.5
    for name, (features, expected) in cases.items():
        assert abs(lookup_accuracy(features, y) - expected) < tolerance(expected, n), name


def test_task3_label_is_readable_only_from_the_stimulus_period():
    batch = envs.make_dataset(3, 2000, seed=6)
    for name, s in bounds(3).items():
        accuracy = lookup_accuracy(batch.inputs[:, s], batch.labels)
        if name == "stimulus":
            assert accuracy == 1.0
        else:
            assert abs(accuracy - 0.5) < tolerance(0.5, 2000), name


def test_task2_label_is_readable_only_from_the_stimulus_period():
    batch = envs.make_dataset(2, 2000, seed=7)
    b = bounds(2)
    for name in ("fixation", "delay"):  # identical in every trial: carries no information
        assert np.all(batch.inputs[:, b[name]] == batch.inputs[0, b[name]])
    evidence = batch.inputs[:, b["stimulus"], 1] - batch.inputs[:, b["stimulus"], 2]
    assert np.mean((evidence.sum(1) < 0) == batch.labels) > 0.8


@pytest.mark.parametrize("task", [1, 2, 3])
def test_no_memory_ceiling(task):
    """A solver that sees only the last step's input, fitted on one seed and scored on another."""
    expected = {1: maze_bayes_accuracy(lambda goal, moves: frozenset(moves)), 2: 0.5, 3: 0.5}[task]
    if task == 1:
        assert expected == 0.625
    train, test = envs.make_dataset(task, 5120, seed=100), envs.make_dataset(task, 5120, seed=101)
    last_train, last_test = train.inputs[:, -1], test.inputs[:, -1]
    patterns, group = np.unique(last_train, axis=0, return_inverse=True)
    counts = np.zeros((len(patterns), N_OUTPUTS[task]))
    np.add.at(counts, (group.ravel(), train.labels), 1)
    table = {tuple(p): int(np.argmax(c)) for p, c in zip(patterns, counts)}
    predictions = np.array([table.get(tuple(row), 0) for row in last_test])
    accuracy = np.mean(predictions == test.labels)
    assert abs(accuracy - expected) < tolerance(expected, 5120)
    assert abs(lookup_accuracy(last_test, test.labels) - expected) < tolerance(expected, 5120)


def test_pdm_ideal_observer_matches_the_analytic_accuracy_per_coherence():
    """D = sum over stimulus steps of (evidence_0 - evidence_1) ~ N(+-n coh/100, 2 n sigma^2): the ideal
    observer answers 0 when D > 0, accuracy Phi(n coh / 100 / (sigma sqrt(2 n)))."""
    n_trials = 10000
    batch = envs.make_dataset(2, n_trials, seed=8)
    stim = bounds(2)["stimulus"]
    n_steps = stim.stop - stim.start
    decision_variable = (batch.inputs[:, stim, 1].astype(np.float64) - batch.inputs[:, stim, 2]).sum(1)
    correct = (decision_variable < 0).astype(int) == batch.labels
    accuracies = []
    for coh in COHERENCES:
        rows = batch.info["coherence"] == coh
        predicted = stats.norm.cdf(n_steps * coh / 100 / (SIGMA_STEP * np.sqrt(2 * n_steps)))
        observed = correct[rows].mean()
        assert abs(observed - predicted) < tolerance(predicted, rows.sum()), coh
        accuracies.append(predicted)
    assert 0.88 < np.mean(accuracies) < 0.92  # the "ceiling ~0.9"
    assert abs(correct.mean() - np.mean(accuracies)) < tolerance(0.9, n_trials)


# --------------------------------------------------------------------------------------- seeding


@pytest.mark.parametrize("task", [1, 2, 3])
def test_seed_reproducibility(task):
    a = envs.make_dataset(task, 300, seed=42)
    b = envs.make_dataset(task, 300, seed=42)
    assert np.array_equal(a.inputs, b.inputs) and np.array_equal(a.labels, b.labels)
    assert all(np.array_equal(a.info[k], b.info[k]) for k in a.info)
    # trial i does not depend on the batch size or where the batch starts
    short = envs.make_dataset(task, 50, seed=42)
    assert np.array_equal(short.inputs, a.inputs[:50])
    tail = envs.make_dataset(task, 100, seed=42, first_trial=200)
    assert np.array_equal(tail.inputs, a.inputs[200:]) and np.array_equal(tail.info["trial_index"], np.arange(200, 300))
    other = envs.make_dataset(task, 300, seed=43)
    assert 0.2 < np.mean(other.labels != a.labels)  # independent labels differ often
    if task == 2:
        assert not np.any(np.all(other.inputs == a.inputs, axis=(1, 2)))


def test_counter_rng_is_uniform_and_independent_of_batch_size():
    keys = trial_keys(0, np.arange(20000))
    assert len(np.unique(keys)) == 20000
    u = uniforms(keys, 0, 4)
    assert stats.kstest(u.ravel(), "uniform").pvalue > 1e-3
    assert abs(np.corrcoef(u[:, 0], u[:, 1])[0, 1]) < 0.03 and abs(np.corrcoef(u[:-1, 0], u[1:, 0])[0, 1]) < 0.03
    z = normals(keys[:5000], 16, 8)
    assert stats.kstest(z.ravel(), "norm").pvalue > 1e-3
    assert np.array_equal(uniforms(keys[7:9], 0, 4), u[7:9])
    with pytest.raises(ValueError, match="seed"):
        trial_keys(-1, np.arange(2))


@pytest.mark.parametrize("task", [1, 2, 3])
def test_env_trials_are_the_dataset_trials(task):
    env = gym.make(f"cortex/Task{task}-v0").unwrapped
    obs, _ = env.reset(seed=9)
    T = env.ob.shape[0]
    trials = envs.make_dataset(task, 4, seed=9)
    # the stream of observations returned by reset and step: trial 0 from step 1 (NeuroGym's reset
    # takes one step), then trials 1, 2, 3 in full
    stream = [obs]
    for _ in range(T - 1 + 3 * T - 1):
        stream.append(env.step(0)[0])
    expected = np.concatenate([trials.inputs[0, 1:], trials.inputs[1:].reshape(-1, trials.inputs.shape[2])])
    assert np.array_equal(np.stack(stream), expected)
    assert env.trial["ground_truth"] == trials.labels[3] and env.trial["trial_index"] == 3


@pytest.mark.parametrize("task", [1, 2, 3])
def test_env_distribution_matches_dataset(task):
    """Env trials (one seed) and a dataset (another seed): same label / condition frequencies, same
    mean input per period (two-sample chi-square and KS tests at fixed seeds)."""
    n = 1500
    env = envs.OneChoiceInference() if task == 1 else envs.PerceptualDecisionMaking() if task == 2 else envs.GoNoGo()
    env.reset(seed=123)
    env_inputs, env_labels, env_conditions = [env.ob.copy()], [env.trial["ground_truth"]], [env.trial]
    for _ in range(n - 1):
        trial = env.new_trial()
        env_inputs.append(env.ob.copy())
        env_labels.append(trial["ground_truth"])
        env_conditions.append(trial)
    env_inputs, env_labels = np.stack(env_inputs), np.array(env_labels)
    data = envs.make_dataset(task, n, seed=321)
    assert env_inputs.dtype == data.inputs.dtype and env_inputs.shape == data.inputs.shape

    def frequencies_agree(a, b, k):
        table = np.stack([np.bincount(a, minlength=k), np.bincount(b, minlength=k)])
        return stats.chi2_contingency(table).pvalue > 1e-3

    assert frequencies_agree(env_labels, data.labels, N_OUTPUTS[task])
    assert stats.chisquare(np.bincount(data.labels)).pvalue > 1e-3  # uniform labels
    if task == 1:
        assert frequencies_agree(np.array([t["maze"] for t in env_conditions]), data.info["maze"], 8)
    if task == 2:
        index = {c: i for i, c in enumerate(COHERENCES)}
        env_coh = np.array([index[t["coherence"]] for t in env_conditions])
        assert frequencies_agree(env_coh, np.array([index[c] for c in data.info["coherence"]]), 5)
    for name, s in bounds(task).items():
        env_mean, data_mean = env_inputs[:, s].mean(axis=1), data.inputs[:, s].mean(axis=1)  # [n, C]
        for channel in range(env_mean.shape[1]):
            a, b = env_mean[:, channel], data_mean[:, channel]
            if np.ptp(a) == 0 and np.ptp(b) == 0:
                assert a[0] == b[0], (name, channel)  # deterministic parts are exactly equal
            else:
                assert stats.ks_2samp(a, b).pvalue > 1e-3, (name, channel)


def test_reset_seed_reseeds_the_task_rng():
    env = gym.make("cortex/Task2-v0").unwrapped
    env.reset(seed=5)
    first_trial, first_ob, rng_state = dict(env.trial), env.ob.copy(), env.rng.get_state()[1].copy()
    for _ in range(200):
        env.step(env.action_space.sample())
    env.rng.randn(10)
    env.reset(seed=5)
    assert env.trial == first_trial and np.array_equal(env.ob, first_ob)
    assert np.array_equal(env.rng.get_state()[1], rng_state)
    env.reset(seed=6)
    assert not np.array_equal(env.ob, first_ob)
    index = env.trial["trial_index"]
    env.reset()  # no seed: the stream continues
    assert env.trial["trial_index"] == index + 1


# --------------------------------------------------------------------------------------- rewards


@pytest.mark.parametrize("task", [1, 2, 3])
def test_reward_only_for_the_correct_action_in_the_decision_window(task):
    env = gym.make(f"cortex/Task{task}-v0").unwrapped
    T = envs.task_spec(task)["T"]
    n_trials = 6
    for policy in ("correct", "wrong", "fixate"):
        env.reset(seed=1)
        rewards, times, ends = [], [], []
        while len(ends) < n_trials:
            t, label = env.t_ind, env.trial["ground_truth"]
            action = {"correct": 1 + label, "wrong": 1 + (label + 1) % N_OUTPUTS[task], "fixate": 0}[policy]
            _, reward, terminated, truncated, info = env.step(action)  # answers at every step
            assert not terminated and not truncated
            rewards.append(reward)
            times.append(t)
            if info["new_trial"]:
                ends.append(t)
                assert info["performance"] == (policy == "correct")
        rewards, times = np.array(rewards), np.array(times)
        assert np.all(np.array(ends) == T - 1)  # a trial runs its full length
        assert np.all(rewards[times != T - 1] == 0)
        assert np.all(rewards[times == T - 1] == (1.0 if policy == "correct" else 0.0))


def test_wider_response_window_ends_the_trial_at_the_first_response():
    env = envs.GoNoGo(response_window=5, rewards={"fail": -1.0})
    env.reset(seed=0)
    spec = envs.task_spec(3)
    assert np.all(env.gt[spec["periods"]["decision"][0] :] == 1 + env.trial["ground_truth"])
    while env.t_ind < 36:
        env.step(0)
    label = env.trial["ground_truth"]
    _, reward, _, _, info = env.step(1 + (1 - label))  # wrong answer at step 36 of the window
    assert reward == -1.0 and info["new_trial"] and env.t_ind == 0


# ------------------------------------------------------------------------------- trial conditions


def test_conditions_can_be_set_per_trial():
    env = envs.PerceptualDecisionMaking()
    env.reset(seed=0)
    trial = env.new_trial(coherence=51.2, ground_truth=1)
    assert trial["coherence"] == 51.2 and trial["ground_truth"] == 1 and env.gt[-1] == 2
    env1 = envs.OneChoiceInference()
    env1.reset(seed=0)
    assert all(env1.new_trial(ground_truth=k)["ground_truth"] == k for k in (0, 1, 2, 3, 3))
    assert env1.new_trial(maze=4)["goal"] == 17


# ------------------------------------------------------------------------------- errors and speed


def test_clear_errors():
    with pytest.raises(ValueError, match="unknown task 'Task4'"):
        envs.make_dataset("Task4", 2, seed=0)
    with pytest.raises(ValueError, match="not a non-negative multiple of dt"):
        envs.make_dataset(1, 2, seed=0, timing={"delay": 150})
    with pytest.raises(ValueError, match=r"unknown period\(s\) \['stimulus'\]"):
        envs.task_spec(1, timing={"stimulus": 100})
    with pytest.raises(TypeError, match="coherences"):
        envs.make_dataset(3, 2, seed=0, coherences=(0, 1))
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        envs.make_dataset(1, 2, seed=-3)
    with pytest.raises(ValueError, match="response_window"):
        envs.GoNoGo(response_window=41)
    with pytest.raises(ValueError, match="ground_truth"):
        envs.GoNoGo().new_trial(ground_truth=2)


def test_timing_and_dt_are_respected():
    spec = envs.task_spec(1, dt=50, timing={"delay": 2000})
    assert spec["periods"] == {"goal": (0, 40), "delay": (40, 80), "choices": (80, 120)}
    batch = envs.make_dataset(2, 2000, seed=0, dt=25, coherences=(51.2,))
    stim = slice(4, 124)  # fixation 100 ms = 4 steps, stimulus 3000 ms = 120 steps
    residual = batch.inputs[:, stim, 1] - (0.5 + np.where(batch.labels == 0, 1, -1) * 51.2 / 200)[:, None]
    assert abs(residual.std() - 1.0 / np.sqrt(25)) < 0.005  # NeuroGym noise scaling sigma / sqrt(dt)


def test_make_dataset_is_fast():
    best = np.inf
    for _ in range(2):
        start = time.perf_counter()
        for task in (1, 2, 3):
            envs.make_dataset(task, 5120, seed=0)
        best = min(best, time.perf_counter() - start)
    assert best < 0.5, f"5,120 trials of all three tasks took {best:.2f} s"


@pytest.mark.parametrize("dt, timing", [
    (0.1, {"fixation": 0.3, "stimulus": 0.7, "delay": 0.7, "decision": 0.1}),  # float clock rounding
    (100, None),
])
def test_env_trials_last_exactly_n_steps_whatever_dt(dt, timing):
    env = envs.GoNoGo(dt=dt, timing=timing)
    env.reset(seed=0)
    lengths, n = [], 0
    for _ in range(5 * env.definition.n_steps):
        *_, info = env.step(0)
        n += 1
        if info["new_trial"]:
            lengths.append(n)
            n = 0
    # the first trial lost one step to NeuroGym's reset; every later one has all its steps
    assert set(lengths[1:]) == {env.definition.n_steps}


@pytest.mark.parametrize("action", [99, -1, None, "a", 1.5])
def test_actions_outside_the_action_space_are_refused_not_scored(action):
    env = gym.make("cortex/Task3-v0")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=rf"action {re.escape(repr(action))} is not in the action space"):
        env.unwrapped.step(action)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"rewards": {"correct": float("nan")}}, r"rewards\['correct'\] must be a finite number, got nan"),
    ({"rewards": {"fail": "x"}}, r"rewards\['fail'\] must be a finite number"),
    ({"timing": {"fixation": float("nan")}}, r"timing\['fixation'\] must be a finite duration in ms, got nan"),
])
def test_non_finite_rewards_and_timings_are_refused(kwargs, message):
    from connectome_priors.envs import GoNoGo

    with pytest.raises(ValueError, match=message):
        GoNoGo(**kwargs)


# ------------------------------------------------------------------ bit-identical trials (pinned digests)

# sha256 (first 16 hex digits) of make_dataset(task, 256, seed=0) and of a scripted env stream, recorded with the
# neurogym-based environments before the base class of envs/_trial_env.py replaced neurogym.core.TrialEnv
PINNED = {1: ("09d0638dbf17caf7", "121662693db709fb"),
          2: ("847992f68c780715", "a334272dfc1f50d3"),
          3: ("d9fed6515de3a0ea", "ac32451badf2a87c")}


def batch_digest(batch: envs.TrialBatch) -> str:
    digest = hashlib.sha256()
    for array in (batch.inputs, batch.labels, *(batch.info[k] for k in sorted(batch.info))):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def stream_digest(env: BaseTrialEnv, n_steps: int = 600) -> str:
    """Observations, rewards and info of a scripted policy that answers, right or wrong, at every third step."""
    digest = hashlib.sha256()
    ob, _ = env.reset(seed=2024)
    digest.update(ob.tobytes())
    for i in range(n_steps):
        action = (i * 7 + 3) % env.action_space.n if i % 3 == 0 else 0
        ob, reward, _, _, info = env.step(action)
        digest.update(ob.tobytes())
        fields = [reward, info["new_trial"], info["gt"], info.get("performance", -1)]
        digest.update(np.array(fields, dtype=np.float64).tobytes())
    return digest.hexdigest()[:16]


@pytest.mark.parametrize("task", [1, 2, 3])
def test_trial_batches_and_env_streams_are_bit_identical_to_the_pinned_ones(task):
    batch_pin, stream_pin = PINNED[task]
    assert batch_digest(envs.make_dataset(task, 256, seed=0)) == batch_pin
    env = gym.make(f"cortex/Task{task}-v0", response_window=3).unwrapped
    assert stream_digest(env) == stream_pin
    assert stream_digest(env) == stream_pin  # reset(seed) restarts everything


# ------------------------------------------------------------------- the base class: NeuroGym's protocol


class Blink(BaseTrialEnv):
    """Fixation 300 ms, then a cue 200 ms during which the answer 1 + side is expected."""

    observation_space = NamedBox(0.0, 1.0, shape=(2,), dtype=np.float32, name={"fixation": 0, "cue": 1})
    action_space = NamedDiscrete(3, name={"fixation": 0, "choice": [1, 2]})

    def __init__(self, dt: float = 100, r_tmax: float = 0.0) -> None:
        super().__init__(dt=dt, r_tmax=r_tmax)
        self.timing = {"fixation": 300, "cue": 200}

    def _new_trial(self, **conditions):
        side = conditions.get("side", 0)
        self.add_period(["fixation", "cue"])  # durations from self.timing
        self.add_ob(1.0, period="fixation", where="fixation")
        self.set_ob(0.5, period="cue", where=[1])
        self.set_groundtruth(0)
        self.set_groundtruth(side, period="cue", where="choice")  # action_space.name["choice"][side]
        return {"ground_truth": side, **conditions}

    def _step(self, action):
        info, reward = {}, 0.0
        if self.in_period("cue") and action != 0:
            info["new_trial"] = True
            reward = 1.0 if action == self.gt_now else -1.0
            self.performance = int(action == self.gt_now)
        return self.ob_now, reward, False, False, info


def test_base_trial_env_lays_out_periods_ob_and_gt():
    env = Blink()
    trial = env.new_trial(side=1)
    assert trial == {"ground_truth": 1, "side": 1} and env.trial is trial and env.num_tr == 1
    assert (env.start_t, env.end_t) == ({"fixation": 0, "cue": 300}, {"fixation": 300, "cue": 500})
    assert (env.start_ind, env.end_ind) == ({"fixation": 0, "cue": 3}, {"fixation": 3, "cue": 5})
    assert env.tmax == 500 and env.ob.dtype == np.float32 and env.gt.dtype == np.int64
    assert env.ob.tolist() == [[1, 0], [1, 0], [1, 0], [0, 0.5], [0, 0.5]]
    assert env.gt.tolist() == [0, 0, 0, 2, 2] and env.view_groundtruth("cue").tolist() == [2, 2]
    env.view_ob("cue")[:] = 0.25  # a view: writes go to the trial
    assert env.ob[3:].tolist() == [[0.25, 0.25]] * 2
    assert env.in_period("fixation", t=200) and not env.in_period("fixation", t=300) and env.in_period("cue", t=300)
    with pytest.raises(RuntimeError, match="before add_ob"):
        env.add_period("probe", duration=100, after="cue")


def test_base_trial_env_steps_trials_back_to_back():
    env = Blink(r_tmax=-0.5)
    ob, info = env.reset(seed=0)
    assert info == {} and env.t_ind == 1 and env.t == 100 and env.num_tr == 1
    assert np.array_equal(ob, env.ob[1])  # reset took one step (action 0)
    # no answer: the trial runs its 5 steps, then r_tmax, performance 0, the next trial's first observation
    steps = [env.step(0) for _ in range(4)]
    assert [s[4]["new_trial"] for s in steps] == [False, False, False, True]
    assert [int(s[4]["gt"]) for s in steps] == [0, 0, 1, 1]  # side 0: answer 1 during the cue
    assert [s[1] for s in steps] == [0.0, 0.0, 0.0, -0.5]
    last = steps[-1][4]
    assert last["performance"] == 0 and last["trial"] is env.trial and env.num_tr == 2 and env.t_ind == 0
    assert np.array_equal(steps[-1][0], env.ob[0])
    # an answer in the cue ends the trial at once, with the task's reward and no r_tmax
    env.new_trial(side=1)
    for expected_gt in (0, 0, 0):
        *_, info = env.step(0)
        assert info["gt"] == expected_gt and not info["new_trial"]
    ob, reward, terminated, truncated, info = env.step(2)
    assert (reward, info["new_trial"], info["gt"], info["performance"]) == (1.0, True, 2, 1)
    assert not terminated and not truncated and env.t_ind == 0 and env.performance == 0


def test_base_trial_env_reset_options_and_the_top_wrapper():
    env = Blink()
    calls = []

    def step_fn(action):
        calls.append(action)
        return env.step(action)

    env.reset(options={"step_fn": step_fn})
    assert calls == [Blink.reset_action] and env.t_ind == 1
    ob, _ = env.reset(options={"no_step": True})
    assert ob in env.observation_space and env.t_ind == 0 and env.num_tr == 1

    class Top:  # what NeuroGym's trial wrappers do: they start the trials, with conditions of their own
        def new_trial(self, **conditions):
            return env.new_trial(side=1, **conditions)

        def step(self, action):
            return env.step(action)

    env.set_top(Top())
    env.reset()
    assert env.trial["side"] == 1
    for _ in range(4):
        *_, info = env.step(0)
    assert info["new_trial"] and info["trial"]["side"] == 1 and env.gt[-1] == 2


def test_base_trial_env_refuses_bad_layouts():
    env = Blink()
    with pytest.raises(ValueError, match="not a non-negative multiple of dt"):
        env.add_period("cue", duration=150)
    with pytest.raises(ValueError, match="needs a fixed duration"):
        env.add_period("unknown")
    with pytest.raises(ValueError, match="2 durations for 3 periods"):
        env.add_period(["a", "b", "c"], duration=[100, 100])
    env.add_period("late", duration=200, after=400)
    assert (env.start_ind["late"], env.end_ind["late"], env.tmax) == (4, 6, 600)
    with pytest.raises(ValueError, match="dt must be a positive number"):
        Blink(dt=0)
    with pytest.raises(TypeError, match="name must be a dict"):
        NamedBox(0, 1, shape=(2,), name=["a", "b"])
    with pytest.raises(TypeError, match="name must be a dict"):
        NamedDiscrete(2, name="fixation")

    class NoTrials(BaseTrialEnv):
        observation_space, action_space = Blink.observation_space, Blink.action_space

    with pytest.raises(NotImplementedError, match="_new_trial"):
        NoTrials().reset()


def test_task_envs_follow_the_protocol_step_by_step():
    env = gym.make("cortex/Task3-v0").unwrapped
    ob, _ = env.reset(seed=4)
    assert isinstance(env, BaseTrialEnv) and isinstance(env.observation_space, NamedBox)
    assert env.observation_space.name == {"fixation": 0, "nogo": 1, "go": 2}
    assert env.action_space.name == {"fixation": 0, "choice": [1, 2]}
    assert env.timing == {"fixation": 500, "stimulus": 2000, "delay": 1000, "decision": 500} and env.dt == 100
    trials = envs.make_dataset(3, 3, seed=4)
    for k in range(3):
        assert env.trial["trial_index"] == k and np.array_equal(env.ob, trials.inputs[k])
        start = env.t_ind
        for t in range(start, 40):
            assert env.t == t * env.dt
            gt = env.gt[t]
            ob, reward, _, _, info = env.step(gt)  # the correct action at every step
            assert info["gt"] == gt and info["new_trial"] == (t == 39)
        assert reward == 1.0 and info["performance"] == 1 and info["trial"]["trial_index"] == k + 1
        assert env.num_tr == k + 2
