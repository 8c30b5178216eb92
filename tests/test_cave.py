"""from_cave through a real CAVEclient talking to a local HTTP test double of the services.

The double answers the requests caveclient 8.x makes: the info service (version, datastack
info), the materialization service (API versions, server version, datastack versions) and
simple table queries (filter_in / filter_equal / select_columns / desired_resolution),
answered as an Arrow IPC stream, as the real service does. Tables are small pandas frames.
"""

from __future__ import annotations

import collections
import http.server
import io
import json
import re
import threading

import numpy as np
import pandas as pd
import pytest

caveclient = pytest.importorskip("caveclient")
pa = pytest.importorskip("pyarrow")

from connectome_priors import from_cave  # noqa: E402

DATASTACK = "minnie65_public"
VOXEL_NM = np.array([4.0, 4.0, 40.0])


class CaveDouble:
    """Minimal stand-in for the CAVE info + materialization services on 127.0.0.1."""

    def __init__(self, tables: dict[str, pd.DataFrame], version: int = 1078):
        self.tables, self.version = tables, version
        self.queries: list[tuple[str, dict]] = []
        double = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _send(self, body: bytes, content_type="application/json", code=200, headers=()):
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in headers:
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):  # noqa: N802
                path = self.path.split("?")[0]
                routes = {
                    "/info/version": "4.0.0",
                    f"/info/api/v2/datastack/full/{DATASTACK}": double.datastack_info(),
                    "/materialize/api/versions": [2, 3],
                    "/materialize/version": "5.20.0",  # >= 5.13: arrow query responses
                    f"/materialize/api/v3/datastack/{DATASTACK}/versions": [double.version],
                }
                if path not in routes:
                    return self._send(b'{"message": "not served by the test double"}', code=404)
                self._send(json.dumps(routes[path]).encode())

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                match = re.fullmatch(
                    rf"/materialize/api/v3/datastack/{DATASTACK}/version/(\d+)/table/(\w+)/query",
                    self.path.split("?")[0],
                )
                if not match or match.group(2) not in double.tables or int(match.group(1)) != double.version:
                    return self._send(b'{"message": "no such table or version"}', code=404)
                table = match.group(2)
                double.queries.append((table, body))
                frame = double.answer(table, body)
                sink = io.BytesIO()
                arrow = pa.Table.from_pandas(frame, preserve_index=False)
                with pa.ipc.new_stream(sink, arrow.schema) as writer:
                    writer.write_table(arrow)
                resolution = body.get("desired_resolution") or VOXEL_NM.tolist()
                self._send(sink.getvalue(), "data.arrow", headers=[("dataframe_resolution", json.dumps(resolution))])

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def datastack_info(self) -> dict:
        return {
            "datastack": DATASTACK,
            "aligned_volume": {"name": "minnie65_phase3", "id": 1, "image_source": "precomputed://img"},
            "local_server": self.url,
            "segmentation_source": f"graphene://{self.url}/segmentation/table/minnie3_v1",
            "synapse_table": "synapses_pni_2",
            "soma_table": "nucleus_detection_v0",
            "viewer_resolution_x": 4.0,
            "viewer_resolution_y": 4.0,
            "viewer_resolution_z": 40.0,
        }

    def answer(self, table: str, body: dict) -> pd.DataFrame:
        frame = self.tables[table]
        for column, values in body.get("filter_in_dict", {}).get(table, {}).items():
            frame = frame[frame[column].isin(values)]
        for column, value in body.get("filter_equal_dict", {}).get(table, {}).items():
            frame = frame[frame[column] == value]
        frame = frame.copy()
        scale = VOXEL_NM / np.asarray(body.get("desired_resolution") or VOXEL_NM)
        for column in [c for c in frame.columns if c.endswith("_position")]:
            xyz = np.array(frame[column].tolist(), dtype=float).reshape(-1, 3) * scale
            frame = frame.drop(columns=column)
            for k, axis in enumerate("xyz"):  # split_positions=True
                frame[f"{column}_{axis}"] = xyz[:, k]
        selected = body.get("select_columns")
        if selected:
            frame = frame[[c for c in frame.columns if any(c == s or c.startswith(s + "_") for s in selected)]]
        return frame.reset_index(drop=True)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _tables(rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    roots = np.arange(1, 13, dtype=np.int64) + 864691135000000000
    nucleus = pd.DataFrame(
        {
            "id": np.arange(100, 114, dtype=np.int64),
            "valid": True,
            # nucleus 112 has no segment (root 0); root 11 is a merger with two nuclei
            "pt_root_id": np.concatenate([roots, [0, roots[10]]]),
            "pt_position": [rng.integers(1000, 200000, 3).tolist() for _ in range(14)],
        }
    )
    coreg = pd.DataFrame(
        {
            "id": np.arange(1, 12),
            "target_id": np.array([100, 101, 102, 103, 104, 112, 105, 106, 107, 101, 108], dtype=np.int64),
            "session": [6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5],
            "scan_idx": [6, 6, 6, 6, 6, 6, 6, 6, 7, 6, 6],
            "field": [2, 2, 2, 2, 2, 2, 4, 4, 2, 2, 2],
            "unit_id": [40, 12, 33, 7, 21, 5, 8, 9, 1, 3, 2],
            "residual": 1.0,
            "score": 5.0,
        }
    )
    pre = rng.choice(roots, 300)
    post = rng.choice(roots, 300)
    outside = np.int64(864691136999999999)  # synapses onto a neuron outside every field
    synapses = pd.DataFrame(
        {
            "id": np.arange(310, dtype=np.int64),
            "pre_pt_root_id": np.concatenate([pre, np.full(10, roots[0])]),
            "post_pt_root_id": np.concatenate([post, np.full(10, outside)]),
            "size": rng.integers(50, 5000, 310),
            "ctr_pt_position": [[1, 2, 3]] * 310,
        }
    )
    return {"nucleus_detection_v0": nucleus, "coregistration_manual_v4": coreg, "synapses_pni_2": synapses}


@pytest.fixture
def cave(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))  # caveclient must not touch the user's config
    tables = _tables(np.random.default_rng(0))
    double = CaveDouble(tables)
    client = caveclient.CAVEclient(
        DATASTACK, server_address=double.url, auth_token="test-token", write_server_cache=False
    )
    yield client, tables, double
    double.close()


def _oracle_counts(synapses: pd.DataFrame, ids) -> np.ndarray:
    counts = collections.Counter(zip(synapses.pre_pt_root_id, synapses.post_pt_root_id))
    return np.array([[counts[(a, b)] if a != b else 0 for b in ids] for a in ids])


def test_field_mode_builds_coregistered_neurons(cave, tmp_path):
    client, tables, double = cave
    ds = from_cave(client, session=6, scan=6, field=2)
    nucleus = tables["nucleus_detection_v0"]
    # expected neurons, from the tables by hand: session 6, scan 6, field 2, segmented nuclei,
    # root 2 (nucleus 101) matched by units 12 and 3 -> keeps unit 3; ordered by unit id
    want_units = [3, 7, 21, 33, 40]
    want_targets = [101, 103, 104, 102, 100]
    np.testing.assert_array_equal(ds.unit_id.values, want_units)
    np.testing.assert_array_equal(ds.target_id.values, want_targets)
    roots = nucleus.set_index("id").loc[want_targets, "pt_root_id"].to_numpy()
    for dim in ("neuron", "pre", "post"):
        np.testing.assert_array_equal(ds[dim].values, roots)
        assert ds[dim].dtype == np.int64
    voxels = np.array(nucleus.set_index("id").loc[want_targets, "pt_position"].tolist(), dtype=float)
    np.testing.assert_allclose(ds.positions.values, voxels * VOXEL_NM / 1000.0, rtol=1e-12)
    assert list(ds.axis.values) == ["x", "y", "z"]
    np.testing.assert_array_equal(ds.connectome.values, _oracle_counts(tables["synapses_pni_2"], roots))
    assert ds.connectome.dtype == np.int64 and ds.connectome.values.sum() > 0
    assert {"correlation", "sttc", "precision"}.isdisjoint(ds.data_vars)
    assert (ds.attrs["field"], ds.attrs["session"], ds.attrs["scan"], ds.attrs["imaging_field"]) == ("6_6_2", 6, 6, 2)
    assert "materialization version 1078" in ds.attrs["source"] and double.url in ds.attrs["source"]
    ds.to_netcdf(tmp_path / "cave.nc", engine="h5netcdf")  # attrs are netCDF-serializable


def test_layout_matches_load_field(cave, microns_dir):
    from connectome_priors import load_field

    client, _, _ = cave
    ds = from_cave(client, session=6, scan=6)
    ref = load_field("5_3_8", data_dir=microns_dir)
    assert ds.positions.dims == ref.positions.dims and ds.connectome.dims == ref.connectome.dims
    assert set(ds.coords) == set(ref.coords)
    for name in ("neuron", "unit_id", "target_id"):
        assert ds[name].dtype == ref[name].dtype
    assert ds.attrs["field"] == "6_6" and ds.attrs["imaging_field"] == -1
    assert ds.sizes["neuron"] == 7  # fields 2 and 4 of scan 6


def test_root_id_mode_keeps_given_order(cave):
    client, tables, double = cave
    nucleus = tables["nucleus_detection_v0"]
    roots = nucleus.pt_root_id.to_numpy()[[5, 0, 8, 3]]
    ds = from_cave(client, root_ids=roots)
    np.testing.assert_array_equal(ds.neuron.values, roots)
    np.testing.assert_array_equal(ds.target_id.values, [105, 100, 108, 103])
    np.testing.assert_array_equal(ds.unit_id.values, -1)
    np.testing.assert_array_equal(ds.connectome.values, _oracle_counts(tables["synapses_pni_2"], roots))
    # the synapse query asked only for synapses among these neurons
    table, body = double.queries[-1]
    assert table == "synapses_pni_2"
    assert sorted(body["filter_in_dict"]["synapses_pni_2"]["pre_pt_root_id"]) == sorted(roots.tolist())


def test_bad_requests_are_refused(cave):
    client, tables, _ = cave
    roots = tables["nucleus_detection_v0"].pt_root_id.to_numpy()
    with pytest.raises(ValueError, match="either root_ids or session and scan"):
        from_cave(client)
    with pytest.raises(ValueError, match="either root_ids or session and scan"):
        from_cave(client, root_ids=roots[:2], session=6, scan=6)
    with pytest.raises(ValueError, match="session and scan are both needed"):
        from_cave(client, session=6)
    with pytest.raises(ValueError, match=r"no nucleus for root ids \[42\]"):
        from_cave(client, root_ids=[roots[0], 42])
    with pytest.raises(ValueError, match=rf"root ids \[{roots[10]}\] have several nuclei"):
        from_cave(client, root_ids=[roots[0], roots[10]])
    with pytest.raises(ValueError, match="duplicates"):
        from_cave(client, root_ids=[roots[0], roots[0]])
    with pytest.raises(ValueError, match=r"coregistration_manual_v4: no coregistered units for .*'session': 9"):
        from_cave(client, session=9, scan=1)
