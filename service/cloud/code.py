"""A function's code package, downloaded from the URL GetFunctionCode gives."""

from __future__ import annotations

import httpx

from service.cloud.access import FcAccess
from service.cloud.errors import FcServerError, FcUnreachable
from service.cloud.gateway import FcGateway
from service.kit.errors import PayloadTooLarge

DOWNLOAD_TIMEOUT_S = 120.0


class CodeTooLarge(PayloadTooLarge):
    code, title = "code_too_large", "Code package too large"


async def download_code(gateway: FcGateway, access: FcAccess, name: str, limit: int) -> bytes:
    """The function's code zip; refused past ``limit`` bytes (streamed, never held whole)."""
    url = (await gateway.get_function_code(access, name)).body.get("url")
    if not url:
        raise FcServerError(f"GetFunctionCode gave no URL for '{name}'", function=name)
    chunks: list[bytes] = []
    size = 0
    try:
        async with (
            httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT_S) as client,
            client.stream("GET", str(url)) as response,
        ):
            response.raise_for_status()
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise CodeTooLarge(
                        f"the code of function '{name}' is over the {limit}-byte limit",
                        function=name,
                    )
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        # The URL is signed: it stays out of the message.
        raise FcUnreachable(
            f"the code of function '{name}' could not be downloaded ({type(exc).__name__})",
            function=name,
        ) from None
    return b"".join(chunks)
