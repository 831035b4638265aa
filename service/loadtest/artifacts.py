"""The files a stress job keeps for download: Locust's CSV reports and fcplane's
per-second timeline as JSON and CSV (GET /v1/jobs/{id}/artifacts)."""

from __future__ import annotations

import csv
import io
import json
import logging
from typing import Any

from service.jobs.contract import Artifact

log = logging.getLogger(__name__)

# Per file: a long run's stats history grows by a row per second and request name.
MAX_ARTIFACT_BYTES = 4 * 1024 * 1024
TIMELINE_COLUMNS = ("t", "rps", "p50_ms", "p99_ms", "failures")


def timeline_csv(timeline: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, TIMELINE_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in timeline:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in TIMELINE_COLUMNS})
    return out.getvalue().encode()


def stress_artifacts(
    timeline: list[dict[str, Any]], locust_csvs: dict[str, bytes]
) -> dict[str, Artifact]:
    files = {
        "timeline.json": Artifact("application/json", json.dumps(timeline).encode()),
        "timeline.csv": Artifact("text/csv", timeline_csv(timeline)),
        **{name: Artifact("text/csv", content) for name, content in locust_csvs.items()},
    }
    kept = {}
    for name, artifact in files.items():
        if len(artifact.content) > MAX_ARTIFACT_BYTES:
            log.warning("stress artifact %s is %d bytes; not kept", name, len(artifact.content))
            continue
        kept[name] = artifact
    return kept
