"""Build the structural part of a field from live MICrONS tables through ``caveclient``.

Three materialization tables of the datastack (``minnie65_public``) are read with
``client.materialize.query_table``:

* the coregistration table (``coregistration_manual_v4``: ``target_id`` = nucleus id,
  ``session``, ``scan_idx``, ``field``, ``unit_id``) picks the neurons of an imaging field;
* the nucleus table (``nucleus_detection_v0``: ``id``, ``pt_root_id``, ``pt_position``) gives
  each neuron's EM root id and soma position;
* the synapse table (``synapses_pni_2``: ``pre_pt_root_id``, ``post_pt_root_id``) gives the
  synapses among those neurons, counted per (pre, post) pair.

Positions are requested in nm (``desired_resolution=[1, 1, 1]``) and returned in µm.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._load import AXES, CONNECTOME_ATTRS, PAIR

NM_RESOLUTION = [1.0, 1.0, 1.0]


def _query(client: Any, table: str, version: int | None, **kwargs: Any) -> pd.DataFrame:
    # merge_reference/metadata off: only the query itself is sent, no table-metadata lookups
    return client.materialize.query_table(
        table,
        materialization_version=version,
        merge_reference=False,
        metadata=False,
        split_positions=True,
        **kwargs,
    )


def _as_root_ids(root_ids: Sequence[int] | np.ndarray) -> np.ndarray:
    ids = np.asarray(root_ids)
    if ids.ndim != 1 or ids.size == 0 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"root_ids must be a non-empty 1-D sequence of integer root ids, got {ids.dtype} {ids.shape}")
    ids = ids.astype(np.int64)
    uniq, n_seen = np.unique(ids, return_counts=True)
    if (n_seen > 1).any():
        raise ValueError(f"root_ids has duplicates: {uniq[n_seen > 1][:10].tolist()}")
    if (ids <= 0).any():
        raise ValueError("root_ids must be positive (0 marks nuclei without a segment)")
    return ids


def _somata_of_roots(client, ids: np.ndarray, nucleus_table: str, version) -> pd.DataFrame:
    nuclei = _query(
        client, nucleus_table, version,
        filter_in_dict={"pt_root_id": ids.tolist()},
        select_columns=["id", "pt_root_id", "pt_position"],
        desired_resolution=NM_RESOLUTION,
    )
    per_root = nuclei.groupby("pt_root_id").size()
    missing = np.setdiff1d(ids, per_root.index.to_numpy())
    if missing.size:
        raise ValueError(f"{nucleus_table}: no nucleus for root ids {missing[:10].tolist()}")
    ambiguous = per_root.index[per_root > 1].to_numpy()
    if ambiguous.size:
        raise ValueError(
            f"{nucleus_table}: root ids {ambiguous[:10].tolist()} have several nuclei (merged segments): "
            "soma position is ambiguous"
        )
    nuclei = nuclei.set_index("pt_root_id").loc[ids].reset_index()
    return nuclei.assign(unit_id=np.int64(-1))


def _somata_of_field(client, session, scan, field, coreg_table, nucleus_table, version) -> pd.DataFrame:
    filters = {"session": int(session), "scan_idx": int(scan)}
    if field is not None:
        filters["field"] = int(field)
    coreg = _query(
        client, coreg_table, version,
        filter_equal_dict=filters,
        select_columns=["target_id", "session", "scan_idx", "field", "unit_id"],
    )
    if coreg.empty:
        raise ValueError(f"{coreg_table}: no coregistered units for {filters}")
    nuclei = _query(
        client, nucleus_table, version,
        filter_in_dict={"id": sorted({int(t) for t in coreg["target_id"]})},
        select_columns=["id", "pt_root_id", "pt_position"],
        desired_resolution=NM_RESOLUTION,
    )
    merged = coreg.merge(nuclei, left_on="target_id", right_on="id", how="inner")
    merged = merged[merged["pt_root_id"] > 0]  # nucleus not attached to any segment
    # a neuron imaged as several units (or a merged segment): keep its lowest unit id
    merged = merged.sort_values(["unit_id", "id"]).drop_duplicates("pt_root_id", keep="first")
    if merged.empty:
        raise ValueError(f"{coreg_table}: none of the units for {filters} maps to a segmented nucleus")
    return merged.reset_index(drop=True)


def from_cave(
    client: Any,
    *,
    root_ids: Sequence[int] | np.ndarray | None = None,
    session: int | None = None,
    scan: int | None = None,
    field: int | None = None,
    synapse_table: str = "synapses_pni_2",
    nucleus_table: str = "nucleus_detection_v0",
    coreg_table: str = "coregistration_manual_v4",
    materialization_version: int | None = None,
) -> xr.Dataset:
    """Structural field (soma positions, synapse counts) from live MICrONS tables.

    Give either ``root_ids`` (neurons in that order; each must have exactly one nucleus) or
    ``session`` and ``scan`` (optionally ``field``): the coregistered neurons of that imaging
    field, ordered by functional ``unit_id`` (a neuron matched to several units keeps the
    lowest; nuclei without a segment are dropped).

    ``connectome[pre, post] = #{synapses s : pre_root(s) = pre, post_root(s) = post}``,
    counted from ``synapse_table``; self-synapses (pre = post, segmentation artefacts) are
    excluded, as in the published fields (zero diagonal).

    Returns:
        The layout of :func:`~connectome_priors.load_field` for its structural part:
        ``positions`` (neuron, axis) in µm and ``connectome`` (pre, post) int64, coordinates
        ``neuron``/``pre``/``post`` (root ids), ``unit_id`` (-1 when chosen by root id) and
        ``target_id`` (nucleus id). The functional variables (``correlation``, ``sttc``,
        ``precision``) are absent: they need calcium imaging, not in these tables.

    Example::

        >>> from caveclient import CAVEclient                        # doctest: +SKIP
        >>> client = CAVEclient("minnie65_public")                  # doctest: +SKIP
        >>> ds = from_cave(client, session=6, scan=6, field=2)      # doctest: +SKIP
        >>> ds.connectome.dims                                      # doctest: +SKIP
        ('pre', 'post')
    """
    by_field = session is not None or scan is not None or field is not None
    if (root_ids is None) == (not by_field):
        raise ValueError("give either root_ids or session and scan (and optionally field), not both or neither")
    version = materialization_version
    if root_ids is not None:
        somata = _somata_of_roots(client, _as_root_ids(root_ids), nucleus_table, version)
        label, s, sc, f = "root_ids", -1, -1, -1
    else:
        if session is None or scan is None:
            raise ValueError("session and scan are both needed to select an imaging field")
        somata = _somata_of_field(client, session, scan, field, coreg_table, nucleus_table, version)
        s, sc, f = int(session), int(scan), -1 if field is None else int(field)
        label = f"{s}_{sc}" + ("" if field is None else f"_{f}")
    ids = somata["pt_root_id"].to_numpy(np.int64)
    positions_nm = somata[[f"pt_position_{a}" for a in AXES]].to_numpy(np.float64)
    synapses = _query(
        client, synapse_table, version,
        filter_in_dict={"pre_pt_root_id": ids.tolist(), "post_pt_root_id": ids.tolist()},
        select_columns=["pre_pt_root_id", "post_pt_root_id"],
    )
    connectome = _count_synapses(ids, synapses["pre_pt_root_id"].to_numpy(), synapses["post_pt_root_id"].to_numpy())
    if version is None:
        version = client.materialize.version
    return xr.Dataset(
        {
            "positions": (("neuron", "axis"), positions_nm / 1000.0, {"units": "um", "description": "soma position"}),
            "connectome": (PAIR, connectome, CONNECTOME_ATTRS),
        },
        coords={
            "neuron": ("neuron", ids),
            "pre": ("pre", ids),
            "post": ("post", ids),
            "axis": ("axis", list(AXES)),
            "unit_id": ("neuron", somata["unit_id"].to_numpy(np.int64)),
            "target_id": ("neuron", somata["id"].to_numpy(np.int64)),
        },
        attrs={
            "field": label,
            "session": s,
            "scan": sc,
            "imaging_field": f,
            "position_units": "um",
            "source": f"caveclient {client.server_address} datastack {client.datastack_name} "
            f"materialization version {version}",
            "tables": f"{coreg_table if root_ids is None else ''} {nucleus_table} {synapse_table}".strip(),
            "self_synapses": "excluded",
            "synthetic": 0,
        },
    )


def _count_synapses(ids: np.ndarray, pre: np.ndarray, post: np.ndarray) -> np.ndarray:
    """Synapse-count matrix among ``ids`` (rows presynaptic), self-synapses dropped."""
    n = len(ids)
    order = np.argsort(ids)
    sorted_ids = ids[order]

    def index_of(roots):
        pos = np.clip(np.searchsorted(sorted_ids, roots), 0, n - 1)
        return order[pos], sorted_ids[pos] == roots

    i, pre_ok = index_of(np.asarray(pre, dtype=np.int64))
    j, post_ok = index_of(np.asarray(post, dtype=np.int64))
    keep = pre_ok & post_ok & (i != j)  # the server filter should already ensure membership
    return np.bincount(i[keep] * n + j[keep], minlength=n * n).reshape(n, n).astype(np.int64)
