"""Shared fixtures: the reference MICrONS fields (read through CONNECTOME_PRIORS_DATA)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_FIELDS = ("4_7_2", "5_3_4", "5_3_8", "5_6_8", "6_6_2")
FIELDS_WITH_SPIKES = ("4_7_2", "5_3_4", "5_3_8", "5_6_8")


@pytest.fixture(scope="session")
def microns_dir() -> Path:
    """The directory holding the published field folders, or skip (CI always sets it)."""
    value = os.environ.get("CONNECTOME_PRIORS_DATA")
    if not value:
        if os.environ.get("CI"):
            pytest.fail("CI must set CONNECTOME_PRIORS_DATA to the shared MICrONS fields")
        pytest.skip("CONNECTOME_PRIORS_DATA is not set: no reference MICrONS fields to test against")
    path = Path(value)
    if not (path / "6_6_2").is_dir():
        pytest.fail(f"CONNECTOME_PRIORS_DATA={value} does not hold the published field folders")
    return path


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own download/parse cache, so no test sees another's files."""
    monkeypatch.setenv("CONNECTOME_PRIORS_CACHE", str(tmp_path_factory.mktemp("cache")))
