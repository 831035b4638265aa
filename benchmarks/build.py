"""The build (service.build) against plain `pip install -t`, on 5 pure-Python packages.

Run it with `python benchmarks/build.py [--rounds N]`. Per round, median of N:

- cold build: an empty build cache; pip resolves and downloads on the host,
  installs in the sandbox, the package is zipped;
- cached build: the same inputs again (no pip at all);
- new source, same requirements: the installed tree is reused, only re-zipped;
- plain `pip install -t DIR -r requirements.txt` on the host (local Python,
  no sandbox, no target platform, no zip): the baseline.

Both pip runs use this machine's pip configuration and its HTTP cache.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from service.build import BuildRequest, build

REQUIREMENTS = "six==1.17.0\nidna==3.20\nattrs==26.1.0\ntoolz==1.1.0\nmore-itertools==11.1.0\n"
INDEX_PY = "import attrs, idna, more_itertools, six, toolz\n\ndef handler(e, c):\n    return 'ok'\n"


def source(index_py: str = INDEX_PY) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.py", index_py)
        archive.writestr("requirements.txt", REQUIREMENTS)
    return buf.getvalue()


async def timed_build(request: BuildRequest, cache: Path, work: Path) -> tuple[float, bool]:
    started = time.perf_counter()
    result = await build(request, cache_dir=cache, work_dir=work)
    return time.perf_counter() - started, result.cached


def plain_pip(root: Path) -> float:
    (root / "requirements.txt").write_text(REQUIREMENTS)
    started = time.perf_counter()
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    target = ["-t", str(root / "target"), "-r", str(root / "requirements.txt")]
    subprocess.run([*pip, *target], check=True, capture_output=True)  # pip warns on stderr
    return time.perf_counter() - started


async def main(rounds: int) -> None:
    cold, cached, reused, plain = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="fcplane-bench-build-") as tmp:
        root = Path(tmp)
        request = BuildRequest(source(), "python3.10")
        for n in range(rounds):
            cache, work = root / f"cache-{n}", root / "work"
            seconds, was_cached = await timed_build(request, cache, work)
            assert not was_cached
            cold.append(seconds)
            seconds, was_cached = await timed_build(request, cache, work)
            assert was_cached
            cached.append(seconds)
            changed = BuildRequest(source(INDEX_PY + f"# round {n}\n"), "python3.10")
            seconds, was_cached = await timed_build(changed, cache, work)
            assert not was_cached
            reused.append(seconds)
            pip_dir = root / f"pip-{n}"
            pip_dir.mkdir()
            plain.append(plain_pip(pip_dir))
        result = await build(request, cache_dir=root / "cache-0", work_dir=root / "work")
    packages = ", ".join(f"{p['name']} {p['version']}" for p in result.manifest["packages"])
    print(f"5 packages ({packages}), python3.10, median of {rounds} rounds:")
    rows = [
        ("cold build (resolve, sandboxed install, zip)", cold),
        ("cached build (same inputs)", cached),
        ("new source, same requirements (re-zip)", reused),
        ("plain `pip install -t` on the host", plain),
    ]
    for label, values in rows:
        median = statistics.median(values)
        print(f"  {label:<46} {median * 1000:8.0f} ms   (min {min(values) * 1000:.0f} ms)")
    ratio = statistics.median(cold) / statistics.median(plain)
    print(f"  cold build / plain pip: {ratio:.2f}x; package {len(result.package):,} bytes")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args().rounds))
