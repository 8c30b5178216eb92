"""CI check: a plain install downloads, verifies and caches a field that is not embedded.

    python .ci/check_download.py ../shared/microns [--field 5_3_4]

Run it with the Python of a clean venv made with a plain ``pip install .`` (not editable, no
extras), from a directory outside the repository, so that the installed package is what gets
imported. It serves the given folder of published fields on a loopback HTTP server, in the
public URL layout (``/<owner>/<repo>/<commit>/Model/DATA/info/<field>/<file>``, the path of the
package's default URL), points ``$CONNECTOME_PRIORS_URL`` at it, uses an empty temporary
``$CONNECTOME_PRIORS_CACHE`` and no ``$CONNECTOME_PRIORS_DATA``, and checks that

1. an embedded field loads without any request;
2. the non-embedded field is downloaded (each published file once), verified, parsed to the
   same Dataset as the folder gives, and cached, without any warning;
3. loading it again makes no request and comes from the parsed cache;
4. the cross-field command (``python -m connectome_priors sweep``) runs on another field that is neither local nor
   cached (``--sweep-field``): it downloads each of its files once, verifies them, trains, and writes its report.

Exits 0 when all hold, else 1 with the reason.
"""

from __future__ import annotations

import argparse
import collections
import functools
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class Failure(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)


class Mirror:
    """``folder`` served on 127.0.0.1 under ``prefix``; counts the requests of each path."""

    def __init__(self, folder: Path, prefix: str):
        self.requests: collections.Counter[str] = collections.Counter()
        mirror = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def translate_path(self, path):
                path = urllib.parse.urlsplit(path).path
                if not path.startswith(prefix):
                    return str(folder / "__outside_the_published_layout__")  # 404
                return super().translate_path("/" + path[len(prefix):])

            def do_GET(self):  # noqa: N802 - http.server API
                mirror.requests[self.path] += 1
                super().do_GET()

            def log_message(self, *args):
                pass

        handler = functools.partial(Handler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}{prefix}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def total(self) -> int:
        return sum(self.requests.values())

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def run(folder: Path, field: str, allow_source: bool, sweep_field: str = "7_5_8") -> list[str]:
    import numpy as np
    import xarray as xr

    import connectome_priors as cp
    from connectome_priors.fields import _download, _embedded, _registry

    report = []
    location = Path(cp.__file__).resolve().parent
    report.append(f"connectome_priors {cp.__version__} imported from {location}")
    if not allow_source:
        check(REPO not in location.parents,
              f"connectome_priors was imported from the repository checkout ({location}), not from a plain install: "
              "run this with a venv made by `pip install .` (not -e), from a directory outside the repository")
    check((folder / field).is_dir(), f"{folder} has no folder {field}/ to serve")
    embedded = _embedded.fields()
    check(bool(embedded), f"the installed package has no embedded fields ({location / 'data'} is missing or empty)")
    check(field not in embedded, f"field {field} is embedded, so it does not exercise the download path")
    check(sweep_field not in embedded and sweep_field != field and (folder / sweep_field).is_dir(),
          f"--sweep-field {sweep_field} must be another field of {folder} that is not embedded")

    prefix = urllib.parse.urlsplit(_registry.DEFAULT_BASE_URL).path  # the public layout
    mirror = Mirror(folder, prefix)
    cache = Path(tempfile.mkdtemp(prefix="connectome-priors-cache-"))
    out = None  # the sweep's folder, once made
    os.environ.pop(_download.DATA_ENV, None)
    os.environ[_download.URL_ENV] = mirror.url
    os.environ[_download.CACHE_ENV] = str(cache)
    try:
        check(_download.base_url() == mirror.url, f"base_url() is {_download.base_url()}, expected {mirror.url}")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")

            ds = cp.load_field(embedded[0])
            check(ds.attrs["source"].startswith("embedded "), f"{embedded[0]}: source {ds.attrs['source']!r}")
            check(mirror.total() == 0, f"loading embedded field {embedded[0]} made {mirror.total()} requests")
            report.append(f"embedded {embedded[0]}: {ds.sizes['neuron']} neurons, no request")

            t0 = time.perf_counter()
            downloaded = cp.load_field(field)
            seconds = time.perf_counter() - t0
            names = _download.file_names(field)
            expected = {f"{prefix}{field}/{name}": 1 for name in names}
            check(dict(mirror.requests) == expected,
                  f"download requests {dict(mirror.requests)}, expected each of the {len(names)} files once")
            check(downloaded.attrs["source"].startswith(f"download {mirror.url}"),
                  f"{field}: source {downloaded.attrs['source']!r}, expected a download from {mirror.url}")
            report.append(f"downloaded {field}: {len(names)} files verified in {seconds:.2f} s from {mirror.url}")

            local = cp.load_field(field, data_dir=folder)
            try:
                xr.testing.assert_identical(downloaded.assign_attrs(source=""), local.assign_attrs(source=""))
            except AssertionError as exc:
                raise Failure(f"downloaded {field} differs from the published files: {exc}") from None
            check(mirror.total() == len(names), "loading from the folder made requests")

            raw = sorted(p.name for p in (cache / "raw" / field).iterdir())
            check(raw == sorted(names), f"raw cache holds {raw}, expected {sorted(names)}")
            parsed = sorted(p.name for p in (cache / "fields").iterdir())
            check(parsed == [f"{field}.json", f"{field}.npz"], f"parsed cache holds {parsed}")

            again = cp.load_field(field)
            check(mirror.total() == len(names), f"the second load made {mirror.total() - len(names)} new requests")
            check(again.attrs["source"] == f"cache {cache / 'fields' / field}.npz",
                  f"second load came from {again.attrs['source']!r}, expected the parsed cache")
            xr.testing.assert_identical(again.assign_attrs(source=""), local.assign_attrs(source=""))
            check(again.positions.dtype == np.float64 and again.neuron.dtype == np.int64, "dtypes changed in the cache")
            report.append(f"cached {field}: second load from {again.attrs['source']}, no request")

            # the cross-field command on a field that is neither local nor cached: it downloads and verifies it
            before = mirror.total()
            out = Path(tempfile.mkdtemp(prefix="connectome-priors-sweep-"))
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "connectome_priors", "sweep", "--fields", sweep_field, "--tasks", "3",
                 "--variants", "W*D*C,WD*C", "--seeds", "2", "--epochs", "1", "--quick", "--no-progress",
                 "--out", str(out)], capture_output=True, text=True, env=dict(os.environ))
            seconds = time.perf_counter() - t0
            check(proc.returncode == 0,
                  f"sweep --fields {sweep_field} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
            names = _download.file_names(sweep_field)
            got = {k: v for k, v in mirror.requests.items() if k.startswith(f"{prefix}{sweep_field}/")}
            want = {f"{prefix}{sweep_field}/{name}": 1 for name in names}
            check(got == want and mirror.total() == before + len(names),
                  f"the sweep's requests {got}, expected each of the {len(names)} files of {sweep_field} once")
            runs = sorted((out / "free" / sweep_field / "runs" / "Task3").glob("*/seed_*.json"))
            check(len(runs) == 4, f"the sweep stored {len(runs)} runs of {sweep_field}, expected 2 variants x 2 seeds")
            check((out / "report.md").is_file() and sweep_field in (out / "report.md").read_text(),
                  f"the sweep wrote no cross-field report naming {sweep_field}")
            report.append(f"sweep on {sweep_field}: downloaded {len(names)} files, verified, 4 runs and the "
                          f"cross-field report in {seconds:.0f} s")
        problems = [f"{w.category.__name__}: {w.message}" for w in caught if issubclass(w.category, RuntimeWarning)]
        check(not problems, "warnings while loading: " + "; ".join(problems))
    finally:
        mirror.close()
        shutil.rmtree(cache, ignore_errors=True)
        if out is not None:
            shutil.rmtree(out, ignore_errors=True)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder of published <field>/ folders (e.g. ../shared/microns)")
    parser.add_argument("--field", default="5_3_4", help="a field that is not embedded (default 5_3_4)")
    parser.add_argument("--sweep-field", default="7_5_8",
                        help="another field that is not embedded, for the cross-field command (default 7_5_8)")
    parser.add_argument("--allow-source", action="store_true",
                        help="accept a package imported from this checkout (editable install; for development)")
    args = parser.parse_args(argv)
    try:
        for line in run(args.folder.resolve(), args.field, args.allow_source, args.sweep_field):
            print(f"check_download: {line}")
    except Failure as exc:
        print(f"check_download: FAIL: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - any crash is a failed check, with its reason
        import traceback

        traceback.print_exc()
        print(f"check_download: FAIL: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print("check_download: OK")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
