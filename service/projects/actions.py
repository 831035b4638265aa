"""Actions around a project deploy: which fcplane runs, and running them.

Serverless Devs runs ``pre-``/``success-``/``fail-``/``complete-`` hooks around
a command. fcplane runs, server-side and recorded, the resource-level
``component`` actions that name an fc3 command it implements (``fc3 build``
builds the resource's code before it deploys: builds.py). ``run`` (shell)
and ``plugin`` actions are never executed by the server — a shell on the
control plane would run whatever a project file says — so plans list them for
the CLI to run on the caller's machine.
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from service.kit.errors import DomainError, InvalidInput
from service.projects.spec import Action, Project

# The fc3 commands the server implements, as `fc3 <words>`.
SERVER_COMMANDS = ("version publish", "alias publish", "invoke", "build")
DEPLOY_COMMANDS = ("deploy", "true")  # `true`: a `${regex()}` key that matched every command


def for_deploy(actions: list[Action], hook: str) -> list[Action]:
    return [a for a in actions if a.hook == hook and a.command in DEPLOY_COMMANDS]


def server_command(action: Action) -> list[str] | None:
    """The fc3 command words (and flags) if the server runs this action, else None."""
    if action.kind != "component" or action.resource is None:
        return None
    words = shlex.split(action.value)
    if len(words) < 2 or words[0] != "fc3":
        return None
    for command in SERVER_COMMANDS:
        size = len(command.split())
        if " ".join(words[1 : 1 + size]) == command:
            return words[1:]
    return None


def builds_before_deploy(actions: list[Action]) -> bool:
    """Whether a resource's ``pre-deploy`` actions build its code (``fc3 build``)."""
    return any((server_command(a) or [""])[0] == "build" for a in for_deploy(actions, "pre"))


def describe(action: Action) -> dict[str, Any]:
    runs_on = "server" if server_command(action) is not None else "client"
    if action.kind == "component" and action.resource is None:
        runs_on = "ignored"  # Serverless Devs honours component actions only per resource
    return {
        "hook": action.hook,
        "command": action.command,
        "kind": action.kind,
        "value": action.value,
        "resource": action.resource,
        "runs_on": runs_on,
    }


def describe_actions(spec: Project) -> list[dict[str, Any]]:
    found = [describe(a) for a in spec.actions]
    for resource in spec.resources.values():
        found.extend(describe(a) for a in resource.actions)
    return found


def flags(words: list[str]) -> dict[str, str]:
    """``--name value`` / ``--name=value`` pairs; a bare flag is ``"true"``."""
    out: dict[str, str] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("--"):
            name, eq, value = word[2:].partition("=")
            if not eq:
                if i + 1 < len(words) and not words[i + 1].startswith("--"):
                    value = words[i + 1]
                    i += 1
                else:
                    value = "true"
            out[name] = value
        i += 1
    return out


@dataclass
class ServerActions:
    """What the server actions need: publishing, alias routing and invoking a function."""

    publish: Callable[[str, str], Awaitable[str]]  # function, description -> version id
    alias: Callable[[str, str, str, str], Awaitable[None]]  # function, alias, version, description
    invoke: Callable[[str, bytes, str | None], Awaitable[dict[str, Any]]]
    # resource, fc3 build flags -> the build's record (its `sha256` is what deploys)
    build: Callable[[str, dict[str, str]], Awaitable[dict[str, Any]]]


async def run_server_action(
    action: Action, function: str, ops: ServerActions, published: dict[str, str]
) -> dict[str, Any]:
    """Run one server action; the record of what it did. ``published``: the version each
    function published in this deploy (``--version-id latest`` routes to it)."""
    words = server_command(action)
    assert words is not None
    given = flags(words)
    record: dict[str, Any] = describe(action) | {"function": function}
    try:
        if words[:2] == ["version", "publish"]:
            published[function] = await ops.publish(function, given.get("description", ""))
            record["version_id"] = published[function]
        elif words[:2] == ["alias", "publish"]:
            name = given.get("alias-name") or given.get("alias")
            if not name:
                raise InvalidInput("fc3 alias publish needs --alias-name", field="actions")
            version = given.get("version-id", "latest")
            if version == "latest":
                if function not in published:
                    raise InvalidInput(
                        "fc3 alias publish --version-id latest: no version was published by "
                        "this deploy (add `fc3 version publish` before it)",
                        field="actions",
                    )
                version = published[function]
            await ops.alias(function, name, version, given.get("description", ""))
            record["alias"], record["version_id"] = name, version
        elif words[0] == "build":
            assert action.resource is not None
            record["build"] = await ops.build(action.resource, given)
        else:
            event = given.get("event", "").encode()
            record["invocation"] = await ops.invoke(function, event, given.get("qualifier"))
            if record["invocation"].get("error"):
                raise InvalidInput(
                    f"fc3 invoke: the function answered with an error: "
                    f"{record['invocation']['error']}",
                    field="actions",
                )
        record["status"] = "succeeded"
    except DomainError as error:
        record["status"] = "failed"
        record["error"] = {"code": error.code, "detail": error.detail}
        if words[0] == "build":  # pip's / npm's own words: what to fix
            record["error"].update(error.extra)
    return record


def allows_failure(action: Action) -> bool:
    return action.allow_failure is True or isinstance(action.allow_failure, dict)
