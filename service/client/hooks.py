"""The s.yaml's `run` actions around a deploy, on the user's machine, as Serverless Devs runs them.

Order (`s deploy`): global `pre` → per resource, in deploy order: `pre` → the
deploy → `success` or `fail` → `complete` → global `success` or `fail` →
global `complete`. The server deploys all resources in one call, so every
`pre` runs before that call and the rest after it, by each resource's result.
A command runs in a shell in `path` (relative to the s.yaml's directory; default
that directory). A failure stops what follows unless `allow_failure` allows it
(`true`, or `{exit_code: [...], command: [...]}`); `complete` hooks still run.
`component` actions that name an fc3 command the server implements run on the
server; other `component` and `plugin` actions cannot run here and are reported.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from service.client.errors import ClientError
from service.client.output import Output

if TYPE_CHECKING:
    from service.client.source import LocalProject
    from service.projects.spec import Action

COMMAND = "deploy"
DEPLOY_KEYS = ("deploy", "true")  # `true`: a ${regex()} key that matched every command
SERVER_COMMANDS = ("version publish", "alias publish", "invoke", "build")


class HookFailed(ClientError):
    pass


def allowed(allow_failure: Any, exit_code: int) -> bool:
    """Whether ``allow_failure`` (as written) forgives this exit code of a deploy hook."""
    if allow_failure is True or str(allow_failure).lower() == "true":
        return True
    if not isinstance(allow_failure, dict):
        return False
    codes, commands = allow_failure.get("exit_code"), allow_failure.get("command")
    if codes is None and commands is None:
        return False
    code_ok = codes is None or exit_code in {int(c) for c in _listed(codes)}
    command_ok = commands is None or COMMAND in {str(c) for c in _listed(commands)}
    return code_ok and command_ok


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def runs_on_server(action: Action) -> bool:
    if action.kind != "component" or action.resource is None:
        return False
    words = shlex.split(action.value)
    rest = " ".join(words[1:])
    return len(words) > 1 and words[0] == "fc3" and rest.startswith(SERVER_COMMANDS)


@dataclass
class Hooks:
    project: LocalProject
    out: Output
    skip: bool = False
    ran: list[dict[str, Any]] = field(default_factory=list)
    failure: str = ""  # why the last action failed

    def _actions(self, resource: str | None, hook: str) -> list[Action]:
        spec = self.project.spec
        actions = spec.actions if resource is None else spec.resources[resource].actions
        return [a for a in actions if a.hook == hook and a.command in DEPLOY_KEYS]

    def _run(self, action: Action) -> bool:
        """Run one action; whether the deploy may go on."""
        owner = action.resource or "project"
        label = f"{action.hook}-deploy of {owner}"
        if action.kind != "run":
            if not runs_on_server(action):
                self.out.warn(
                    f"{label}: `{action.kind}: {action.value}` was not run: the fcplane CLI runs "
                    "`run` actions; fcplane's server runs `fc3 version publish`, `fc3 alias "
                    "publish` and `fc3 invoke`"
                )
            return True
        cwd = self.project.root / (action.path or ".")
        self.out.note(f"{label}: {action.value}" + (f"  (in {action.path})" if action.path else ""))
        record: dict[str, Any] = {
            "hook": action.hook,
            "resource": action.resource,
            "run": action.value,
            "path": action.path,
        }
        self.ran.append(record)
        if not cwd.is_dir():
            record["exit_code"] = None
            record["error"] = f"path {action.path!r} is not a directory"
            return self._failed(label, record, action, 1)
        try:
            done = subprocess.run(
                action.value,
                shell=True,
                cwd=cwd,
                stdout=sys.stderr if self.out.json else None,
                check=False,
            )
        except OSError as exc:
            record["exit_code"] = None
            record["error"] = str(exc)
            return self._failed(label, record, action, 1)
        record["exit_code"] = done.returncode
        if done.returncode == 0:
            return True
        return self._failed(label, record, action, done.returncode)

    def _failed(self, label: str, record: dict[str, Any], action: Action, code: int) -> bool:
        if allowed(action.allow_failure, code):
            record["allowed"] = True
            self.out.warn(f"{label} failed (exit {code}), allowed by allow_failure")
            return True
        self.failure = f"{label} `{action.value}` failed" + (
            f": {record['error']}" if record.get("error") else f" (exit {code})"
        )
        return False

    def run(self, resource: str | None, hook: str) -> bool:
        if self.skip:
            return True
        return all(self._run(a) for a in self._actions(resource, hook))

    def before(self) -> None:
        """Global `pre`, then each resource's `pre`; a failure runs the matching `fail`
        and `complete` hooks and raises HookFailed (nothing is deployed)."""
        if not self.run(None, "pre"):
            self._finish_failed(None)
        for name in self.project.order:
            if not self.run(name, "pre"):
                self._finish_failed(name)

    def _finish_failed(self, resource: str | None) -> None:
        failure = self.failure
        if resource is not None:
            self.run(resource, "fail")
            self.run(resource, "complete")
        self.run(None, "fail")
        self.run(None, "complete")
        raise HookFailed(f"{failure}; nothing was deployed")

    def after(self, succeeded: dict[str, bool], all_succeeded: bool) -> str | None:
        """Each resource's `success`|`fail` and `complete`, then the global ones.
        Returns why a hook failed, if one did (`complete` hooks run regardless)."""
        failures: list[str] = []
        for name in self.project.order:
            if name not in succeeded:
                continue
            if not self.run(name, "success" if succeeded[name] else "fail"):
                failures.append(self.failure)
            if not self.run(name, "complete"):
                failures.append(self.failure)
        if not self.run(None, "success" if all_succeeded and not failures else "fail"):
            failures.append(self.failure)
        if not self.run(None, "complete"):
            failures.append(self.failure)
        return "; ".join(failures) or None
