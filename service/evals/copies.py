"""Disposable copies of a function: evals never run against the function itself.

A copy is created from the live config and code (GetFunctionCode gives a URL to
fetch the zip), named ``<name>-eval-<short id>``, and removed afterwards with
whatever was attached to it (triggers, concurrency and provision configs) —
also when the eval fails or is cancelled.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from service.cloud.access import FcAccess
from service.cloud.code import download_code
from service.cloud.gateway import FcGateway
from service.functions.codezip import ZipLimits
from service.kit.errors import DomainError

log = logging.getLogger(__name__)

# The writable fields of FC's function model (UpdateFunction's input); read-only ones
# (functionArn, state, codeChecksum, ...) are dropped from the live config.
WRITABLE = (
    "runtime", "handler", "description", "cpu", "memorySize", "diskSize", "timeout",
    "instanceConcurrency", "environmentVariables", "layers", "role", "internetAccess",
    "logConfig", "vpcConfig", "nasConfig", "ossMountConfig", "customContainerConfig",
    "customRuntimeConfig", "customDNS", "instanceLifecycleConfig", "gpuConfig",
    "tracingConfig", "sessionAffinity", "instanceIsolationMode",
)  # fmt: skip
MAX_NAME = 64


def copy_name(function: str, short_id: str | None = None) -> str:
    suffix = f"-eval-{short_id or secrets.token_hex(3)}"
    return function[: MAX_NAME - len(suffix)] + suffix


def copy_config(live: dict[str, Any], name: str) -> dict[str, Any]:
    config = {k: live[k] for k in WRITABLE if live.get(k) not in (None, "", [], {})}
    if "layers" in config:
        config["layers"] = [
            layer["arn"] if isinstance(layer, dict) else layer for layer in config["layers"]
        ]
    config["functionName"] = name
    return config


@dataclass
class Copy:
    name: str
    live: dict[str, Any]  # the original's live config (wire names)
    triggers: list[str] = field(default_factory=list)
    has_concurrency_config: bool = False
    has_provision_config: bool = False


@contextlib.asynccontextmanager
async def disposable_copy(
    gateway: FcGateway, access: FcAccess, function: str, short_id: str | None = None
) -> AsyncIterator[Copy]:
    live = (await gateway.get_function(access, function)).body
    name = copy_name(function, short_id)
    config = copy_config(live, name)
    if not live.get("customContainerConfig"):
        code = await download_code(gateway, access, function, ZipLimits().max_compressed_bytes)
        config["code"] = {"zipFile": base64.b64encode(code).decode()}
    await gateway.create_function(access, config)
    copy = Copy(name=name, live=live)
    try:
        yield copy
    finally:
        await remove_copy(gateway, access, copy)


async def remove_copy(gateway: FcGateway, access: FcAccess, copy: Copy) -> None:
    steps: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        (f"DeleteTrigger {t}", functools.partial(gateway.delete_trigger, access, copy.name, t))
        for t in copy.triggers
    ]
    if copy.has_provision_config:
        steps.append(
            ("DeleteProvisionConfig", lambda: gateway.delete_provision_config(access, copy.name))
        )
    if copy.has_concurrency_config:
        steps.append(
            (
                "DeleteConcurrencyConfig",
                lambda: gateway.delete_concurrency_config(access, copy.name),
            )
        )
    for action, call in steps:
        try:
            await call()
        except DomainError as exc:  # keep going: the function delete is what matters
            log.warning("eval copy %s: %s failed: %s", copy.name, action, exc.detail)
    try:
        await gateway.delete_function(access, copy.name)
    except DomainError as exc:
        log.error("eval copy %s could not be deleted: %s", copy.name, exc.detail)
        raise


async def add_http_trigger(gateway: FcGateway, access: FcAccess, copy: Copy) -> str:
    """An HTTP trigger (signed requests only) on the copy; returns its URL."""
    trigger = {
        "triggerName": "eval",
        "triggerType": "http",
        "triggerConfig": json.dumps(
            {"authType": "function", "methods": ["GET", "POST", "PUT", "DELETE", "PATCH"]}
        ),
    }
    created = await gateway.create_trigger(access, copy.name, trigger)
    copy.triggers.append("eval")
    url: str = created.body["httpTrigger"]["urlInternet"]
    return url


async def pin_one_instance(gateway: FcGateway, access: FcAccess, copy: Copy) -> None:
    """Reserved concurrency 1: every request lands on one instance (or is throttled)."""
    await gateway.put_concurrency_config(access, copy.name, reserved_concurrency=1)
    copy.has_concurrency_config = True
