"""Hostile files and servers (issue 20): no file the library reads can make it run code, and nothing it
writes can be half-done. Each case is made deterministic (no real race is needed to show the guard)."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from pickle_exploit import Exploit

from connectome_priors import FieldDataError, load_field, load_spikes
from connectome_priors.fields import _download

SMALL = "5_3_4"  # not embedded: read from the files themselves


@pytest.fixture
def field_copy(microns_dir, tmp_path):
    root = tmp_path / "fields"
    shutil.copytree(microns_dir / SMALL, root / SMALL)
    return root


def _swap_after_check(monkeypatch, root, name, payload_path, marker):
    """Make the reader swap ``name`` for a pickle bomb right after its bytes passed the hash check; only files
    below ``root`` (the test's own copy) are ever touched."""
    real = _download.read_verified

    def read_then_swap(field, file_name, path):
        data = real(field, file_name, path)
        if file_name == name and Path(path).resolve().is_relative_to(Path(root).resolve()):
            bomb = np.empty(1, dtype=object)
            bomb[0] = Exploit(str(marker))
            np.save(payload_path, bomb, allow_pickle=True)
            os.replace(payload_path, path)  # what an attacker with write access to the folder would do
        return data

    monkeypatch.setattr(_download, "read_verified", read_then_swap)


@pytest.mark.parametrize("name", [f"positions_{SMALL}.npy", f"root_ids_{SMALL}.npy"])
def test_a_file_swapped_after_its_hash_is_never_parsed(field_copy, tmp_path, monkeypatch, microns_dir, name):
    reference = load_field(SMALL, data_dir=microns_dir)
    marker = tmp_path / "unpickled"
    _swap_after_check(monkeypatch, field_copy, name, tmp_path / "bomb.npy", marker)
    ds = load_field(SMALL, data_dir=field_copy)
    assert not marker.exists(), "a file swapped after its check was unpickled"
    np.testing.assert_array_equal(ds.positions.values, reference.positions.values)
    # the swapped file itself is refused on the next read (it no longer matches the registry)
    monkeypatch.undo()
    with pytest.raises(FieldDataError, match=rf"'{SMALL}', file '{name}'.*(size|sha256)"):
        load_field(SMALL, data_dir=field_copy)
    assert not marker.exists()


def test_spike_file_swapped_after_its_hash_is_never_parsed(field_copy, tmp_path, monkeypatch):
    n = load_field(SMALL, data_dir=field_copy).sizes["neuron"]
    marker = tmp_path / "unpickled"
    _swap_after_check(monkeypatch, field_copy, f"spikes_{SMALL}.npy", tmp_path / "bomb.npy", marker)
    trains = load_spikes(SMALL, data_dir=field_copy)
    assert not marker.exists() and len(trains) == n


class _EndlessHandler(http.server.BaseHTTPRequestHandler):
    """Serves an endless body without a Content-Length: a client that reads to the end never returns."""

    sent = 0

    def do_GET(self):  # noqa: N802 - the http.server API
        self.send_response(200)
        self.end_headers()
        chunk = b"x" * 65536
        try:
            for _ in range(100_000):  # ~6.5 GB if nobody stops reading
                self.wfile.write(chunk)
                type(self).sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


def test_an_oversized_body_is_refused_without_reading_it(monkeypatch):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EndlessHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.delenv("CONNECTOME_PRIORS_DATA", raising=False)
        monkeypatch.setenv("CONNECTOME_PRIORS_URL", f"http://127.0.0.1:{server.server_address[1]}/")
        with pytest.raises(FieldDataError, match="longer than the registry's .* bytes"):
            load_field(SMALL)
    finally:
        server.shutdown()
        server.server_close()
    largest = max(e.size for e in _download._registry.field_files(SMALL).values() if e.size)
    # two attempts, each stopped just past the registry's size (plus what sat in the socket buffers)
    assert _EndlessHandler.sent < 2 * largest + 64 * 2**20
    assert not any(p.is_file() for p in _download.cache_dir().rglob("*")), "a refused download left files"


def test_what_a_killed_download_left_is_removed_on_the_next_run(microns_dir, monkeypatch):
    dest = _download.raw_cache(SMALL)
    dest.mkdir(parents=True)
    dead = dest / f".connectome_{SMALL}.999999999-0123456789ab.tmp.csv"  # a writer that was killed
    dead.write_bytes(b"partial")
    alive = dest / f".corr_matrix.{os.getpid()}-0123456789ab.tmp.npy"  # a writer still running: kept
    alive.write_bytes(b"partial")
    (dest / ".staging-0123").mkdir()  # the download layout of earlier versions
    (dest / ".staging-0123" / "x.npy").write_bytes(b"partial")
    monkeypatch.delenv("CONNECTOME_PRIORS_DATA", raising=False)
    # no network needed: the "download" hands back the reference copy's verified bytes
    monkeypatch.setattr(_download, "_download", lambda field, names, d: {
        n: _download.read_verified(field, n, microns_dir / field / n) for n in names})
    contents, _, _ = _download.read_files(SMALL)
    assert sorted(contents) == sorted(_download.file_names(SMALL))
    assert not dead.exists() and alive.exists() and not (dest / ".staging-0123").exists()


@pytest.mark.parametrize(("task", "variant", "seed"), [
    ("Task1", "../../../../tmp/x", 0), ("../x", "W", 0), ("Task1", "W", -1), ("Task1", "W", "0/../../x"),
])
def test_a_run_key_from_data_never_becomes_a_path_outside_the_store(tmp_path, task, variant, seed):
    from connectome_priors.benchmarks._run_store import RUN_STORE

    store = tmp_path / "store"
    with pytest.raises(ValueError, match="run task|unknown variant|run seed"):
        RUN_STORE.write(store, {"task": task, "variant": variant, "seed": seed, "metrics": {}})
    assert list(tmp_path.iterdir()) == []  # nothing created, inside the store or outside it


def test_a_folder_lock_refuses_a_second_writer_and_takes_over_a_dead_ones(tmp_path):
    from connectome_priors._atomic import FolderBusyError, folder_lock

    with folder_lock(tmp_path, "writing the report"):
        with pytest.raises(FolderBusyError, match=rf"process {os.getpid()} .* is writing the report"):
            with folder_lock(tmp_path):
                pass
    assert not (tmp_path / ".lock").exists()
    import socket

    (tmp_path / ".lock").write_text(f"999999999 {socket.gethostname()} writing\n")  # its owner is gone
    with folder_lock(tmp_path) as lock:
        assert lock.read_text().startswith(f"{os.getpid()} ")


def test_evidence_import_refuses_a_traversal_variant_and_creates_nothing(tmp_path):
    """A variant of ``../../../../tmp/x`` in records.jsonl once created ``/tmp/x/seed_0000.json``."""
    from connectome_priors.benchmarks.evidence import RecordsError, import_records

    arm = tmp_path / "arm"
    arm.mkdir()
    record = {"task": "Task1", "variant": f"../../../..{tmp_path}/escaped", "seed": 0, "config_hash": "abc",
              "status": "ok", "metrics": {}}
    (arm / "config.json").write_text(json.dumps({"config_hash": "abc"}))
    (arm / "records.jsonl").write_text(json.dumps(record) + "\n")
    with pytest.raises(RecordsError, match=r"records.jsonl, line 1: unknown variant '\.\./"):
        import_records(arm, tmp_path / "store")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arm"]  # no store, nothing outside it


def test_a_result_file_that_names_a_shell_command_runs_nothing(tmp_path):
    """``config["model"] = "pydoc:pipepager"`` with a shell command in ``factory_kwargs`` once ran the command
    on ``load_result(path).model()``."""
    from connectome_priors import models

    def toy(n, seed):
        rng = np.random.default_rng(seed)
        y = rng.integers(0, 2, n)
        return (np.repeat(y[:, None, None], 3, 1) + rng.normal(0, 1, (n, 3, 2))).astype("float32"), y

    res = models.train(models.examples.rnncell_net, toy, seeds=[0], epochs=1, n_train=32, n_val=16, n_test=16,
                       batch_size=16)
    marker = tmp_path / "ran"
    res.config["model"] = "pydoc:pipepager"
    res.config["factory_kwargs"] = {"text": "x", "cmd": f"touch {marker}"}
    loaded = models.load_result(models.save_result(res, tmp_path / "crafted"))
    with pytest.raises(ValueError, match="never names code to run"):
        loaded.model(0)
    with pytest.raises(ValueError, match="is not the one this result was trained with"):
        loaded.model(0, factory=models.examples.rnncell_net)
    assert not marker.exists()


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"seeds": 5}, TypeError, r"seeds must be a sequence of integers .* got 5"),
    ({"seeds": [1.7, 1.2]}, ValueError, r"seeds must be non-negative integers, got \[1.7, 1.2\]"),
    ({"lr": 0}, ValueError, "lr must be a finite number > 0, got 0"),
    ({"lr": -0.01}, ValueError, "lr must be a finite number > 0"),
])
def test_bad_training_arguments_are_named_before_anything_runs(kwargs, error, message):
    from connectome_priors import models

    with pytest.raises(error, match=message):
        models.train(models.RNNSpec(n_hidden=8), "Task3", epochs=1, n_train=64, n_val=16, n_test=16,
                     batch_size=32, **kwargs)


def test_a_factory_returning_none_and_an_integer_init_dtype_are_named():
    import jax.numpy as jnp

    import connectome_priors as cp
    from connectome_priors import models

    with pytest.raises(TypeError, match="returned None for seed 0; it must return a brainstate.nn.Module"):
        models.train(lambda seed, **kw: None, "Task3", epochs=1, n_train=64, n_val=16, n_test=16, batch_size=32)
    with pytest.raises(TypeError, match="dtype=int32 would truncate them"):
        cp.MICrONSInit("5_3_8")((42, 42), dtype=jnp.int32)


def test_an_object_npy_can_name_nothing_but_numpy_arrays(tmp_path, microns_dir):
    """Even bytes that reach the parser (the hash is checked first) are unpickled by a numpy-only unpickler."""
    import io
    import pickle

    from connectome_priors.fields._load import _read_positions, load_object_npy

    marker = tmp_path / "unpickled"
    bomb = np.empty(1, dtype=object)
    bomb[0] = Exploit(str(marker))
    buf = io.BytesIO()
    np.save(buf, bomb, allow_pickle=True)
    with pytest.raises(pickle.UnpicklingError, match=r"refused: the file names posix\.mkdir|refused: .*mkdir"):
        load_object_npy(buf.getvalue())
    with pytest.raises(FieldDataError, match="cannot read soma positions: refused"):
        _read_positions(SMALL, f"positions_{SMALL}.npy", buf.getvalue(), 1)
    assert not marker.exists()
    # the published files themselves read exactly as numpy's own loader reads them
    data = (microns_dir / SMALL / f"positions_{SMALL}.npy").read_bytes()
    ours, theirs = load_object_npy(data), np.load(io.BytesIO(data), allow_pickle=True)
    assert ours.shape == theirs.shape and all(np.array_equal(a, b) for a, b in zip(ours, theirs))
