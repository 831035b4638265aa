"""The Serverless Devs reference files the project tests read.

They live outside the repository (the engineering team's reference set) and are
read in place, never copied. ``FCPLANE_SHARED_DIR`` points at that set; without
it the repository's sibling ``shared/`` and ``/work/shared`` are tried. Missing
files skip a local run and fail a CI run (CI=true).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import IN_CI

_REPO = Path(__file__).resolve().parents[2]


def _candidates() -> list[Path]:
    given = os.environ.get("FCPLANE_SHARED_DIR")
    if given:
        return [Path(given)]
    return [_REPO.parent / "shared", Path("/work/shared")]


def sdevs_fixtures() -> Path:
    """``<shared>/sdevs/fixtures``; skips (fails under CI=true) when absent."""
    for root in _candidates():
        path = root / "sdevs" / "fixtures"
        if path.is_dir():
            return path
    message = "the Serverless Devs fixtures are missing (set FCPLANE_SHARED_DIR)"
    if IN_CI:
        pytest.fail(message + "; CI=true requires them", pytrace=False)
    pytest.skip(message)


def _root_or_none() -> Path | None:
    for root in _candidates():
        path = root / "sdevs" / "fixtures"
        if path.is_dir():
            return path
    return None


def fixture_names(subdir: str, pattern: str) -> list[str]:
    """Names (relative to ``subdir``) for ``pytest.mark.parametrize``, at collection time.

    When the set is missing this returns one placeholder, so the test still runs
    and its ``sdevs_fixtures()`` call skips or fails instead of collecting nothing.
    """
    root = _root_or_none()
    if root is None:
        return ["(fixtures missing)"]
    return sorted(str(p.relative_to(root / subdir)) for p in (root / subdir).glob(pattern))
