"""The baseline: a bare FastAPI endpoint returning a constant, served like fcplane."""

from fastapi import FastAPI

app = FastAPI()
BODY: dict[str, object] = {"items": [], "next_cursor": None}


@app.get("/v1/accounts")
async def accounts() -> dict[str, object]:
    return BODY
