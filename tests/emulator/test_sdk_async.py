"""The SDK's asyncio methods (aiohttp, extra unsigned headers) work the same way."""

from __future__ import annotations

import pytest
from alibabacloud_fc20230330 import models as m
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException

from tests.emulator.conftest import function_input


async def test_async_client_crud_and_invoke(fc: Client) -> None:
    created = (
        await fc.create_function_async(m.CreateFunctionRequest(body=function_input("aio")))
    ).body
    assert created.function_name == "aio"
    got = (await fc.get_function_async("aio", m.GetFunctionRequest())).body
    assert got.code_checksum == created.code_checksum
    response = await fc.invoke_function_async("aio", m.InvokeFunctionRequest(body=b"ping"))
    assert response.status_code == 200
    assert response.headers["x-fc-request-id"]
    with pytest.raises(ClientException) as exc:
        await fc.get_function_async("missing", m.GetFunctionRequest())
    assert exc.value.code == "FunctionNotFound"
