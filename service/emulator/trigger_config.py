"""Checking a trigger's ``triggerConfig`` (a JSON string) the way FC does at create and update.

HTTP triggers: ``authType`` anonymous, function or jwt (with its ``authConfig``,
see jwt_auth.py) and ``methods``. Timer triggers: ``cronExpression`` (see
cron.py), ``enable`` and an optional string ``payload``. Other trigger types
are stored as given: the emulator has no event source to connect them to.
"""

from __future__ import annotations

import json
from typing import Any

from service.emulator.cron import check_cron_expression
from service.emulator.errors import invalid
from service.emulator.http_auth import trigger_auth

HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS")
# FC caps a timer's trigger message like an async invocation's payload.
MAX_TIMER_PAYLOAD = 128 * 1024


def parse_trigger_config(raw: str) -> dict[str, Any]:
    try:
        cfg = json.loads(raw) if raw else {}
    except ValueError as exc:
        raise invalid(f"triggerConfig is not valid JSON: {exc}") from None
    if not isinstance(cfg, dict):
        raise invalid("triggerConfig must be a JSON object (as a string)")
    return cfg


def _check_http(cfg: dict[str, Any]) -> None:
    trigger_auth(cfg)  # authType, and a jwt authConfig
    methods = cfg.get("methods", list(HTTP_METHODS))
    if (
        not isinstance(methods, list)
        or not all(isinstance(m, str) for m in methods)
        or any(m.upper() not in HTTP_METHODS for m in methods)
    ):
        raise invalid(f"triggerConfig.methods must be a list of {', '.join(HTTP_METHODS)}")
    if not isinstance(cfg.get("disableURLInternet", False), bool):
        raise invalid("triggerConfig.disableURLInternet must be a boolean")


def _check_timer(cfg: dict[str, Any]) -> None:
    check_cron_expression(cfg.get("cronExpression"))
    if not isinstance(cfg.get("enable"), bool):
        raise invalid("triggerConfig.enable is required (true or false)")
    payload = cfg.get("payload", "")
    if not isinstance(payload, str):
        raise invalid("triggerConfig.payload must be a string")
    if len(payload.encode()) > MAX_TIMER_PAYLOAD:
        raise invalid(f"triggerConfig.payload exceeds {MAX_TIMER_PAYLOAD} bytes")


def check_trigger_config(trigger_type: str, raw: str) -> dict[str, Any]:
    cfg = parse_trigger_config(raw)
    if trigger_type == "http":
        _check_http(cfg)
    elif trigger_type == "timer":
        _check_timer(cfg)
    return cfg
