"""Plans and deployments as text for people."""

from __future__ import annotations

from typing import Any

from service.client.output import Output

# Resource states that change something by themselves.
_ACTING_STATES = ("create", "adopt", "delete")
_RESULT_STYLES = {"deployed": "green", "deleted": "yellow", "unchanged": None}


def resource_changes(resource: dict[str, Any]) -> bool:
    if resource.get("state") in _ACTING_STATES or resource.get("stale"):
        return True
    plan = resource.get("plan")
    if plan is None:
        # Props waiting for other resources' outputs and nothing deployed yet.
        return resource.get("state") == "pending"
    return bool(plan.get("local_changes") or plan.get("remote_changes") or plan.get("conflicts"))


def has_changes(plan: dict[str, Any]) -> bool:
    """Whether deploying this project plan would change anything (terraform's exit 2)."""
    return any(resource_changes(r) for r in plan.get("resources", []))


def summary(plan: dict[str, Any]) -> str:
    counts: dict[str, int] = {}
    for r in plan.get("resources", []):
        if resource_changes(r):
            counts[r["state"]] = counts.get(r["state"], 0) + 1
    if not counts:
        return "No changes."
    parts = [f"{n} to {state}" for state, n in sorted(counts.items())]
    stale = plan.get("stale") or []
    if stale:
        parts.append(f"{len(stale)} changed outside this checkout ({', '.join(stale)})")
    return "Plan: " + ", ".join(parts) + "."


def plan(out: Output, project_plan: dict[str, Any]) -> None:
    where = f"account {project_plan.get('account')}"
    if project_plan.get("environment"):
        where += f", environment {project_plan['environment']}"
    out.line(
        f"Project {project_plan.get('project')} revision {project_plan.get('revision')} → "
        f"{where} (deployed there: revision {project_plan.get('target_revision') or 'none'})",
        "bold",
    )
    # The server's notes end its text; the one about `run` actions is this CLI's job.
    text = "\n".join(
        line
        for line in (project_plan.get("text") or "").splitlines()
        if not line.startswith("note: ")
    )
    if text:
        out.diff_text(text, "  ")
    for note in project_plan.get("notes") or []:
        if "CLI runs them" not in note:
            out.line(f"  note: {note}")
    for warning in project_plan.get("warnings") or []:
        out.line(f"  warning: {warning}", "yellow")
    out.line(summary(project_plan), "bold")


def deployment(out: Output, result: dict[str, Any]) -> None:
    rows = []
    for r in result.get("results") or []:
        revision = r.get("revision")
        error = r.get("error") or {}
        detail = f"revision {revision}" if revision is not None else ""
        if error:
            detail = str(error.get("detail") or error.get("code") or error)
        rows.append([str(r.get("resource")), str(r.get("function") or ""), r["status"], detail])
    if rows:
        out.table(["RESOURCE", "FUNCTION", "RESULT", ""], rows)
    for action in result.get("actions") or []:
        status = action.get("status") or action.get("result") or ""
        out.line(f"  action {action.get('hook')}-deploy {action.get('value', '')}: {status}")
    style = "green" if result.get("status") == "succeeded" else "red"
    out.line(
        f"Deployment {result.get('status')}: project {result.get('project')} revision "
        f"{result.get('revision')} → account {result.get('account')}.",
        style,
    )
