"""The registry of published MICrONS field files: size and sha256 of every file, pinned commit.

The registry ships with the package (``registry.txt``), so listing fields and verifying
downloads never needs the network.
"""

from __future__ import annotations

import dataclasses
import functools
from importlib import resources

REPOSITORY = "neurovium/CorticalBlueprintRNN"
COMMIT = "8d5e241b444803ba552923d32a5fcef39439425b"
DEFAULT_BASE_URL = f"https://raw.githubusercontent.com/{REPOSITORY}/{COMMIT}/Model/DATA/info/"
NPY_HEADER_BYTES = 128  # numpy .npy v1 header of a small 1-D int64 array


@dataclasses.dataclass(frozen=True)
class RegistryEntry:
    """One published file: ``path`` relative to the field folder root (``<field>/<name>``)."""

    path: str
    size: int | None
    sha256: str | None  # None where the registry marks the file ``absent``

    @property
    def field(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.path.split("/", 1)[1]


@functools.cache
def registry() -> dict[str, RegistryEntry]:
    """All registry entries keyed by ``<field>/<file>``."""
    text = resources.files("connectome_priors.fields").joinpath("registry.txt").read_text()
    entries: dict[str, RegistryEntry] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        path, size, sha = line.split()
        known = sha != "absent"
        entries[path] = RegistryEntry(
            path=path,
            size=int(size) if size.isdigit() else None,
            sha256=sha if known else None,
        )
    return entries


@functools.cache
def field_ids() -> tuple[str, ...]:
    """Ids (``<session>_<scan>_<field>``) of every published field, sorted."""
    return tuple(sorted({e.field for e in registry().values()}, key=lambda f: tuple(map(int, f.split("_")))))


def field_files(field: str) -> dict[str, RegistryEntry]:
    """Registry entries of one field keyed by file name."""
    return {e.name: e for e in registry().values() if e.field == field}
