"""`fcplane plan` and `fcplane deploy`: the project from disk to a deployment.

deploy: `pre` hooks → zip and hash each code directory → upload what the
server lacks → submit the source (a project revision; the same source is the
same revision) → plan → resolve a conflict (flag, prompt, or refuse) → deploy
→ record the result in the lock file → `success`/`fail`/`complete` hooks.

Two kinds of conflict, never resolved silently:
- *stale resources*: something changed a function since this project last
  deployed it (a console edit, another tool). The strategy flags or the prompt
  pick use-local, use-remote or merge, which the server applies field by field.
- *another project deploy*: the account runs a project revision other than the
  one in this checkout's lock. Deploying would revert that deploy's changes, so
  it takes --use-local (overwrite it) or --use-remote (keep it: nothing is
  deployed and the lock moves to it). The server can merge only with FC's live
  state, not with another deploy of the source, so merge is refused for it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from service.client import render
from service.client.connection import Api
from service.client.errors import CHANGES, FAILED, OK, ApiError, ClientError, problem_message
from service.client.lockfile import Lock
from service.client.output import Output
from service.client.packaging import Package, package_all, upload_missing
from service.client.source import LocalProject

STRATEGIES = ("use-local", "use-remote", "merge")
_CHOICES = {"l": "use-local", "r": "use-remote", "m": "merge", "a": "abort"}


@dataclass
class Target:
    """What to plan or deploy, as the plan and deploy requests name it."""

    revision: int | None = None
    access: str | None = None
    environment: str | None = None
    adopt: bool = False

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"adopt": self.adopt}
        for key in ("revision", "access", "environment"):
            if getattr(self, key) is not None:
                body[key] = getattr(self, key)
        return body


@dataclass
class Prepared:
    project: LocalProject
    packages: dict[str, Package]
    uploaded: list[str]
    revision: dict[str, Any]

    def code_of(self) -> dict[str, dict[str, str]]:
        """Per resource: its `code` as written -> the sha256 sent."""
        found: dict[str, dict[str, str]] = {}
        for name, resource in self.project.spec.resources.items():
            code = resource.props.get("code")
            if isinstance(code, str) and code in self.packages:
                found[name] = {code: self.packages[code].sha256}
        return found


def head_revision(api: Api, name: str) -> int:
    """The project's newest source revision (0: no such project yet)."""
    found = api.request("GET", f"/v1/projects/{name}", allow=(404,))
    return int(found.json().get("head_revision", 0)) if found.status_code == 200 else 0


def prepare(
    api: Api, out: Output, project: LocalProject, message: str | None, head: int | None = None
) -> Prepared:
    """Zip, upload what is missing, submit the source: the project revision."""
    packages = package_all(project.code)
    uploaded = upload_missing(api, list(packages.values()), out)
    code = {k: p.sha256 for k, p in packages.items()}
    if head is None:
        head = head_revision(api, project.name)
    revision = submit(api, project, code, message, head)
    return Prepared(project, packages, uploaded, revision)


def submit(
    api: Api, project: LocalProject, code: dict[str, str], message: str | None, head: int
) -> dict[str, Any]:
    """POST the source on top of the head. The files on disk are what the user wants;
    another source submitted meanwhile is history, not a conflict (deploys are checked)."""
    body: dict[str, Any] = {
        "name": project.name,
        "files": project.files,
        "main": project.main,
        "code": code,
        "env": project.env,
        "base_revision": head,
        "message": message,
    }
    for _ in range(3):
        response = api.request("POST", "/v1/projects", json=body, allow=(409,))
        if response.status_code != 409:
            revision: dict[str, Any] = response.json()
            return revision
        moved = response.json().get("head_revision")
        if not isinstance(moved, int):
            raise ApiError(409, response.json(), "the project changed while submitting it")
        body["base_revision"] = moved
    raise ClientError(f"project {project.name} keeps changing on the server; try again")


def plan(api: Api, name: str, target: Target) -> dict[str, Any]:
    result: dict[str, Any] = api.post(f"/v1/projects/{name}/plan", target.body())
    return result


def plan_command(api: Api, out: Output, project: LocalProject, target: Target) -> int:
    """`fcplane plan`: the exit code as with --detailed-exitcode (0 or 2)."""
    prepared = prepare(api, out, project, None)
    target.revision = prepared.revision["number"]
    result = plan(api, project.name, target)
    changes = render.has_changes(result)
    render.plan(out, result)
    out.document({**result, "changes": changes, "uploaded": prepared.uploaded})
    return CHANGES if changes else OK


# -- conflicts ---------------------------------------------------------------------------


@dataclass
class Conflict:
    kind: str  # revision | stale
    message: str

    @property
    def choices(self) -> tuple[str, ...]:
        return ("use-local", "use-remote") if self.kind == "revision" else STRATEGIES


def conflict_of(result: dict[str, Any], base: int) -> Conflict | None:
    account, deployed = result.get("account"), result.get("target_revision", 0)
    if base != deployed and render.has_changes(result):
        mine = f"revision {base}" if base else "nothing (no lock entry)"
        return Conflict(
            "revision",
            f"account {account} runs project revision {deployed}, deployed since this "
            f"checkout's lock recorded {mine}: your deploy would revert its changes",
        )
    stale = result.get("stale") or []
    if stale:
        them = "them" if len(stale) > 1 else "it"
        return Conflict(
            "stale",
            f"{', '.join(stale)} changed since this project last deployed {them} "
            "(a console edit, another tool or deploy)",
        )
    return None


def decide(conflict: Conflict, flag: str | None, out: Output, interactive: bool) -> str:
    """The strategy for ``conflict``: the flag, the user's answer, or a refusal."""
    if flag is not None:
        if flag not in conflict.choices:
            raise ClientError(
                f"conflict: {conflict.message}. fcplane merges with changes made in FC, not "
                "with another deploy of the project: fetch it (`fcplane sync project`), merge "
                "it into your files and deploy again, or overwrite it with --use-local"
            )
        return flag
    if not interactive:
        flags = [f"--{c}" for c in conflict.choices]
        raise ClientError(
            f"conflict: {conflict.message}; nothing was deployed. Review the plan and deploy "
            f"again with {', '.join(flags[:-1])} or {flags[-1]}",
            conflict=conflict.kind,
        )
    out.note(f"\nConflict: {conflict.message}.")
    options = {
        "use-local": "l) use-local   deploy your files, overwriting those changes",
        "use-remote": "r) use-remote  keep what runs now as the new base (your changes are "
        "not deployed)",
        "merge": "m) merge       apply both sides' non-conflicting changes",
    }
    for choice in conflict.choices:
        out.note("  " + options[choice])
    out.note("  a) abort")
    keys = [k for k, v in _CHOICES.items() if v in conflict.choices or v == "abort"]
    while True:
        answer = ask(f"Choose [{'/'.join(keys)}]: ").lower()
        chosen = _CHOICES.get(answer[:1]) if answer else None
        if chosen == "abort" or answer == "":
            raise ClientError("aborted; nothing was deployed")
        if chosen in conflict.choices:
            return chosen


def ask(question: str) -> str:
    sys.stderr.write(question)
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        return ""
    return line.strip()


def confirm(question: str) -> bool:
    return ask(f"{question} [y/N]: ").lower() in ("y", "yes")


# -- deploy ------------------------------------------------------------------------------


@dataclass
class Outcome:
    exit_code: int
    deployment: dict[str, Any] | None
    plan: dict[str, Any]
    strategy: str
    lock: dict[str, Any] = field(default_factory=dict)
    note: str | None = None


@dataclass
class Settled:
    strategy: str
    base: int
    keep_remote: bool = False  # use-remote against another project deploy: deploy nothing
    asked: bool = False


def settle(
    result: dict[str, Any], base: int, flag: str | None, out: Output, interactive: bool
) -> Settled:
    """The strategy and base_revision to deploy ``result`` (a project plan) with."""
    deployed = int(result.get("target_revision") or 0)
    conflict = conflict_of(result, base)
    if conflict is None:
        # Another deploy may have landed, but this one would change nothing of it.
        return Settled(flag or "fail", deployed)
    try:
        strategy = decide(conflict, flag, out, interactive)
    except ClientError as error:
        error.details.setdefault("plan", result)  # `-o json`: the plan it refused
        raise
    if conflict.kind == "revision":
        return Settled(strategy, deployed, strategy == "use-remote", flag is None)
    return Settled(strategy, base, False, flag is None)


def apply(
    api: Api,
    out: Output,
    name: str,
    lock: Lock,
    target: Target,
    *,
    flag: str | None,
    yes: bool,
    message: str | None,
    code: dict[str, dict[str, str]] | None,
) -> Outcome:
    """Plan ``target``, settle conflicts, deploy, and record the result in ``lock``."""
    interactive = sys.stdin.isatty() and not yes
    result = plan(api, name, target)
    render.plan(out, result)
    account = str(result["account"])
    settled = settle(result, lock.base_revision(account), flag, out, interactive)
    if not settled.keep_remote and interactive and not settled.asked:
        if render.has_changes(result) and not confirm(f"Deploy to account {account}?"):
            raise ClientError("aborted; nothing was deployed")
    for attempt in range(2):
        if settled.keep_remote:
            entry = refresh_lock(api, name, lock, account, target.environment, None)
            note = "kept the deployed revision; nothing was deployed, the lock file follows it"
            return Outcome(OK, None, result, settled.strategy, entry, note)
        body = {
            **target.body(),
            "revision": result["revision"],
            "base_revision": settled.base,
            "strategy": settled.strategy,
            "message": message,
        }
        path = f"/v1/projects/{name}/deployments"
        response = api.request("POST", path, json=body, allow=(409,) if attempt == 0 else ())
        if response.status_code != 409:
            break
        problem = response.json()
        if problem.get("code") != "project_conflict" or not isinstance(problem.get("plan"), dict):
            raise _api_error(response.status_code, problem)
        # Something moved between the plan and the deploy: decide again on the new plan.
        out.note("The project changed while deploying; the plan is now:")
        result = problem["plan"]
        render.plan(out, result)
        settled = settle(result, settled.base, flag, out, interactive)
    deployment: dict[str, Any] = response.json()
    entry = refresh_lock(api, name, lock, account, target.environment, code)
    render.deployment(out, deployment)
    status = OK if deployment.get("status") == "succeeded" else FAILED
    return Outcome(status, deployment, result, settled.strategy, entry)


def _api_error(status: int, problem: dict[str, Any]) -> ApiError:
    return ApiError(status, problem, problem_message(status, problem, "deploy"))


def refresh_lock(
    api: Api,
    name: str,
    lock: Lock,
    account: str,
    environment: str | None,
    code: dict[str, dict[str, str]] | None,
) -> dict[str, Any]:
    """Record what the server says the project left in ``account``; ``code``: what each
    resource was deployed from (None: not known, as after a rollback)."""
    project = api.get(f"/v1/projects/{name}")
    target = next((t for t in project.get("targets", []) if t.get("account") == account), None)
    previous = (lock.targets.get(account) or {}).get("resources") or {}
    known = {r: e.get("code", {}) for r, e in previous.items() if isinstance(e, dict)}
    entry = lock.record(account, environment, target, {} if code is None else {**known, **code})
    lock.save()
    return entry


def results_by_resource(deployment: dict[str, Any]) -> dict[str, bool]:
    return {
        str(r["resource"]): r.get("status") in ("deployed", "unchanged", "deleted")
        for r in deployment.get("results") or []
    }


def lock_for(project: LocalProject) -> Lock:
    return Lock.load(project.root, project.name)
