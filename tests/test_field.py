"""load_field / load_spikes from a local folder: layout, units, orientation, and bad input."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from pickle_exploit import Exploit
from scipy.spatial.distance import pdist

from connectome_priors import FieldDataError, load_field, load_spikes
from connectome_priors.fields import _registry

SMALL = "5_3_8"


def _raw_positions_um(folder: Path, field: str) -> np.ndarray:
    # allow_pickle here is safe: this is the reference copy whose hashes the registry pins
    raw = np.load(folder / field / f"positions_{field}.npy", allow_pickle=True)
    return np.stack([np.asarray(p, dtype=float) for p in raw]) * np.array([4.0, 4.0, 40.0]) / 1000.0


def test_6_6_2_has_312_neurons_with_raw_pairwise_distances(microns_dir):
    ds = load_field("6_6_2", data_dir=microns_dir)
    assert ds.sizes == {"neuron": 312, "axis": 3, "pre": 312, "post": 312}
    raw = _raw_positions_um(microns_dir, "6_6_2")
    np.testing.assert_allclose(pdist(ds.positions.values), pdist(raw), rtol=1e-12)
    # orientation: each axis is the matching voxel column (not a reshape of (N, 3) to (3, N))
    np.testing.assert_array_equal(ds.positions.sel(axis="z").values, raw[:, 2])


def test_layout_coordinates_and_values(microns_dir):
    ds = load_field(SMALL, data_dir=microns_dir)
    folder = microns_dir / SMALL
    root_ids = np.load(folder / f"root_ids_{SMALL}.npy")
    for dim in ("neuron", "pre", "post"):
        assert ds[dim].dtype == np.int64
        np.testing.assert_array_equal(ds[dim].values, root_ids)
    np.testing.assert_array_equal(ds.unit_id.values, np.load(folder / f"unit_ids_{SMALL}.npy"))
    np.testing.assert_array_equal(ds.target_id.values, np.load(folder / f"target_ids_{SMALL}.npy"))
    assert list(ds.axis.values) == ["x", "y", "z"]
    connectome = pd.read_csv(folder / f"connectome_{SMALL}.csv", index_col=0).to_numpy()
    assert ds.connectome.dtype == np.int64 and ds.connectome.dims == ("pre", "post")
    np.testing.assert_array_equal(ds.connectome.values, connectome)
    sttc_file = np.load(folder / "sttc_matrix.npy")
    sttc = ds.sttc.values
    np.testing.assert_array_equal(sttc, sttc.T)
    np.testing.assert_array_equal(np.diag(sttc), 1.0)
    lower = np.tril_indices(len(root_ids), -1)
    np.testing.assert_array_equal(sttc[lower], sttc_file[lower])
    np.testing.assert_array_equal(ds.correlation.values, np.load(folder / "corr_matrix.npy"))
    np.testing.assert_array_equal(ds.precision.values, np.load(folder / "precision_matrix.npy"))
    # a synapse from root id a onto root id b sits at connectome.sel(pre=a, post=b)
    i, j = np.argwhere(connectome > 0)[0]
    assert int(ds.connectome.sel(pre=root_ids[i], post=root_ids[j])) == connectome[i, j]


def test_attrs_are_provenance_and_netcdf_serializable(microns_dir, tmp_path):
    ds = load_field(SMALL, data_dir=microns_dir)
    assert (ds.attrs["field"], ds.attrs["session"], ds.attrs["scan"], ds.attrs["imaging_field"]) == (SMALL, 5, 3, 8)
    assert ds.attrs["synthetic"] == 0
    assert json.loads(ds.attrs["voxel_size_nm"]) == [4.0, 4.0, 40.0]
    assert ds.attrs["commit"] == _registry.COMMIT and str(microns_dir) in ds.attrs["source"]
    hashes = json.loads(ds.attrs["sha256"])
    for name, digest in hashes.items():
        assert hashlib.sha256((microns_dir / SMALL / name).read_bytes()).hexdigest() == digest
    ds.to_netcdf(tmp_path / "f.nc", engine="h5netcdf")
    xr.testing.assert_equal(xr.load_dataset(tmp_path / "f.nc", engine="h5netcdf"), ds)


def test_environment_variable_is_used_when_no_data_dir(microns_dir, monkeypatch):
    monkeypatch.setenv("CONNECTOME_PRIORS_DATA", str(microns_dir))
    monkeypatch.setenv("CONNECTOME_PRIORS_URL", "http://127.0.0.1:9/unreachable/")  # must not be used
    ds = load_field(SMALL)
    assert "CONNECTOME_PRIORS_DATA" in ds.attrs["source"]
    direct = load_field(SMALL, data_dir=microns_dir)
    xr.testing.assert_identical(ds.assign_attrs(source=""), direct.assign_attrs(source=""))


def test_load_spikes(microns_dir):
    spikes = load_spikes(SMALL, data_dir=microns_dir)
    raw = np.load(microns_dir / SMALL / f"spikes_{SMALL}.npy", allow_pickle=True)
    assert len(spikes) == len(raw) == 42
    for got, want in zip(spikes, raw):
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, want)


def test_load_spikes_refuses_field_without_verifiable_spikes(microns_dir):
    with pytest.raises(FieldDataError, match=r"6_6_2.*spikes_6_6_2\.npy.*no sha256"):
        load_spikes("6_6_2", data_dir=microns_dir)


# ------------------------------------------------------------------ bad input


def test_unknown_field_lists_close_matches():
    with pytest.raises(FieldDataError, match=r"'6_6_3'.*unknown field id.*close matches: .*6_6_2"):
        load_field("6_6_3")
    with pytest.raises(FieldDataError, match="unknown field id"):
        load_field("not a field")


@pytest.fixture
def local_copy(microns_dir, tmp_path):
    """A writable copy of the small field in the published layout."""
    shutil.copytree(microns_dir / SMALL, tmp_path / SMALL)
    return tmp_path


def _trust(monkeypatch, folder: Path, field: str = SMALL) -> None:
    """Make the registry vouch for the (altered) files in ``folder``: reaches the content checks."""
    entries = dict(_registry.field_files(field))
    for name in entries:
        path = folder / field / name
        if path.exists():
            data = path.read_bytes()
            entries[name] = _registry.RegistryEntry(f"{field}/{name}", len(data), hashlib.sha256(data).hexdigest())
    original = _registry.field_files
    monkeypatch.setattr(_registry, "field_files", lambda f: entries if f == field else original(f))


def test_missing_file(local_copy):
    (local_copy / SMALL / "sttc_matrix.npy").unlink()
    with pytest.raises(FieldDataError, match=r"'5_3_8'.*'sttc_matrix\.npy'.*missing file"):
        load_field(SMALL, data_dir=local_copy)


def test_tampered_local_pickle_is_never_unpickled(local_copy, tmp_path):
    marker = tmp_path / "unpickled"
    payload = np.empty(42, dtype=object)
    payload[:] = [Exploit(str(marker))] * 42

    np.save(local_copy / SMALL / f"positions_{SMALL}.npy", payload, allow_pickle=True)
    with pytest.raises(FieldDataError, match=r"'5_3_8'.*'positions_5_3_8\.npy'.*(size|sha256)"):
        load_field(SMALL, data_dir=local_copy)
    assert not marker.exists()


def test_same_size_altered_local_file_is_refused_with_both_hashes(local_copy):
    path = local_copy / SMALL / "corr_matrix.npy"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    expected = _registry.field_files(SMALL)["corr_matrix.npy"].sha256
    with pytest.raises(FieldDataError, match=rf"corr_matrix\.npy.*expected {expected}, got [0-9a-f]{{64}}"):
        load_field(SMALL, data_dir=local_copy)


def _rewrite(folder, name, array):
    np.save(folder / SMALL / name, array)


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("corr_matrix.npy", lambda n: np.zeros((n, n - 1)), r"square N x N matrix, got shape \(42, 41\)"),
        ("precision_matrix.npy", lambda n: np.zeros((n - 2, n - 2)), "neuron count mismatch: 40 x 40, root_ids has 42"),
        ("unit_ids_5_3_8.npy", lambda n: np.arange(n - 1), "neuron count mismatch: 41 ids, root_ids has 42"),
        ("sttc_matrix.npy", lambda n: np.where(np.eye(n) > 0, np.nan, 0.0), "42 NaN/inf values"),
        ("corr_matrix.npy", lambda n: np.full((n, n), np.inf), "NaN/inf"),
        ("root_ids_5_3_8.npy", lambda n: np.zeros(n, dtype=np.int64), "duplicate root ids"),
    ],
)
def test_bad_content_is_refused(local_copy, monkeypatch, name, make, message):
    _rewrite(local_copy, name, make(42))
    _trust(monkeypatch, local_copy)
    with pytest.raises(FieldDataError, match=rf"'5_3_8', file '{name}'.*{message}"):
        load_field(SMALL, data_dir=local_copy)


def test_non_square_connectome_csv_is_refused(local_copy, monkeypatch):
    path = local_copy / SMALL / f"connectome_{SMALL}.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")  # drop the last row
    _trust(monkeypatch, local_copy)
    with pytest.raises(FieldDataError, match=r"connectome_5_3_8\.csv.*square N x N matrix, got shape \(41, 42\)"):
        load_field(SMALL, data_dir=local_copy)


def test_data_dir_that_does_not_exist(tmp_path):
    with pytest.raises(FieldDataError, match="is not a directory"):
        load_field(SMALL, data_dir=tmp_path / "nowhere")
