"""Fault injection: make the next N calls of an operation fail, or slow them down.

A rule matches an *action* — an FC API action name such as ``UpdateFunction``
or ``InvokeFunction``, or ``HttpTrigger`` for requests through an HTTP
trigger, or ``*`` for everything — optionally narrowed to one function.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import asdict, dataclass
from typing import Any

from service.emulator.errors import FCError, invalid


@dataclass
class FaultRule:
    id: int
    action: str
    remaining: int | None  # None: until removed
    status: int | None = None  # None: do not fail, only delay
    code: str = "InternalServerError"
    message: str = "injected fault"
    latency_ms: float = 0.0
    function_name: str | None = None
    retry_after_s: int | None = None

    def matches(self, action: str, function_name: str | None) -> bool:
        if self.action not in ("*", action):
            return False
        return self.function_name is None or self.function_name == function_name

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_RULE_FIELDS = {
    "action",
    "count",
    "status",
    "code",
    "message",
    "latencyMs",
    "functionName",
    "retryAfter",
}


def parse_rule(data: Any, rule_id: int) -> FaultRule:
    if not isinstance(data, dict):
        raise invalid("a fault must be a JSON object")
    unknown = set(data) - _RULE_FIELDS
    if unknown:
        raise invalid(f"unknown fault field(s): {', '.join(sorted(unknown))}")
    action = data.get("action")
    if not isinstance(action, str) or not action:
        raise invalid("fault.action is required: an FC action name, 'HttpTrigger' or '*'")
    count = data.get("count", 1)
    if count is not None and (not isinstance(count, int) or count < 1):
        raise invalid("fault.count must be a positive integer or null (forever)")
    status = data.get("status")
    latency = data.get("latencyMs", 0)
    if status is None and not latency:
        raise invalid("a fault needs a status (to fail) and/or latencyMs (to delay)")
    if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
        raise invalid("fault.status must be an HTTP error status (400-599)")
    if not isinstance(latency, int | float) or latency < 0:
        raise invalid("fault.latencyMs must be a non-negative number")
    retry_after = data.get("retryAfter")
    if retry_after is None and status == 429:
        retry_after = 1
    return FaultRule(
        id=rule_id,
        action=action,
        remaining=count,
        status=status,
        code=str(data.get("code") or _default_code(status)),
        message=str(data.get("message") or f"injected fault for {action}"),
        latency_ms=float(latency),
        function_name=data.get("functionName"),
        retry_after_s=retry_after,
    )


def _default_code(status: int | None) -> str:
    return {
        400: "InvalidArgument",
        403: "AccessDenied",
        404: "FunctionNotFound",
        409: "ConcurrentUpdateError",
        412: "PreconditionFailed",
        429: "ResourceThrottled",
        503: "ServiceUnavailable",
    }.get(status or 500, "InternalServerError")


@dataclass(frozen=True)
class FaultHit:
    latency_s: float
    error: FCError | None


class Faults:
    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, data: Any) -> FaultRule:
        with self._lock:
            rule = parse_rule(data, next(self._ids))
            self._rules.append(rule)
            return rule

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) < before

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, action: str, function_name: str | None) -> FaultHit | None:
        """Consume the first matching rule (one call's worth), if any."""
        if not self._rules:
            return None
        with self._lock:
            for rule in self._rules:
                if rule.matches(action, function_name):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining <= 0:
                            self._rules.remove(rule)
                    error = None
                    if rule.status is not None:
                        headers = {}
                        if rule.retry_after_s is not None:
                            headers["x-acs-retry-after"] = str(rule.retry_after_s)
                        error = FCError(rule.status, rule.code, rule.message, headers)
                    return FaultHit(rule.latency_ms / 1000, error)
        return None
