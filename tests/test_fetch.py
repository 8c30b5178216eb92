"""Registry table, download path through a loopback HTTP server, verification and the cache."""

from __future__ import annotations

import collections
import errno
import functools
import http.server
import json
import os
import shutil
import socket
import threading
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from connectome_priors import (
    FieldDataError,
    _atomic,
    cache_dir,
    fetch_field_files,
    list_fields,
    load_field,
    load_spikes,
)
from connectome_priors.fields import _cache, _embedded, _registry

# fields that are not embedded in the package, so load_field really takes the download path
SMALL = "5_3_4"
OTHER = "4_7_2"


# ------------------------------------------------------------------ registry table


def test_list_fields_without_network(microns_dir, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("list_fields must not touch the network")

    monkeypatch.setattr(socket, "socket", no_network)
    table = list_fields()
    assert len(table) == 56 and table.field.is_unique
    assert list(table.columns[:6]) == ["field", "session", "scan", "imaging_field", "n_neurons", "has_spikes"]
    assert table.n_neurons.min() == 42 and table.n_neurons.max() == 632
    by_field = table.set_index("field")
    for folder in sorted(p for p in microns_dir.iterdir() if p.is_dir()):
        field = folder.name
        assert by_field.loc[field, "n_neurons"] == len(np.load(folder / f"root_ids_{field}.npy"))
        assert (by_field.loc[field, ["session", "scan", "imaging_field"]].tolist()
                == [int(p) for p in field.split("_")])
        if (folder / f"spikes_{field}.npy").exists():
            assert by_field.loc[field, "has_spikes"] and by_field.loc[field, "spikes_verifiable"]


def test_cache_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CONNECTOME_PRIORS_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"


# ------------------------------------------------------------------ loopback server


class _Server:
    """Serves a folder over HTTP on 127.0.0.1; counts requests; can serve altered bytes."""

    def __init__(self, root: Path):
        self.root = root
        self.requests: collections.Counter[str] = collections.Counter()
        self.replies: dict[str, list[bytes]] = {}  # path -> bodies served before the real file
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server API
                path = self.path.lstrip("/")
                server.requests[path] += 1
                queued = server.replies.get(path)
                if queued:
                    body = queued.pop(0) if len(queued) > 1 else queued[0]
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(root))
        )
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(microns_dir, tmp_path, monkeypatch):
    """A loopback mirror of two non-embedded fields; the library is pointed at it."""
    assert SMALL not in _embedded.fields() and OTHER not in _embedded.fields()
    root = tmp_path / "mirror"
    for field in (SMALL, OTHER):
        shutil.copytree(microns_dir / field, root / field)
    srv = _Server(root)
    monkeypatch.delenv("CONNECTOME_PRIORS_DATA", raising=False)
    monkeypatch.setenv("CONNECTOME_PRIORS_URL", srv.url)
    yield srv
    srv.close()


def _cache_files(field: str) -> list[Path]:
    return sorted(p for p in cache_dir().rglob("*") if p.is_file() and field in str(p))


def _without_source(ds: xr.Dataset) -> xr.Dataset:
    return ds.assign_attrs(source="")


@pytest.mark.network
def test_download_gives_identical_dataset_then_cache(server, microns_dir):
    downloaded = load_field(OTHER)
    assert downloaded.attrs["source"].startswith(f"download {server.url}")
    local = load_field(OTHER, data_dir=microns_dir)
    xr.testing.assert_identical(_without_source(downloaded), _without_source(local))
    assert all(count == 1 for count in server.requests.values()) and len(server.requests) == 8

    entry = cache_dir() / "fields"
    assert sorted(p.name for p in entry.iterdir()) == [f"{OTHER}.json", f"{OTHER}.npz"]  # no temporary files
    before = sum(server.requests.values())
    cached = load_field(OTHER)  # parsed cache: no request
    assert sum(server.requests.values()) == before
    assert cached.attrs["source"].startswith("cache ")
    xr.testing.assert_identical(_without_source(cached), _without_source(local))
    for var in cached.variables:  # bit for bit, signed zeros included
        assert cached[var].dtype == local[var].dtype
        if cached[var].dtype.kind in "fi":
            as_bytes = lambda a: np.ascontiguousarray(a.values).tobytes()  # noqa: E731
            assert as_bytes(cached[var]) == as_bytes(local[var])
    assert cached.positions.dtype == np.float64 and cached.neuron.dtype == np.int64


@pytest.mark.network
def test_tampered_download_is_refused_refetched_once_and_not_cached(server):
    name = f"positions_{SMALL}.npy"
    good = (server.root / SMALL / name).read_bytes()
    server.replies[f"{SMALL}/{name}"] = [good[:-1] + bytes([good[-1] ^ 0xFF])]  # same size, other bytes
    expected = _registry.field_files(SMALL)[name].sha256
    message = rf"'{SMALL}', file '{name}'.*twice.*expected {expected}, got [0-9a-f]{{64}}"
    with pytest.raises(FieldDataError, match=message):
        load_field(SMALL)
    assert server.requests[f"{SMALL}/{name}"] == 2
    assert _cache_files(SMALL) == []


@pytest.mark.network
def test_truncated_download_is_refused(server):
    name = "corr_matrix.npy"
    good = (server.root / SMALL / name).read_bytes()
    server.replies[f"{SMALL}/{name}"] = [good[: len(good) // 2]]
    message = rf"'{SMALL}', file '{name}'.*size {len(good) // 2} bytes, registry says {len(good)}"
    with pytest.raises(FieldDataError, match=message):
        load_field(SMALL)
    assert _cache_files(SMALL) == []


@pytest.mark.network
def test_one_bad_download_is_repaired_by_the_retry(server, microns_dir):
    name = "sttc_matrix.npy"
    good = (server.root / SMALL / name).read_bytes()
    server.replies[f"{SMALL}/{name}"] = [b"garbage", good]
    ds = load_field(SMALL)
    assert server.requests[f"{SMALL}/{name}"] == 2
    xr.testing.assert_identical(_without_source(ds), _without_source(load_field(SMALL, data_dir=microns_dir)))


@pytest.mark.network
def test_missing_remote_file(server):
    (server.root / SMALL / "precision_matrix.npy").unlink()
    with pytest.raises(FieldDataError, match=rf"'{SMALL}', file 'precision_matrix\.npy'.*download .* failed.*404"):
        load_field(SMALL)
    assert _cache_files(SMALL) == []


@pytest.mark.network
def test_corrupted_raw_cache_file_is_fetched_again(server):
    paths = fetch_field_files(SMALL)
    assert sorted(paths) == sorted(p.name for p in (server.root / SMALL).iterdir() if "spikes" not in p.name)
    victim = paths["corr_matrix.npy"]
    victim.write_bytes(b"not the published bytes")
    paths = fetch_field_files(SMALL)
    assert server.requests[f"{SMALL}/corr_matrix.npy"] == 2
    assert server.requests[f"{SMALL}/sttc_matrix.npy"] == 1
    assert victim.read_bytes() == (server.root / SMALL / "corr_matrix.npy").read_bytes()


@pytest.mark.network
def test_unreadable_cache_entry_is_reported_and_rebuilt(server, microns_dir):
    first = load_field(SMALL)
    entry = cache_dir() / "fields" / f"{SMALL}.npz"
    assert entry.is_file()
    entry.write_bytes(b"PK\x03\x04 truncated")
    with pytest.warns(RuntimeWarning, match=rf"'{SMALL}', file '{SMALL}\.npz'.*does not match its metadata.*deleting"):
        rebuilt = load_field(SMALL)
    xr.testing.assert_identical(_without_source(rebuilt), _without_source(first))
    assert load_field(SMALL).attrs["source"].startswith("cache ")  # the rewritten entry is good
    assert not list(entry.parent.glob(".*"))


def _edit_cache_metadata(field, edit):
    path = cache_dir() / "fields" / f"{field}.json"
    meta = json.loads(path.read_text())
    edit(meta)
    path.write_text(json.dumps(meta))


@pytest.mark.network
def test_cache_entry_from_other_files_is_not_used(server):
    load_field(SMALL)
    _edit_cache_metadata(SMALL, lambda m: m["source"]["files"]["corr_matrix.npy"].update(sha256="0" * 64))
    with pytest.warns(RuntimeWarning, match="built from files other than the registry's"):
        ds = load_field(SMALL)
    assert ds.attrs["source"].startswith("cache ")  # rebuilt from the verified raw files, no download
    assert load_field(SMALL).attrs["source"].startswith("cache ")


@pytest.mark.network
def test_old_cache_format_is_rebuilt(server):
    load_field(SMALL)
    (cache_dir() / "fields" / f"{SMALL}.nc").write_bytes(b"\x89HDF format-1 entry")
    _edit_cache_metadata(SMALL, lambda m: m.update(format_version=1))
    with pytest.warns(RuntimeWarning, match=r"is not connectome-priors/field-arrays version 2 \(found .*1\)"):
        load_field(SMALL)
    assert sorted(p.name for p in (cache_dir() / "fields").iterdir()) == [f"{SMALL}.json", f"{SMALL}.npz"]


# ------------------------------------------------------------------ cache write failures


def _assert_one_cache_warning(record, reason):
    messages = [str(w.message) for w in record if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1, messages
    assert "could not write the parsed-field cache" in messages[0]
    assert str(cache_dir() / "fields") in messages[0] and reason in messages[0]


def _no_partial_files():
    folder = cache_dir() / "fields"
    return not folder.exists() or list(folder.iterdir()) == []


@pytest.mark.network
@pytest.mark.parametrize(
    ("target", "error", "reason"),
    [
        # a missing optional engine (what h5netcdf without h5py did to the format-1 cache)
        ("npz_bytes", ImportError("No module named 'h5py'"), "ImportError: No module named 'h5py'"),
        # read-only cache folder (also covered with chmod below, where the user is not root)
        ("replace", PermissionError(errno.EACCES, "Permission denied"), "Permission denied"),
        # full disk, after the temporary file got some bytes
        ("fsync", OSError(errno.ENOSPC, "No space left on device"), "No space left on device"),
    ],
)
def test_cache_write_failure_warns_once_and_returns_the_field(server, microns_dir, monkeypatch, target, error, reason):
    def fail(*args, **kwargs):
        raise error

    with monkeypatch.context() as patch:
        if target == "npz_bytes":
            patch.setattr(_cache, "npz_bytes", fail)
        else:  # the cache writer's calls of the atomic writer fail; the download's own writes still work
            real_write = _atomic.write_bytes

            def failing_write(path, data, **kwargs):
                with monkeypatch.context() as inner:
                    inner.setattr(_atomic, "os", types.SimpleNamespace(**{**vars(os), target: fail}))
                    return real_write(path, data, **kwargs)

            patch.setattr(_cache, "write_bytes", failing_write)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            ds = load_field(SMALL)
    assert ds.attrs["source"].startswith("download ")
    _assert_one_cache_warning(record, reason)
    xr.testing.assert_identical(_without_source(ds), _without_source(load_field(SMALL, data_dir=microns_dir)))
    assert _no_partial_files()
    requests = sum(server.requests.values())
    again = load_field(SMALL)  # parsed again from the verified raw files (no new request); now the cache is written
    assert again.attrs["source"] == f"cache {cache_dir() / 'raw' / SMALL}"
    assert sum(server.requests.values()) == requests
    assert load_field(SMALL).attrs["source"] == f"cache {cache_dir() / 'fields' / SMALL}.npz"


@pytest.mark.network
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_cache_folder_warns_once(server):
    fetch_field_files(SMALL)  # raw files in the cache; only the parsed-field folder is read-only
    folder = cache_dir() / "fields"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            ds = load_field(SMALL)
        _assert_one_cache_warning(record, "Permission denied")
        assert ds.sizes["neuron"] == 70 and list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


@pytest.mark.network
def test_spikes_download(server, microns_dir):
    spikes = load_spikes(SMALL)
    local = load_spikes(SMALL, data_dir=microns_dir)
    assert len(spikes) == len(local) == 70
    assert all(np.array_equal(a, b) for a, b in zip(spikes, local))


@pytest.mark.network
def test_a_cache_that_cannot_be_created_costs_warnings_not_the_field(server, microns_dir, tmp_path, monkeypatch):
    """The cache path runs through a regular file, so no folder can be made there, whoever the user is
    (root ignores permissions, not this)."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("CONNECTOME_PRIORS_CACHE", str(blocker / "cache"))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        ds = load_field(SMALL)
    messages = [str(w.message) for w in record if issubclass(w.category, RuntimeWarning)]
    assert any("could not write the download cache" in m for m in messages), messages
    xr.testing.assert_identical(_without_source(ds), _without_source(load_field(SMALL, data_dir=microns_dir)))
