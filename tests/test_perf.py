"""The perf benchmark command runs end to end on a tiny network and prints finite rates."""

from __future__ import annotations

import re

import pytest

from connectome_priors.benchmarks import _perf


@pytest.mark.slow
def test_perf_command_prints_rates(microns_dir, capsys):
    rc = _perf.main(["--n-hidden", "42", "--field", "5_3_8", "--steps", "5", "--batch", "8",
                     "--seeds", "2", "--repeats", "1", "--inner", "2", "--skip-training"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "field 5_3_8 soma distances" in out  # the library's distances, not a stand-in
    rows = [line for line in out.splitlines() if re.match(r"^(plain|communicability),", line)]
    assert len(rows) == 4, out
    for row in rows:
        ms_per_step, steps_per_s, gflops = (float(x) for x in row.split()[-6:-3])
        assert ms_per_step > 0 and steps_per_s > 0 and gflops > 0
