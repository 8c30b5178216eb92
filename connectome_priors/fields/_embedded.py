"""Fields shipped inside the package (``connectome_priors/fields/data/``), usable offline.

The paper's canonical field 6_6_2 and the small 5_3_8 are embedded as parsed, pickle-free
arrays (:mod:`connectome_priors.fields._cache` format), built from the published files by
``scripts/build_embedded.py`` (which calls :func:`build`). Each field's ``.json`` records
where the data came from (repository, commit, URL of each file and its sha256), the licences,
and the ``.npz``'s own sha256, checked before the arrays are read.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from . import _registry

FIELDS = ("5_3_8", "6_6_2")  # what scripts/build_embedded.py builds by default
BUILT_BY = "scripts/build_embedded.py"
PUBLISHED_FOLDER = "Model/DATA/info/"
URL_PATTERN = "https://raw.githubusercontent.com/{repository}/{commit}/" + PUBLISHED_FOLDER + "{field}/{file}"
LICENSES = {
    "code": "MIT (neurovium/CorticalBlueprintRNN, the paper's code and preprocessing; connectome-priors)",
    "data": "CC BY 4.0, MICrONS Consortium (MICrONS minnie65 data set)",
    "zenodo_doi": "10.5281/zenodo.20834365",
    "attribution": (
        "Derived from the MICrONS data set (MICrONS Consortium, CC BY 4.0) as preprocessed and published "
        "with 'Harnessing cortical geometry, wiring, and function as inductive biases for recurrent neural "
        "networks' (arXiv 2606.14975; software DOI 10.5281/zenodo.20834365). Changes: parsed into arrays, "
        "positions converted from voxels to um, STTC lower triangle mirrored, symmetric matrices stored "
        "as their lower triangle and the connectome as its nonzeros (lossless)."
    ),
}
CONTENTS = {
    "root_ids": "EM root (segment) id of each neuron, int64, the matrices' row order",
    "unit_ids": "functional unit id (calcium imaging), int64",
    "target_ids": "coregistration target id, int64",
    "positions": "soma position (x, y, z) in um = voxels * (4, 4, 40) / 1000, float64",
    "connectome": "EM synapse counts [pre, post], int64",
    "correlation": "Pearson correlation of spike counts in 0.2 s bins, float64",
    "sttc": "spike time tiling coefficient, dt = 0.1 s, symmetrized (file's lower triangle), float64",
    "precision": "GraphicalLassoCV precision of 0.2 s binned counts, float64",
}


def root():
    """The package's data folder (a Traversable; a Path for a normal install)."""
    return resources.files("connectome_priors.fields").joinpath("data")


def fields() -> tuple[str, ...]:
    """Ids of the fields embedded in this installation."""
    folder = root()
    if not folder.is_dir():
        return ()
    return tuple(sorted(p.name[: -len(".json")] for p in folder.iterdir() if p.name.endswith(".json")))


def source_files(field: str, names: list[str]) -> dict[str, dict[str, Any]]:
    """Registry size, sha256 and URL of the published files a field is built from."""
    files = _registry.field_files(field)
    return {
        name: {
            "size": files[name].size,
            "sha256": files[name].sha256,
            "url": URL_PATTERN.format(repository=_registry.REPOSITORY, commit=_registry.COMMIT,
                                      field=field, file=name),
        }
        for name in sorted(names)
    }


def metadata(field: str, names: list[str], *, embedded: bool) -> dict[str, Any]:
    """Provenance metadata of a stored field (embedded file or parsed cache entry)."""
    meta: dict[str, Any] = {
        "field": field,
        "source": {
            "repository": _registry.REPOSITORY,
            "commit": _registry.COMMIT,
            "folder": PUBLISHED_FOLDER,
            "url_pattern": URL_PATTERN,
            "files": source_files(field, names),
        },
        "contents": CONTENTS,
        "licenses": LICENSES,
    }
    if embedded:
        meta["built_by"] = BUILT_BY
    return meta
