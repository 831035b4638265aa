"""`fcplane jobs`: start stress tests and evaluations, follow them, fetch their reports."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from service.client.connection import Api, Target
from service.client.errors import FAILED, OK, ClientError
from service.client.output import Output

FINISHED = ("succeeded", "failed", "cancelled")
POLL_SECONDS, POLL_MAX_SECONDS = 0.5, 2.0
REPORT_PATHS = {"summary": "/report", "locust": "/report/locust"}


def reports(job: dict[str, Any]) -> dict[str, str]:
    """The job's stored reports: name -> API path. Listed as names, or as
    ``{name, url}`` objects (the url is the server's public one: its own path is used)."""
    found: dict[str, str] = {}
    for item in job.get("reports") or []:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str):
            found[name] = f"/v1/jobs/{job['id']}" + REPORT_PATHS.get(name, f"/report/{name}")
    return found


def parse_params(pairs: list[str] | None, whole: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if whole:
        text = whole
        if whole.startswith("@"):
            try:
                text = Path(whole[1:]).read_text()
            except OSError as exc:
                raise ClientError(f"--params: cannot read {whole[1:]}: {exc.strerror}") from None
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            raise ClientError(f"--params is not JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise ClientError("--params must be a JSON object")
        params.update(loaded)
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ClientError(f"-p {pair!r}: write KEY=VALUE")
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


def run(
    out: Output,
    where: Target,
    kind: str,
    function: str,
    account: str | None,
    pairs: list[str] | None,
    whole: str | None,
    wait: bool,
    report: Path | None,
) -> int:
    from service.client.functions import locate

    params = parse_params(pairs, whole)
    with Api(where) as api:
        alias, name = locate(api, function, account)
        body = {"kind": kind, "account": alias, "function": name, "params": params}
        job = api.post("/v1/jobs", body)
        out.note(f"Job {job['id']}: {kind} of {name} in account {alias}, {job['status']}")
        if not wait:
            out.line(str(job["id"]))
            out.document(job)
            return OK
        return _finish(out, api, follow(out, api, job), report)


def follow(out: Output, api: Api, job: dict[str, Any]) -> dict[str, Any]:
    """Poll the job until it ends, showing its progress."""
    delay = POLL_SECONDS
    shown = ""
    try:
        with out.progress(str(job.get("kind", "job")), 1.0) as update:
            while job["status"] not in FINISHED:
                note = job.get("progress_note") or job["status"]
                update(float(job.get("progress") or 0.0), str(note))
                line = f"{job['status']} {float(job.get('progress') or 0):.0%} {note}"
                if not out.err_tty and line != shown:
                    out.note(f"  {line}")
                    shown = line
                time.sleep(delay)
                delay = min(delay * 1.5, POLL_MAX_SECONDS)
                job = api.get(f"/v1/jobs/{job['id']}")
    except KeyboardInterrupt:
        raise ClientError(
            f"stopped waiting; job {job['id']} goes on (`fcplane jobs show {job['id']} --wait`, "
            f"`fcplane jobs cancel {job['id']}`)",
            exit_code=130,
        ) from None
    return job


def _summary(job: dict[str, Any]) -> str:
    result = job.get("result") or {}
    if job.get("kind") == "stress" and result:
        latency = result.get("latency_ms") or {}
        failures = (result.get("failures") or {}).get("total", 0)
        return (
            f"{result.get('requests')} requests, {failures} failed, "
            f"{result.get('achieved_rps')} req/s, p50 {latency.get('p50')} ms, "
            f"p99 {latency.get('p99')} ms"
        )
    recommendation = result.get("recommendation")
    if recommendation:
        return "recommendation: " + json.dumps(recommendation, sort_keys=True)
    return json.dumps(result, sort_keys=True)[:300] if result else ""


def _finish(out: Output, api: Api, job: dict[str, Any], report: Path | None) -> int:
    status = job["status"]
    saved = None
    stored = reports(job)
    if "summary" in stored:
        saved = report or Path(f"{job.get('kind', 'job')}-{str(job['id'])[:8]}.html")
        _save(api, stored["summary"], saved)
    ok = status == "succeeded"
    out.line(f"Job {job['id']} {status}.", "green" if ok else "red")
    if job.get("error"):
        out.line(f"  error: {job['error']}", "red")
    summary = _summary(job)
    if summary:
        out.line(f"  {summary}")
    if saved is not None:
        out.line(f"  report: {saved}")
    out.document({**job, "report_file": str(saved) if saved else None})
    return OK if ok else FAILED


def _save(api: Api, path: str, target: Path) -> None:
    data = api.request("GET", path).content
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    except OSError as exc:
        raise ClientError(f"cannot write {target}: {exc.strerror or exc}") from None


def show(out: Output, where: Target, job_id: str, wait: bool, report: Path | None) -> int:
    with Api(where) as api:
        job = api.get(f"/v1/jobs/{job_id}")
        if wait:
            return _finish(out, api, follow(out, api, job), report)
    out.line(
        f"Job {job['id']}: {job['kind']} of {job.get('function') or 'no function'} "
        f"({job['account']}), "
        f"{job['status']} {float(job.get('progress') or 0):.0%}",
        "bold",
    )
    if job.get("progress_note"):
        out.line(f"  {job['progress_note']}")
    if job.get("error"):
        out.line(f"  error: {job['error']}", "red")
    summary = _summary(job)
    if summary:
        out.line(f"  {summary}")
    out.document(job)
    return OK


def listing(out: Output, where: Target, limit: int) -> int:
    with Api(where) as api:
        items = list(api.pages("/v1/jobs", limit=limit))
    rows = [
        [
            str(j["id"]),
            str(j["kind"]),
            f"{j['account']}/{j.get('function') or '-'}",
            str(j["status"]),
            str(j.get("created_at", ""))[:19],
        ]
        for j in items
    ]
    out.table(["ID", "KIND", "FUNCTION", "STATUS", "CREATED"], rows)
    out.document({"items": items})
    return OK


def cancel(out: Output, where: Target, job_id: str) -> int:
    with Api(where) as api:
        job = api.post(f"/v1/jobs/{job_id}/cancel", None)
    out.line(
        f"Job {job['id']}: {job['status']}"
        + (" (cancel requested)" if job.get("cancel_requested") else "")
    )
    out.document(job)
    return OK


def report(out: Output, where: Target, job_id: str, file: Path | None, locust: bool) -> int:
    with Api(where) as api:
        job = api.get(f"/v1/jobs/{job_id}")
        name = "locust" if locust else "summary"
        stored = reports(job)
        if file is not None:
            if name not in stored:
                raise ClientError(
                    f"job {job_id} has no {name} report (status {job['status']}; reports: "
                    f"{', '.join(stored) or 'none'})"
                )
            _save(api, stored[name], file)
            out.line(f"Saved the {name} report of job {job_id} to {file}.")
            return OK
    out.line(f"Job {job['id']} {job['status']}: {_summary(job)}")
    out.document(job)
    return OK if job["status"] == "succeeded" else FAILED
