"""The fields embedded in the package: rebuilt from the published files, offline, verified, small."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from pickle_exploit import Exploit

import connectome_priors as cp
from connectome_priors import FieldDataError
from connectome_priors.fields import _cache, _download, _embedded, _embedded_build, _load

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "connectome_priors" / "fields" / "data"
WHEEL_BUDGET_BYTES = 2_000_000  # the embedded data's share of the wheel (issue 10)


def _bits(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a).tobytes()


def _assert_same_field(got: xr.Dataset, want: xr.Dataset) -> None:
    """Identical Datasets except ``attrs['source']``, numbers equal bit for bit (signed zeros too)."""
    xr.testing.assert_identical(got.assign_attrs(source=""), want.assign_attrs(source=""))
    for var in want.variables:
        assert got[var].dtype == want[var].dtype, var
        if want[var].dtype.kind in "fiu":
            assert _bits(got[var].values) == _bits(want[var].values), var


@pytest.fixture
def offline(monkeypatch):
    """No $CONNECTOME_PRIORS_DATA and no network: any download attempt fails."""
    monkeypatch.delenv("CONNECTOME_PRIORS_DATA", raising=False)
    monkeypatch.setenv("CONNECTOME_PRIORS_URL", "http://127.0.0.1:9/no-network/")
    real_socket = socket.socket

    def no_network(*args, **kwargs):
        raise AssertionError("an embedded field must load without touching the network")

    monkeypatch.setattr(socket, "socket", no_network)
    yield
    monkeypatch.setattr(socket, "socket", real_socket)


def test_committed_files_are_exactly_what_the_build_script_makes(microns_dir, tmp_path):
    assert _embedded.fields() == tuple(sorted(_embedded.FIELDS))
    expected = {f"{f}{ext}" for f in _embedded.FIELDS for ext in (".npz", ".json")} | {"README.md"}
    assert {p.name for p in DATA.iterdir()} == expected
    out = tmp_path / "rebuilt"
    run = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_embedded.py"), "--source", str(microns_dir), "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(expected - {"README.md"})  # no temporary files left
    for field in _embedded.FIELDS:
        committed = json.loads((DATA / f"{field}.json").read_text())
        rebuilt = json.loads((out / f"{field}.json").read_text())
        # the .npz bytes (so their size and sha256) depend on the zlib build; their content must not
        c_container, r_container = committed.pop("arrays"), rebuilt.pop("arrays")
        assert committed == rebuilt
        assert c_container["file"] == r_container["file"] == f"{field}.npz"
        c_data, r_data = (DATA / f"{field}.npz").read_bytes(), (out / f"{field}.npz").read_bytes()
        assert (len(c_data), _cache.sha256_bytes(c_data)) == (c_container["size"], c_container["sha256"])
        c_arrays, r_arrays = _cache.read_npz(c_data), _cache.read_npz(r_data)
        assert sorted(c_arrays) == sorted(r_arrays)
        for key in c_arrays:
            assert c_arrays[key].dtype == r_arrays[key].dtype and c_arrays[key].shape == r_arrays[key].shape, key
            assert _bits(c_arrays[key]) == _bits(r_arrays[key]), key
        # provenance: every published file of the field, with the registry's sha256
        files = committed["source"]["files"]
        assert sorted(files) == sorted(_download.file_names(field))
        for name, entry in files.items():
            assert entry["sha256"] == _cache.sha256_bytes((microns_dir / field / name).read_bytes())
            assert entry["url"].endswith(f"/{committed['source']['commit']}/Model/DATA/info/{field}/{name}")
        assert committed["source"]["repository"] == "neurovium/CorticalBlueprintRNN"
        assert committed["source"]["commit"] == "8d5e241b444803ba552923d32a5fcef39439425b"
        assert "CC BY 4.0" in committed["licenses"]["data"] and "MIT" in committed["licenses"]["code"]
        assert committed["licenses"]["zenodo_doi"] == "10.5281/zenodo.20834365"
        assert committed["built_by"] == "scripts/build_embedded.py"


def test_build_is_deterministic(microns_dir, tmp_path):
    a = _embedded_build.build("5_3_8", microns_dir, tmp_path / "a")
    b = _embedded_build.build("5_3_8", microns_dir, tmp_path / "b")
    assert a == b
    for name in ("5_3_8.npz", "5_3_8.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.mark.parametrize("field", _embedded.FIELDS)
def test_embedded_field_offline_is_the_published_field(field, microns_dir, offline):
    ds = cp.load_field(field)
    assert ds.attrs["source"].startswith("embedded ") and f"{field}.npz" in ds.attrs["source"]
    _assert_same_field(ds, cp.load_field(field, data_dir=microns_dir))
    assert not (_download.cache_dir()).exists() or not any(_download.cache_dir().rglob("*"))  # nothing cached


def test_list_fields_says_which_are_embedded():
    table = cp.list_fields().set_index("field")
    assert sorted(table.index[table.embedded]) == sorted(_embedded.FIELDS)


def test_default_field_is_embedded(offline):
    ds = cp.load_field()
    assert ds.attrs["field"] == "6_6_2" and ds.sizes["neuron"] == 312
    assert ds.attrs["source"].startswith("embedded ")


def test_data_dir_and_environment_come_before_embedded(microns_dir, monkeypatch):
    monkeypatch.setenv("CONNECTOME_PRIORS_URL", "http://127.0.0.1:9/no-network/")
    monkeypatch.setenv("CONNECTOME_PRIORS_DATA", str(microns_dir))
    assert "$CONNECTOME_PRIORS_DATA" in cp.load_field("5_3_8").attrs["source"]
    assert cp.load_field("5_3_8", data_dir=microns_dir).attrs["source"] == f"local dir {microns_dir}"
    monkeypatch.setenv("CONNECTOME_PRIORS_DATA", str(microns_dir / "5_3_8"))  # no <field>/ folder: falls through
    assert cp.load_field("5_3_8").attrs["source"].startswith("embedded ")


def test_data_folder_fits_the_wheel_budget():
    sizes = {p.name: p.stat().st_size for p in DATA.iterdir()}
    assert sum(sizes.values()) <= WHEEL_BUDGET_BYTES, sizes


def test_every_data_file_is_package_data():
    import fnmatch
    import tomllib

    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "connectome_priors.fields.data" in setuptools["packages"]  # else setuptools warns and may drop it
    globs = setuptools["package-data"]["connectome_priors.fields.data"]
    for path in DATA.iterdir():
        assert any(fnmatch.fnmatch(path.name, g) for g in globs), f"{path.name} would be left out of the wheel {globs}"


def test_non_symmetric_matrix_is_stored_in_full(microns_dir):
    # 5_3_4's published correlation matrix is symmetric in value but not bit for bit
    contents, _, _ = _download.read_files("5_3_4", data_dir=microns_dir)
    arrays = _load.read_published("5_3_4", contents)
    stored, encoding = _cache.encode(arrays)
    assert encoding["correlation"] == "plain" and encoding["precision"] == "symmetric-lower"
    decoded = _cache.decode(_cache.read_npz(_cache.npz_bytes(stored)), encoding)
    for name, arr in arrays.items():
        assert decoded[name].dtype == arr.dtype and _bits(decoded[name]) == _bits(arr), name


# ------------------------------------------------------------------ damaged embedded files


@pytest.fixture
def damaged_copy(tmp_path, monkeypatch, offline):
    """A writable copy of the data folder that the package reads instead of its own."""
    copy = tmp_path / "data"
    shutil.copytree(DATA, copy)
    monkeypatch.setattr(_embedded, "root", lambda: copy)
    return copy


def test_tampered_embedded_file_is_refused(damaged_copy):
    path = damaged_copy / "6_6_2.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(FieldDataError, match=r"'6_6_2', file '6_6_2\.npz'.*does not match its metadata "
                                             r"6_6_2\.json.*sha256 .*refused before reading.*reinstall"):
        cp.load_field("6_6_2")


def test_truncated_or_missing_embedded_metadata_is_refused(damaged_copy):
    (damaged_copy / "5_3_8.json").write_text('{"format": "connectome-priors/field-ar')
    with pytest.raises(FieldDataError, match=r"'5_3_8', file '5_3_8\.json'.*unreadable metadata file.*reinstall"):
        cp.load_field("5_3_8")
    (damaged_copy / "6_6_2.npz").unlink()
    with pytest.raises(FieldDataError, match=r"'6_6_2', file '6_6_2\.npz'.*cannot read"):
        cp.load_field("6_6_2")


def _rewrite_consistently(folder: Path, field: str, stored: dict, edit_meta=None) -> None:
    """Replace the arrays and fix the metadata's sha256: reaches the checks behind the hash."""
    data = _cache.npz_bytes(stored) if isinstance(stored, dict) else stored
    (folder / f"{field}.npz").write_bytes(data)
    meta = json.loads((folder / f"{field}.json").read_text())
    meta["arrays"].update(size=len(data), sha256=_cache.sha256_bytes(data))
    if edit_meta:
        edit_meta(meta)
    (folder / f"{field}.json").write_text(json.dumps(meta))


def test_embedded_arrays_are_never_unpickled(damaged_copy, tmp_path):
    import io
    import zipfile

    marker = tmp_path / "unpickled"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        member = io.BytesIO()
        payload = np.empty(1, dtype=object)
        payload[0] = Exploit(str(marker))
        np.save(member, payload, allow_pickle=True)
        zf.writestr("root_ids.npy", member.getvalue())
    _rewrite_consistently(damaged_copy, "5_3_8", buf.getvalue())
    with pytest.raises(FieldDataError, match=r"'5_3_8', file '5_3_8\.npz'.*unreadable arrays.*allow_pickle"):
        cp.load_field("5_3_8")
    assert not marker.exists()


def test_embedded_content_is_checked_behind_the_hash(damaged_copy):
    stored = _cache.read_npz((damaged_copy / "5_3_8.npz").read_bytes())
    stored["correlation__lower"] = stored["correlation__lower"].copy()
    stored["correlation__lower"][3] = np.nan
    _rewrite_consistently(damaged_copy, "5_3_8", stored)
    with pytest.raises(FieldDataError, match=r"'5_3_8', file '5_3_8\.npz'.*NaN/inf"):
        cp.load_field("5_3_8")
    stored["correlation__lower"] = stored["correlation__lower"][:-1]
    _rewrite_consistently(damaged_copy, "5_3_8", stored)
    with pytest.raises(FieldDataError, match=r"'5_3_8', file '5_3_8\.npz'.*correlation.*lower triangle"):
        cp.load_field("5_3_8")


def test_embedded_file_from_other_sources_is_refused(damaged_copy):
    stored = _cache.read_npz((damaged_copy / "5_3_8.npz").read_bytes())
    _rewrite_consistently(damaged_copy, "5_3_8", stored,
                          lambda m: m["source"]["files"]["corr_matrix.npy"].update(sha256="0" * 64))
    with pytest.raises(FieldDataError, match=r"'5_3_8', file '5_3_8\.json'.*built from files other than the registry"):
        cp.load_field("5_3_8")
