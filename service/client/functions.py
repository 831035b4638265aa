"""`fcplane diff`, `drift` and `revisions`: reading functions and projects.

A function is named as in FC, or by its resource name in ./s.yaml (the lock
file says which function and account that resource deployed to).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from service.client.connection import Api, Target
from service.client.errors import CHANGES, FAILED, OK, ClientError
from service.client.lockfile import LOCK_PATH
from service.client.output import Output


def _lock_targets(root: Path) -> dict[str, Any]:
    try:
        data = json.loads((root / LOCK_PATH).read_text())
    except (OSError, ValueError):
        return {}
    targets = data.get("targets") if isinstance(data, dict) else None
    return targets if isinstance(targets, dict) else {}


def default_account(api: Api) -> str:
    for account in api.pages("/v1/accounts"):
        if account.get("default"):
            return str(account["alias"])
    raise ClientError("the server has no default account: name one with -A/--account")


def locate(api: Api, name: str, account: str | None) -> tuple[str, str]:
    """(account, function) for ``name``: a resource of the lock file, else a function."""
    for alias, entry in _lock_targets(Path.cwd()).items():
        if account not in (None, alias):
            continue
        resource = (entry.get("resources") or {}).get(name)
        if isinstance(resource, dict) and resource.get("function"):
            return alias, str(resource["function"])
    if account is None:
        targets = _lock_targets(Path.cwd())
        account = next(iter(targets)) if len(targets) == 1 else default_account(api)
    return account, name


def _change_line(change: dict[str, Any]) -> str:
    path = str(change.get("path", "")).lstrip("/").replace("/", ".")
    base, value = change.get("base"), change.get("value")
    if base is None:
        return f"+ {path}: {json.dumps(value)}"
    if value is None:
        return f"- {path}: {json.dumps(base)}"
    return f"~ {path}: {json.dumps(base)} => {json.dumps(value)}"


def diff(
    out: Output, where: Target, name: str, account: str | None, old: int | None, new: int | None
) -> int:
    with Api(where) as api:
        alias, function = locate(api, name, account)
        path = f"/v1/accounts/{alias}/functions/{function}"
        to = new or int(api.get(path)["head_revision"])
        start = old if old is not None else to - 1
        if start < 1:
            raise ClientError(f"function {function} has only revision {to}: nothing to compare")
        result = api.get(f"{path}/diff", **{"from": start, "to": to})
    out.line(f"Function {function} in account {alias}: revision {start} → {to}", "bold")
    out.diff_text(result.get("text") or "no changes", "  ")
    out.document(result)
    return OK


def _project_functions(
    api: Api, template: Path | None, account: str | None
) -> list[tuple[str, str]]:
    from service.client.source import load

    project = load(template, None)
    found = api.get(f"/v1/projects/{project.name}")
    pairs = [
        (str(t["account"]), str(entry["function"]))
        for t in found.get("targets", [])
        if account in (None, t.get("account"))
        for entry in (t.get("resources") or {}).values()
    ]
    if not pairs:
        raise ClientError(
            f"project {project.name} has not deployed anything"
            + (f" to account {account}" if account else "")
            + ": name a function, or use --all"
        )
    return sorted(set(pairs))


def drift(
    out: Output,
    where: Target,
    name: str | None,
    everything: bool,
    account: str | None,
    template: Path | None,
) -> int:
    """0 in sync, 2 drifted, 1 when a function could not be checked."""
    with Api(where) as api:
        if everything:
            scan = api.post("/v1/drift-checks", None)
            drifted, failed = scan.get("drifted", []), scan.get("failed", {})
            out.line(f"Checked {scan.get('checked', 0)} function(s).", "bold")
            for item in drifted:
                out.line(f"  drifted: {item}", "yellow")
            for item, why in failed.items():
                out.line(f"  not checked: {item}: {why}", "red")
            out.document(scan)
            return FAILED if failed else CHANGES if drifted else OK
        if name is not None:
            pairs = [locate(api, name, account)]
        else:
            pairs = _project_functions(api, template, account)
        checks = [
            api.post(f"/v1/accounts/{alias}/functions/{function}/drift-check", None)
            for alias, function in pairs
        ]
    for check in checks:
        where_ = f"{check.get('function')} ({check.get('account')})"
        if check.get("deploying"):
            out.line(f"{where_}: a deploy is running ({check['deploying']}); check again after")
        elif check.get("drifted"):
            out.line(f"{where_}: drifted", "yellow")
            for change in check.get("changes") or []:
                out.diff_text(_change_line(change), "  ")
        else:
            out.line(f"{where_}: in sync", "green")
    out.document({"checks": checks})
    return CHANGES if any(c.get("drifted") for c in checks) else OK


def revisions(
    out: Output,
    where: Target,
    name: str | None,
    account: str | None,
    template: Path | None,
    limit: int,
) -> int:
    with Api(where) as api:
        if name is not None:
            alias, function = locate(api, name, account)
            path = f"/v1/accounts/{alias}/functions/{function}"
            items = list(api.pages(f"{path}/revisions", limit=limit))
            head = api.get(path).get("head_revision")
            out.line(f"Function {function} in account {alias} (head: revision {head})", "bold")
            rows = [
                [
                    str(r["number"]) + (" *" if r["number"] == head else ""),
                    str(r.get("source") or ""),
                    str(r.get("created_at", ""))[:19],
                    str(r.get("created_by") or ""),
                    str(r.get("message") or ""),
                ]
                for r in items
            ]
            out.table(["REVISION", "SOURCE", "CREATED", "BY", "MESSAGE"], rows)
            out.document({"account": alias, "function": function, "head": head, "items": items})
            return OK
        from service.client.source import load

        project = load(template, None)
        found = api.get(f"/v1/projects/{project.name}")
        items = list(api.pages(f"/v1/projects/{project.name}/revisions", limit=limit))
    deployed: dict[int, list[str]] = {}
    for t in found.get("targets", []):
        deployed.setdefault(int(t["revision"]), []).append(str(t["account"]))
    out.line(f"Project {project.name} (head: revision {found.get('head_revision')})", "bold")
    rows = [
        [
            str(r["number"]),
            ", ".join(deployed.get(r["number"], [])),
            str(r.get("created_at", ""))[:19],
            str(r.get("created_by") or ""),
            str(r.get("message") or ""),
        ]
        for r in items
    ]
    out.table(["REVISION", "DEPLOYED TO", "CREATED", "BY", "MESSAGE"], rows)
    slim = [{k: v for k, v in r.items() if k not in ("files", "env")} for r in items]
    out.document({"project": project.name, "targets": found.get("targets", []), "items": slim})
    return OK
