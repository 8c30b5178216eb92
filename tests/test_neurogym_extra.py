"""The ``[neurogym]`` extra: NeuroGym's Dataset, wrappers, Monitor and plots on the cortex tasks.

The tasks implement NeuroGym's trial protocol themselves (``envs/_trial_env.py``); these tests show that neurogym's
own tools accept them. Skipped where neurogym is not installed (``pip install "connectome-priors[neurogym]"``).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import gymnasium as gym
import numpy as np
import pytest

from connectome_priors import envs

ngym = pytest.importorskip("neurogym")

GYMNASIUM_1 = int(gym.__version__.split(".")[0]) >= 1


def test_dataset_batches_are_the_tasks_trials_back_to_back():
    env = envs.OneChoiceInference()
    T = envs.task_spec(1)["T"]
    dataset = ngym.Dataset(env, batch_size=4, seq_len=2 * T)
    inputs, targets = dataset()
    assert inputs.shape == (2 * T, 4, 8) and inputs.dtype == np.float32
    assert targets.shape == (2 * T, 4) and targets.dtype == np.int64
    for column, copy in enumerate(dataset.envs):
        # Dataset reseeds every copy (fresh entropy) before it draws: its trials are the seeded stream's first ones
        trials = envs.make_dataset(1, 2, seed=copy._trial_seed)
        assert np.array_equal(inputs[:, column], trials.inputs.reshape(2 * T, 8))
        expected_targets = np.zeros((2, T), dtype=np.int64)
        expected_targets[:, -1] = 1 + trials.labels  # fixate (0) until the readout step, then 1 + label
        assert np.array_equal(targets[:, column], expected_targets.ravel())
    assert len({copy._trial_seed for copy in dataset.envs}) == 4  # four independent streams


@pytest.mark.skipif(GYMNASIUM_1, reason="neurogym 2.2's Dataset(id) reaches new_trial through the wrappers of "
                    "gym.make, whose attribute forwarding gymnasium 1.0 removed; pass an environment there")
def test_dataset_by_gymnasium_id_in_a_fresh_interpreter(tmp_path):
    script = textwrap.dedent(
        """
        import neurogym
        dataset = neurogym.Dataset("connectome_priors:cortex/Task3-v0", batch_size=8, seq_len=40)
        inputs, targets = dataset()
        assert inputs.shape == (40, 8, 3) and targets.shape == (40, 8), (inputs.shape, targets.shape)
        assert (targets[:-1] == 0).all() and set(targets[-1].tolist()) <= {1, 2}
        print("OK")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "OK" in result.stdout, result.stderr[-3000:]


def test_pass_action_and_pass_reward_append_the_previous_action_and_reward():
    from neurogym.wrappers import PassAction, PassReward

    env = PassReward(PassAction(envs.GoNoGo()))
    obs, _ = env.reset(seed=0)
    assert obs.shape == (5,) and obs[3] == envs.GoNoGo.reset_action  # reset's step went through the wrappers
    task = env.unwrapped
    rewards = []
    for _ in range(3 * 40):
        action = 1 + task.trial["ground_truth"] if task.t_ind == 39 else 0
        obs, reward, terminated, truncated, info = env.step(action)
        assert obs.shape == (5,)
        assert obs[3] == action and obs[4] == reward and not terminated and not truncated
        assert np.array_equal(obs[:3], task.ob[task.t_ind])
        rewards.append(reward)
    assert rewards.count(1.0) == 3 and sum(rewards) == 3.0  # one correct answer per trial, nothing else


def test_monitor_records_trials_and_saves_data_and_figures(tmp_path, monkeypatch):
    from neurogym.config.config import Config
    from neurogym.wrappers import Monitor

    monkeypatch.chdir(tmp_path)
    config = Config.model_validate({
        "env": {"name": "GoNoGo"},
        "monitor": {"name": "Monitor", "trigger": "trial", "interval": 4, "verbose": False,
                    "plot": {"create": True, "step": 60, "title": "GoNoGo", "ext": "png"}},
        "local_dir": tmp_path,
    })
    env = Monitor(envs.GoNoGo(), config=config)
    env.reset(seed=1)
    ends = 0
    for _ in range(10 * 40):
        *_, info = env.step(2)  # always "Go": right on Go trials, wrong on NoGo trials
        ends += info["new_trial"]
    assert ends == 10 and env.num_tr == 10
    saved = sorted(env.save_dir.glob("trial_*.npz"))
    assert [p.name for p in saved] == ["trial_4.npz", "trial_8.npz"]
    data = np.load(saved[0], allow_pickle=True)
    assert list(data["performance"]) == [int(gt == 2) for gt in data["gt"]]  # gt of the readout step: 1 + label
    assert np.array_equal(data["reward"], data["performance"].astype(float))
    assert list(env.save_dir.glob("task_*.png"))  # Monitor's own trial figures (neurogym.utils.plotting)
    evaluation = env.evaluate_policy(num_trials=20, verbose=False)
    assert len(evaluation["performances"]) == 20 and 0.0 <= evaluation["mean_performance"] <= 1.0


@pytest.mark.parametrize("env_id", ["cortex/Task1-v0", "cortex/Task2-v0"])
def test_plot_env_draws_the_tasks(env_id, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from neurogym.utils import plotting

    if not hasattr(plotting, "DummyVecEnv"):
        # neurogym 2.2's run_env names stable-baselines3's DummyVecEnv, imported only when sb3 is installed: without
        # it plot_env raises NameError on every environment, neurogym's own included. Stand in for the missing name.
        monkeypatch.setattr(plotting, "DummyVecEnv", type("NoVecEnv", (), {}), raising=False)
    for env in (gym.make(env_id).unwrapped, env_id):  # an environment, and an id that plot_env makes itself
        fname = tmp_path / f"{env_id.replace('/', '_')}_{type(env).__name__}.png"
        # plot_env logs and swallows some errors under pytest: a returned figure and a file mean it really drew
        figure = plotting.plot_env(env, num_trials=2, def_act=0, fname=str(fname))
        assert figure is not None and fname.stat().st_size > 10_000
        assert len(figure.axes) >= 3  # observations, actions with ground truth, rewards (and performance)
        matplotlib.pyplot.close(figure)


def test_visualize_run_draws_a_recorded_run(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from neurogym.utils.plotting import visualize_run

    env = envs.GoNoGo()
    initial_ob, _ = env.reset(seed=0)
    obs, actions, gts, rewards, performance = [], [], [], [], []
    for _ in range(2 * 40):
        action = 1 + env.trial["ground_truth"] if env.t_ind == 39 else 0
        ob, reward, _, _, info = env.step(action)
        obs.append(ob)
        actions.append(action)
        gts.append(info["gt"])
        rewards.append(reward)
        performance.append(info.get("performance", -1))
    fname = tmp_path / "run.png"
    figure = visualize_run(obs, actions, gt=gts, rewards=rewards, performance=performance, env=env,
                           initial_ob=initial_ob, fname=str(fname), name="GoNoGo")
    assert figure is not None and fname.stat().st_size > 10_000
    assert sum(rewards) == 2.0 and performance.count(1) == 2


def test_trial_wrappers_work_on_a_task_that_also_derives_from_neurogym_trial_env():
    from neurogym.wrappers import SideBias

    class BiasedPerceptualDecisionMaking(envs.PerceptualDecisionMaking, ngym.core.TrialEnv):
        """The task, also a neurogym.TrialEnv for the isinstance check of NeuroGym's trial wrappers."""

    with pytest.raises(TypeError, match="TrialEnv"):  # our base class alone is not a neurogym.TrialEnv
        SideBias(envs.PerceptualDecisionMaking(), probs=[[0.95, 0.05]], block_dur=1000)
    biased = SideBias(BiasedPerceptualDecisionMaking(), probs=[[0.95, 0.05]], block_dur=1000)
    biased.reset(seed=0)
    labels = [biased.new_trial()["ground_truth"] for _ in range(400)]
    assert np.mean(labels) < 0.15
    # trials started by step() go through the wrapper too (set_top), and keep the task's protocol
    task = biased.unwrapped
    trials = []
    for _ in range(41 * 200):
        *_, info = biased.step(0)
        if info["new_trial"]:
            trials.append(info["trial"])
    assert len(trials) == 200 and all("probs" in trial for trial in trials)
    assert np.mean([trial["ground_truth"] for trial in trials]) < 0.15
    assert task.ob.shape == (41, 3) and task.gt[-1] == 1 + task.trial["ground_truth"]
