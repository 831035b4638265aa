"""The commands that deploy: `fcplane deploy` (hooks around the project deploy) and
`fcplane rollback` (a project revision, or one function's)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from service.client import deploy as flow
from service.client.connection import Api, Target
from service.client.errors import FAILED, OK, ApiError, ClientError
from service.client.hooks import Hooks
from service.client.output import Output
from service.client.source import load


def deploy_project(
    out: Output,
    where: Target,
    template: Path | None,
    target: flow.Target,
    strategy: str | None,
    yes: bool,
    message: str | None,
    skip_actions: bool,
) -> int:
    project = load(template, target.environment)
    hooks = Hooks(project, out, skip_actions)
    document: dict[str, Any] = {"project": project.name, "hooks": hooks.ran}
    with Api(where) as api:
        # Reach the server (URL, token) before the hooks run: a build is no use without it.
        head = flow.head_revision(api, project.name)
        hooks.before()
        try:
            prepared = flow.prepare(api, out, project, message, head)
            target.revision = prepared.revision["number"]
            document.update(revision=target.revision, uploaded=prepared.uploaded)
            outcome = flow.apply(
                api,
                out,
                project.name,
                flow.lock_for(project),
                target,
                flag=strategy,
                yes=yes,
                message=message,
                code=prepared.code_of(),
            )
        except ClientError as error:
            hooks.after({}, False)  # nothing deployed: the project's `fail` and `complete`
            error.details.setdefault("hooks", hooks.ran)
            raise
    document.update(
        plan=outcome.plan,
        strategy=outcome.strategy,
        deployment=outcome.deployment,
        lock=outcome.lock,
    )
    if outcome.note:
        out.line(outcome.note)
        document["note"] = outcome.note
    if outcome.deployment is None:
        out.document(document)
        return outcome.exit_code
    failure = hooks.after(flow.results_by_resource(outcome.deployment), outcome.exit_code == OK)
    if failure:
        document["hook_failure"] = failure
        print(f"fcplane: {failure}", file=sys.stderr)
    out.document(document)
    return FAILED if failure else outcome.exit_code


def rollback(
    out: Output,
    where: Target,
    to: int,
    function: str | None,
    template: Path | None,
    environment: str | None,
    access: str | None,
    account: str | None,
    strategy: str | None,
    yes: bool,
    message: str | None,
) -> int:
    if function is not None:
        from service.client.functions import locate

        with Api(where) as api:
            alias, name = locate(api, function, account)
            return rollback_function(out, api, alias, name, to, strategy, yes, message)
    project = load(template, environment)
    target = flow.Target(to, access, environment, False)
    with Api(where) as api:
        outcome = flow.apply(
            api,
            out,
            project.name,
            flow.lock_for(project),
            target,
            flag=strategy,
            yes=yes,
            message=message or f"rollback to revision {to}",
            code=None,
        )
    out.document(
        {
            "project": project.name,
            "revision": to,
            "plan": outcome.plan,
            "strategy": outcome.strategy,
            "deployment": outcome.deployment,
            "lock": outcome.lock,
            "note": outcome.note,
        }
    )
    return outcome.exit_code


def rollback_function(
    out: Output,
    api: Api,
    account: str,
    name: str,
    to: int,
    strategy: str | None,
    yes: bool,
    message: str | None,
) -> int:
    path = f"/v1/accounts/{account}/functions/{name}"
    head = int(api.get(path)["head_revision"])
    body: dict[str, Any] = {
        "to_revision": to,
        "base_revision": head,
        "strategy": strategy or "fail",
        "message": message or f"rollback to revision {to}",
    }
    interactive = sys.stdin.isatty() and not yes
    if interactive and strategy is None:
        diff = api.get(f"{path}/diff", **{"from": head, "to": to}) if to != head else None
        out.line(f"Function {name} in account {account}: revision {head} → {to}", "bold")
        out.diff_text((diff or {}).get("text") or "no changes", "  ")
        if not flow.confirm(f"Roll {name} back to revision {to}?"):
            raise ClientError("aborted; nothing was deployed")
    response = api.request("POST", f"{path}/rollback", json=body, allow=(409,))
    if response.status_code == 409:
        problem = response.json()
        plan = problem.get("plan")
        if not isinstance(plan, dict) or strategy is not None:
            raise ApiError(409, problem, str(problem.get("detail")))
        out.diff_text(str(plan.get("text") or ""), "  ")
        what = "it changed since revision " + str(head)
        conflict = flow.Conflict("stale", f"function {name}: {what} ({problem.get('code')})")
        body["strategy"] = flow.decide(conflict, strategy, out, interactive)
        body["base_revision"] = plan.get("head_revision") or head
        response = api.request("POST", f"{path}/rollback", json=body)
    deployment: dict[str, Any] = response.json()
    ok = deployment.get("status") == "succeeded"
    out.line(
        f"Rollback of {name} to revision {to} {deployment.get('status')}: head is now revision "
        f"{deployment.get('to_revision')}.",
        "green" if ok else "red",
    )
    out.document(deployment)
    return OK if ok else FAILED
