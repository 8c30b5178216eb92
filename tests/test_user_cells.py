"""MICrONSInit in the user's own cells: gated (brainpy GRU/LSTM) and concatenated (brainstate GRU/LSTM/
ValinaRNN) recurrent matrices, the public neuron selection and the priors of the same neurons, N beyond
the field, a user Dale mask, and a brainstate GRU trained on Go/NoGo with the library trainer.

Every number is checked against an independent computation: ``functional_weights`` of the sub-field,
the seed formula written out with ``numpy.random.SeedSequence``, the nearest-centroid rule recomputed
from the soma positions, ``scipy`` distances."""

from __future__ import annotations

import brainpy as bp
import brainstate
import numpy as np
import pytest
import scipy.linalg
from scipy.spatial.distance import pdist, squareform

import connectome_priors as cp
from connectome_priors import MICrONSInit, functional_weights, surrogate_field
from connectome_priors.priors import nearest_centroid_subset, select_neurons

N = 32
SEED_HIGH = 2**31 - 1


def gate_seed(seed: int, gate: int, gates: int) -> int:
    """The documented rule, written out independently of the package."""
    if gates == 1:
        return seed
    return int(np.random.SeedSequence(seed, spawn_key=(gates, gate)).generate_state(1)[0]) % SEED_HIGH


def input_seed(seed: int, gates: int) -> int:
    return int(np.random.SeedSequence(seed, spawn_key=(0, gates)).generate_state(1)[0]) % SEED_HIGH


@pytest.fixture(scope="module")
def field():
    return cp.load_field("5_3_8")  # the embedded field (42 neurons)


@pytest.fixture(scope="module")
def sub(field):
    return nearest_centroid_subset(field, N)


def _blocks(w: np.ndarray, n: int) -> list[np.ndarray]:
    return [w[:, g * n:(g + 1) * n] for g in range(w.shape[1] // n)]


def _weights(linear) -> np.ndarray:
    return np.asarray(linear.weight.value["weight"])


# ------------------------------------------------------------------------------------------ gated (brainpy)


@pytest.mark.parametrize("cell,gates", [(bp.dyn.GRUCell, 3), (bp.dyn.LSTMCell, 4)])
def test_brainpy_gated_cells_get_one_block_per_gate(field, sub, cell, gates):
    init = MICrONSInit(field, n_neurons=N, seed=5)
    c = cell(3, N, Wh_initializer=init)
    wh = np.asarray(c.Wh)
    assert wh.shape == (N, gates * N) and np.asarray(c.Wi).shape == (3, gates * N)  # Wi: brainpy's own
    blocks = _blocks(wh, N)
    for g, block in enumerate(blocks):
        np.testing.assert_allclose(block, functional_weights(sub, seed=gate_seed(5, g, gates)), rtol=1e-6)
        assert abs(np.max(np.abs(np.linalg.eigvals(block))) - 0.95) < 1e-4
    assert not np.allclose(blocks[0], blocks[1])  # independent draws, same prior
    md = init.metadata
    assert (md["layout"], md["gates"], md["concatenated"], md["n_inputs"], md["shape"]) == (
        "gated", gates, False, 0, [N, gates * N])
    assert md["gate_seeds"] == [gate_seed(5, g, gates) for g in range(gates)]
    assert [MICrONSInit.gate_seed(5, g, gates) for g in range(gates)] == md["gate_seeds"]
    # reproducible: the same seed gives the same matrix
    np.testing.assert_array_equal(np.asarray(init((N, gates * N))), wh)


def test_square_matrix_is_unchanged_by_the_gate_rule(field, sub):
    w = np.asarray(MICrONSInit(field, n_neurons=N, seed=9)((N, N)))
    np.testing.assert_allclose(w, functional_weights(sub, seed=9), rtol=1e-6)
    assert MICrONSInit.gate_seed(9) == 9


def test_unseeded_gated_init_inside_brainpy_is_reproducible(field):
    """brainpy builds Wh inside a jit (the seed is a tracer): every block is still the init of a concrete seed."""
    brainstate.random.seed(11)
    a = np.asarray(bp.dyn.GRUCell(3, 42, Wh_initializer=(init := MICrONSInit(field))).Wh)
    brainstate.random.seed(11)
    b = np.asarray(bp.dyn.GRUCell(3, 42, Wh_initializer=MICrONSInit(field)).Wh)
    np.testing.assert_array_equal(a, b)
    seed = init.metadata["last_seed"]
    for g, block in enumerate(_blocks(a, 42)):
        np.testing.assert_allclose(block, functional_weights(field, seed=gate_seed(seed, g, 3)), rtol=1e-5)


# ------------------------------------------------------------------------------------ concatenated (brainstate)


def test_brainstate_cells_fill_hidden_rows_with_blocks_and_input_rows_with_xavier(sub):
    init = MICrONSInit(sub, seed=2)  # a Dataset of 32 neurons: N = 32 from the field
    n_in = 3
    gru = brainstate.nn.GRUCell(n_in, N, w_init=init)
    lstm = brainstate.nn.LSTMCell(n_in, N, w_init=init)
    vanilla = brainstate.nn.ValinaRNNCell(n_in, N, w_init=init)
    assert init.metadata["layout"] == "concatenated" and init.metadata["n_inputs"] == n_in
    cases = [(_weights(gru.Wrz), 2), (_weights(gru.Wh), 1), (_weights(lstm.W), 4), (_weights(vanilla.W), 1)]
    for w, gates in cases:
        assert w.shape == (n_in + N, gates * N)
        # brainstate multiplies concatenate([x, h]): the LAST N rows are the hidden ones
        for g, block in enumerate(_blocks(w[n_in:], N)):
            np.testing.assert_allclose(block, functional_weights(sub, seed=gate_seed(2, g, gates)), rtol=1e-6)
        # the input rows: the rows brainstate's default XavierNormal gives the full matrix, seeded from (seed, 0, k)
        full = brainstate.nn.init.XavierNormal()((n_in + N, gates * N),
                                                 rng=brainstate.random.RandomState(input_seed(2, gates)))
        np.testing.assert_allclose(w[:n_in], np.asarray(full)[:n_in], rtol=1e-6)
    # the vanilla cell's hidden block is the plain (N, N) matrix; a GRU's r and candidate blocks differ
    np.testing.assert_allclose(cases[3][0][n_in:], np.asarray(init((N, N))), rtol=1e-6)
    assert not np.allclose(cases[0][0][n_in:, :N], cases[1][0][n_in:])
    # the cells run
    gru.init_state(4)
    assert gru(np.ones((4, n_in), np.float32)).shape == (4, N)


def test_input_initializer_keyword(sub):
    ortho = brainstate.nn.init.Orthogonal()
    init = MICrONSInit(sub, seed=1, input_initializer=ortho)
    w = np.asarray(init((5 + N, 2 * N)))
    expected = ortho((5 + N, 2 * N), rng=brainstate.random.RandomState(input_seed(1, 2)))
    np.testing.assert_allclose(w[:5], np.asarray(expected)[:5], rtol=1e-6)
    zeros = np.asarray(MICrONSInit(sub, seed=1, input_initializer=lambda shape: np.zeros(shape))((5 + N, N)))
    assert not zeros[:5].any() and zeros[5:].any()  # a plain f(shape) is called as is
    assert init.metadata["input_initializer"] == "Orthogonal"
    with pytest.raises(TypeError, match="input_initializer must be a callable"):
        MICrONSInit(sub, input_initializer=3)


def test_shape_errors_name_the_shape_and_the_accepted_layouts(field):
    init = MICrONSInit(field, seed=0)
    with pytest.raises(ValueError, match=r"shape \(42, 10\) does not fit field 5_3_8; accepted shapes: \(N, N\) "
                                         r"square recurrent, \(N, k\*N\) gated .* \(n_in \+ N, k\*N\) concatenated"
                                         r".*N = 42 from the field"):
        init((42, 10))
    with pytest.raises(ValueError, match=r"\(10, 10\) matrix of 10 neurons but field 5_3_8 has N=42.*n_neurons=10"):
        init((10, 10))
    # (84, 84) is a brainstate GRU's Wrz for n_in = N = 42, or an 84-neuron matrix: refused without n_neurons
    with pytest.raises(ValueError, match=r"N=84 neurons requested .*has only 42.*pass n_neurons=42"):
        init((84, 84))
    assert MICrONSInit(field, seed=0, n_neurons=42)((84, 84)).shape == (84, 84)
    with pytest.raises(ValueError, match=r"shape \(31, 64\) does not fit n_neurons=32; accepted shapes.*"
                                         r"N = 32 from n_neurons"):
        MICrONSInit(field, n_neurons=N, seed=0)((31, 64))
    with pytest.raises(ValueError, match=r"2-D weight matrices.*got shape \(2, 32, 32\)"):
        MICrONSInit(field, n_neurons=N, seed=0)((2, N, N))


# ------------------------------------------------------------------------------------- the selected neurons


def test_selected_neurons_are_public_and_select_the_priors_of_the_same_neurons(field):
    init = MICrONSInit(field, n_neurons=20, seed=0)
    ids = init.selected_neurons()
    # the rule, recomputed: the 20 somata nearest the centroid, in the field's order
    pos = field["positions"].transpose("neuron", "axis").values
    order = np.argsort(np.linalg.norm(pos - pos.mean(axis=0), axis=1), kind="stable")
    index = np.sort(order[:20])
    np.testing.assert_array_equal(ids, field.neuron.values[index])
    assert init.metadata["neuron_ids"] == ids.tolist() and init.metadata["neuron_index"] == index.tolist()
    # the matrix's rows are exactly these neurons
    np.testing.assert_allclose(np.asarray(init((20, 20))),
                               functional_weights(field.isel(neuron=index, pre=index, post=index), seed=0), rtol=1e-6)
    # the distance matrix of the same neurons: by ids, by the init, and from scratch
    expected = squareform(pdist(pos[index]))
    expected = expected / expected[~np.eye(20, dtype=bool)].mean()
    for neurons in (ids, list(ids), init):
        d = cp.distance_matrix(field, neurons=neurons)
        np.testing.assert_allclose(d.values, expected, rtol=1e-12)
        np.testing.assert_array_equal(d.pre.values, ids)
    np.testing.assert_allclose(cp.distance_matrix(field, neurons=init).values,
                               cp.distance_matrix(nearest_centroid_subset(field, 20)).values, rtol=1e-12)
    c = cp.empirical_communicability(field, neurons=init)
    np.testing.assert_allclose(c.values, cp.empirical_communicability(nearest_centroid_subset(field, 20)).values)
    np.testing.assert_array_equal(c.pre.values, ids)
    # the whole field when n_neurons is not given; the given order is kept
    np.testing.assert_array_equal(MICrONSInit(field).selected_neurons(), field.neuron.values)
    np.testing.assert_array_equal(select_neurons(field, ids[::-1]).neuron.values, ids[::-1])


def test_empirical_communicability_of_the_selected_neurons(microns_dir):
    field = cp.load_field("6_6_2", data_dir=microns_dir)
    init = MICrONSInit(field, n_neurons=100, seed=0)
    index = np.flatnonzero(np.isin(field.neuron.values, init.selected_neurons()))  # selection is in field order
    c = cp.empirical_communicability(field, neurons=init).values
    # from scratch: the sub-circuit's synapse counts, out-strength normalised, expm, diagonal 0
    a = np.abs(field.connectome.transpose("pre", "post").values[np.ix_(index, index)]).astype(np.float64)
    s = a.sum(axis=1)
    inv = np.where(s > 0, 1 / np.sqrt(np.where(s > 0, s, 1)), 0.0)
    expected = scipy.linalg.expm(inv[:, None] * a * inv[None, :])
    np.fill_diagonal(expected, 0.0)
    assert a.sum() > 0 and c.shape == (100, 100)
    np.testing.assert_allclose(c, expected, rtol=1e-10, atol=1e-12)
    # the sub-circuit's own communicability, not a crop of the whole field's
    assert not np.allclose(c, cp.empirical_communicability(field).values[np.ix_(index, index)])


def test_neuron_selection_errors(field):
    ids = field.neuron.values
    with pytest.raises(ValueError, match=r"2 of 2 ids are not neurons of field 5_3_8 \(e.g. 0\)"):
        cp.distance_matrix(field, neurons=[0, 1])
    with pytest.raises(ValueError, match=r"1 repeated id\(s\)"):
        cp.empirical_communicability(field, neurons=[ids[0], ids[0], ids[1]])
    with pytest.raises(ValueError, match=r"selection comes from field surrogate_n42_seed0 .* asked for field 5_3_8"):
        cp.distance_matrix(field, neurons=MICrONSInit(surrogate_field(42, seed=0), n_neurons=5))
    with pytest.raises(ValueError, match="non-empty 1-D"):
        cp.distance_matrix(field, neurons=[])


# ------------------------------------------------------------------------------------ N beyond the field


def test_n_beyond_the_field_says_what_to_do(microns_dir):
    with pytest.raises(ValueError, match=r"N=400 neurons requested \(n_neurons=400\) but field 6_6_2 has only 312 "
                                         r"neurons\. Options: a smaller N .*largest published field, 9_3_2, has 632 "
                                         r"neurons\); .*MICrONSInit\(surrogate_field\(400, seed=0\)"):
        MICrONSInit("6_6_2", n_neurons=400, seed=0, data_dir=microns_dir)((400, 400))
    with pytest.raises(ValueError, match=r"N=800 .*632 neurons, also fewer than 800"):
        MICrONSInit("6_6_2", seed=0, data_dir=microns_dir)((800, 800))
    with pytest.raises(ValueError, match=r"N=50 neurons requested \(n_neurons\) but field 5_3_8 has only 42"):
        MICrONSInit(cp.load_field("5_3_8"), n_neurons=50)  # a Dataset: checked at construction
    with pytest.raises(ValueError, match="has only 42"):
        MICrONSInit("5_3_8", n_neurons=50).selected_neurons()
    # the registry agrees with the message
    table = cp.list_fields()
    assert int(table["n_neurons"].max()) == 632 and table.loc[table["n_neurons"].idxmax(), "field"] == "9_3_2"


def test_the_suggested_surrogate_field_works():
    w = np.asarray(MICrONSInit(surrogate_field(800, seed=0), seed=0)((800, 800)))
    assert w.shape == (800, 800) and np.isfinite(w).all()
    assert abs(np.max(np.abs(np.linalg.eigvals(w.astype(np.float64)))) - 0.95) < 1e-4


# ---------------------------------------------------------------------------------------- Dale: own mask


def test_dale_mask_first_160_of_200_excitatory(microns_dir):
    mask = np.arange(200) < 160
    init = MICrONSInit("6_6_2", n_neurons=200, dale=mask, seed=3, data_dir=microns_dir)
    for shape in ((200, 200), (200, 600)):  # square, and every block of a brainpy GRU's Wh
        w = np.asarray(init(shape), np.float64)
        for block in _blocks(w, 200):
            assert (block[mask] >= 0).all() and (block[~mask] <= 0).all()
            assert (block[mask] > 0).any(axis=1).all() and (block[~mask] < 0).any(axis=1).all()
            assert abs(block.sum()) < 1e-5 * np.abs(block).sum()  # E balanced by I
    assert init.metadata["n_excitatory"] == 160 and init.metadata["dale"] == mask.tolist()
    # a mask that is not a prefix: the signs follow the mask, not the row order
    scattered = np.random.default_rng(0).permutation(mask)
    w = np.asarray(MICrONSInit("6_6_2", n_neurons=200, dale=scattered, seed=3, data_dir=microns_dir)((200, 200)))
    assert (w[scattered] >= 0).all() and (w[~scattered] <= 0).all()


# -------------------------------------------------------------------------------- a GRU trains on Go/NoGo


class GRUNet(brainstate.nn.Module):
    """A brainstate GRU cell (W_rec from MICrONSInit) and a linear readout of the hidden state."""

    def __init__(self, n_inputs: int, n_outputs: int, w_init, n_hidden: int) -> None:
        super().__init__()
        self.n_hidden = n_hidden
        self.cell = brainstate.nn.GRUCell(n_inputs, n_hidden, w_init=w_init)
        self.readout = brainstate.nn.Linear(n_hidden, n_outputs)

    def update(self, x):
        return self.readout(self.cell(x))


def first_gate_hidden_block(module: GRUNet):
    """W_rec for the trainer: the hidden rows of the reset gate (the last N rows of Wrz, its first N columns)."""
    n = module.n_hidden
    return module.cell.Wrz.weight.value["weight"][-n:, :n]


def test_brainstate_gru_with_micronsinit_trains_on_gonogo(sub):
    built = {}

    def factory(seed, n_inputs, n_outputs, w_rec_init):
        module = GRUNet(n_inputs, n_outputs, w_rec_init, N)
        built[seed] = np.asarray(first_gate_hidden_block(module))
        return module

    init = MICrONSInit("5_3_8", n_neurons=N)
    res = cp.models.train(factory, 3, seeds=[0], epochs=2, n_train=256, n_val=64, n_test=64, batch_size=32,
                          w_rec_init=init, w_rec_selector=first_gate_hidden_block)
    assert res.status == ["ok"]
    loss = res.metrics["train_loss"][0]
    assert np.isfinite(loss).all() and loss[1] < loss[0]
    # the trainer built the network with init.with_seed(0): Wrz's gate-0 block of the 2-gate matrix
    np.testing.assert_allclose(built[0], functional_weights(sub, seed=gate_seed(0, 0, 2)), rtol=1e-6)
    w_final = np.asarray(res.w_rec)[0]
    assert w_final.shape == (N, N) and not np.allclose(w_final, built[0])  # trained
    assert np.abs(w_final - built[0]).max() < 0.1  # ... starting from the MICrONSInit block
    assert "MICrONSInit" in res.config["w_rec_init"]
