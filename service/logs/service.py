"""A function's logs, read where FC writes them: its logConfig's SLS project and logstore.

The logstore comes from what fcplane applied (the live function when fcplane
never deployed it); the function's lines are FC's topic ``FCLogs:<name>``. One
short database read finds the function and its account; SLS is called after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from service.accounts.service import access_for
from service.cloud.access import FcAccess
from service.cloud.errors import FcNotFound
from service.cloud.gateway import FcGateway
from service.functions.repository import FunctionRepository
from service.functions.service import existing
from service.kit.crypto import SecretBox
from service.kit.db import Database
from service.kit.errors import Conflict
from service.logs.gateway import PAGE, LogStore, Query, RawLog, SlsGateway
from service.logs.schemas import LogLine, LogsOut
from service.logs.window import Window
from service.models.function import FunctionRef

# FC's "FC Invoke Start RequestId: X" lines, and context.getLogger()'s
# "<time> <request id> [LEVEL] message".
_REQUEST_ID = re.compile(r"RequestId: (\S+)|^\S+ (1-[0-9a-f]{8}-\S+|[0-9a-f-]{36}) \[")
_LEVEL = re.compile(r"\[(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|CRITICAL|FATAL)\]", re.I)


class LogConfigMissing(Conflict):
    code, title = "log_config_missing", "The function does not send its logs to SLS"


@dataclass(frozen=True)
class Target:
    """One function's logs: where they are and under which topic."""

    store: LogStore
    topic: str


def line_of(raw: RawLog) -> LogLine:
    contents = raw.contents
    message = contents.get("message", contents.get("content", ""))
    found = _REQUEST_ID.search(message)
    level = _LEVEL.search(message)
    return LogLine(
        time=datetime.fromtimestamp(raw.time, UTC),
        request_id=contents.get("requestId") or (found and (found.group(1) or found.group(2))),
        instance_id=contents.get("instanceID") or contents.get("instanceId") or None,
        qualifier=contents.get("qualifier") or None,
        level=level.group(1).upper() if level else None,
        message=message,
    )


def sls_query(request_id: str | None, query: str | None) -> str:
    """The SLS query: the request id as a phrase (it matches a `requestId` field and the
    lines that quote it) and the caller's query, both required."""
    parts = [f'"{request_id}"'] if request_id else []
    if query and query.strip():
        parts.append(f"({query.strip()})" if parts else query.strip())
    return " and ".join(parts)


def _log_config(state: dict[str, Any] | None) -> tuple[str, str] | None:
    config = (state or {}).get("logConfig") or {}
    project, logstore = config.get("project"), config.get("logstore")
    return (str(project), str(logstore)) if project and logstore else None


class LogService:
    def __init__(self, db: Database, box: SecretBox, gateway: FcGateway, sls: SlsGateway) -> None:
        self.db = db
        self.box = box
        self.gateway = gateway
        self.sls = sls

    async def target(self, ref: FunctionRef) -> Target:
        """Where ``ref``'s logs are; 409 naming logConfig's fields when it logs nowhere."""
        async with self.db.read() as session:
            function = await existing(FunctionRepository(session), ref)
            applied = function.applied_state
            access = access_for(self.box, function.account)
        found = _log_config(applied) if applied is not None else await self._live(access, ref)
        if found is None:
            raise LogConfigMissing(
                f"function '{ref.name}' has no logConfig project and logstore, so FC keeps no "
                "logs of it: set logConfig.project and logConfig.logstore (an SLS project and "
                "logstore in the function's region) and deploy",
                fields=["logConfig.project", "logConfig.logstore"],
            )
        return Target(LogStore(access, *found), f"FCLogs:{ref.name}")

    async def _live(self, access: FcAccess, ref: FunctionRef) -> tuple[str, str] | None:
        try:
            live = await self.gateway.get_function(access, ref.name)
        except FcNotFound:
            return None
        return _log_config(live.body)

    async def read(self, target: Target, window: Window, query: str, limit: int) -> LogsOut:
        """The newest ``limit`` matching lines of the window, oldest first."""
        raw = await self.fetch(target, window.from_s, window.to_s, query, limit + 1, newest=True)
        raw.reverse()
        lines = [line_of(r) for r in raw[-limit:]]
        return LogsOut(
            items=lines,
            truncated=len(raw) > limit,
            from_time=window.start,
            to_time=window.end,
            project=target.store.project,
            logstore=target.store.logstore,
            topic=target.topic,
            query=query,
        )

    async def fetch(
        self, target: Target, from_s: int, to_s: int, query: str, limit: int, newest: bool
    ) -> list[RawLog]:
        """Up to ``limit`` items, newest first if ``newest`` else oldest first, in pages."""
        found: list[RawLog] = []
        while len(found) < limit:
            page = await self.sls.get_logs(
                target.store,
                Query(
                    from_s,
                    to_s,
                    target.topic,
                    query,
                    min(PAGE, limit - len(found)),
                    reverse=newest,
                    offset=len(found),
                ),
            )
            found += page
            if len(page) < PAGE:
                break
        return found
