"""What the logs API answers: function log lines as read from SLS."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class LogLine(BaseModel):
    """One line (or multi-line record) the function wrote, as its logstore holds it."""

    time: datetime = Field(description="When the line was logged (SLS keeps whole seconds), UTC.")
    request_id: str | None = Field(
        description="The invocation's FC request id: the entry's `requestId` field, else read "
        "from the message (`FC Invoke Start RequestId: ...`, context.getLogger's format)."
    )
    instance_id: str | None = Field(description="The FC instance that ran the invocation.")
    qualifier: str | None = Field(description="The version or alias that served it.")
    level: str | None = Field(
        description="The level in the message's `[LEVEL]` tag (context.getLogger()), if any."
    )
    message: str = Field(description="The line as the function wrote it.")


class LogsOut(BaseModel):
    items: list[LogLine] = Field(
        description="The newest `limit` lines of the window matching the filters, oldest first."
    )
    truncated: bool = Field(
        description="More lines matched than `limit`: narrow the window or raise `limit`."
    )
    from_time: datetime = Field(description="The window's start (inclusive).")
    to_time: datetime = Field(description="The window's end.")
    project: str = Field(description="The SLS project read (the function's logConfig.project).")
    logstore: str = Field(description="The logstore read (the function's logConfig.logstore).")
    topic: str = Field(description="The SLS topic FC files the function's lines under.")
    query: str = Field(description="The SLS query sent (request id and query combined).")
