"""FC calls for a function's sub-resources: triggers, async-invoke, provision and
concurrency configs, and custom domains (whose routes point at functions).

A sub-resource that is not configured reads as None (FC answers 404), so a
caller can tell "none" from "could not read".
"""

from __future__ import annotations

from typing import Any

from alibabacloud_fc20230330 import models as fc

from service.cloud.access import FcAccess
from service.cloud.client import FcClient, FcResult


class SubresourceCalls(FcClient):
    # -- triggers ------------------------------------------------------------

    async def list_triggers(self, access: FcAccess, name: str) -> list[dict[str, Any]]:
        return await self._listed(
            access,
            "ListTriggers",
            "triggers",
            lambda c, token: c.list_triggers_async(
                name, fc.ListTriggersRequest(limit=100, next_token=token)
            ),
        )

    async def create_trigger(
        self, access: FcAccess, name: str, trigger: dict[str, Any]
    ) -> FcResult:
        request = fc.CreateTriggerRequest(body=fc.CreateTriggerInput().from_map(trigger))
        return await self._body(
            access, "CreateTrigger", lambda c: c.create_trigger_async(name, request)
        )

    async def update_trigger(
        self, access: FcAccess, name: str, trigger: str, body: dict[str, Any]
    ) -> FcResult:
        request = fc.UpdateTriggerRequest(body=fc.UpdateTriggerInput().from_map(body))
        return await self._body(
            access, "UpdateTrigger", lambda c: c.update_trigger_async(name, trigger, request)
        )

    async def delete_trigger(self, access: FcAccess, name: str, trigger: str) -> str | None:
        return await self._request_id(
            access, "DeleteTrigger", lambda c: c.delete_trigger_async(name, trigger)
        )

    # -- async-invoke config -------------------------------------------------

    async def get_async_invoke_config(
        self, access: FcAccess, name: str, qualifier: str
    ) -> dict[str, Any] | None:
        request = fc.GetAsyncInvokeConfigRequest(qualifier=qualifier)
        return await self._optional(
            access, "GetAsyncInvokeConfig", lambda c: c.get_async_invoke_config_async(name, request)
        )

    async def put_async_invoke_config(
        self, access: FcAccess, name: str, qualifier: str, body: dict[str, Any]
    ) -> FcResult:
        request = fc.PutAsyncInvokeConfigRequest(
            qualifier=qualifier, body=fc.PutAsyncInvokeConfigInput().from_map(body)
        )
        return await self._body(
            access,
            "PutAsyncInvokeConfig",
            lambda c: c.put_async_invoke_config_async(name, request),
        )

    async def delete_async_invoke_config(
        self, access: FcAccess, name: str, qualifier: str
    ) -> str | None:
        request = fc.DeleteAsyncInvokeConfigRequest(qualifier=qualifier)
        return await self._request_id(
            access,
            "DeleteAsyncInvokeConfig",
            lambda c: c.delete_async_invoke_config_async(name, request),
        )

    # -- provision and concurrency configs -------------------------------------

    async def get_provision_config(
        self, access: FcAccess, name: str, qualifier: str
    ) -> dict[str, Any] | None:
        request = fc.GetProvisionConfigRequest(qualifier=qualifier)
        return await self._optional(
            access, "GetProvisionConfig", lambda c: c.get_provision_config_async(name, request)
        )

    async def put_provision_config(
        self, access: FcAccess, name: str, qualifier: str, body: dict[str, Any]
    ) -> FcResult:
        request = fc.PutProvisionConfigRequest(
            qualifier=qualifier, body=fc.PutProvisionConfigInput().from_map(body)
        )
        return await self._body(
            access, "PutProvisionConfig", lambda c: c.put_provision_config_async(name, request)
        )

    async def delete_provision_config(
        self, access: FcAccess, name: str, qualifier: str | None = None
    ) -> str | None:
        request = fc.DeleteProvisionConfigRequest(qualifier=qualifier)
        return await self._request_id(
            access,
            "DeleteProvisionConfig",
            lambda c: c.delete_provision_config_async(name, request),
        )

    async def get_concurrency_config(self, access: FcAccess, name: str) -> dict[str, Any] | None:
        return await self._optional(
            access, "GetConcurrencyConfig", lambda c: c.get_concurrency_config_async(name)
        )

    async def put_concurrency_config(
        self, access: FcAccess, name: str, reserved_concurrency: int
    ) -> FcResult:
        body = fc.PutConcurrencyInput(reserved_concurrency=reserved_concurrency)
        request = fc.PutConcurrencyConfigRequest(body=body)
        return await self._body(
            access,
            "PutConcurrencyConfig",
            lambda c: c.put_concurrency_config_async(name, request),
        )

    async def delete_concurrency_config(self, access: FcAccess, name: str) -> str | None:
        return await self._request_id(
            access, "DeleteConcurrencyConfig", lambda c: c.delete_concurrency_config_async(name)
        )

    # -- custom domains ----------------------------------------------------------

    async def list_custom_domains(self, access: FcAccess) -> list[dict[str, Any]]:
        return await self._listed(
            access,
            "ListCustomDomains",
            "customDomains",
            lambda c, token: c.list_custom_domains_async(
                fc.ListCustomDomainsRequest(limit=100, next_token=token)
            ),
        )

    async def get_custom_domain(self, access: FcAccess, domain: str) -> dict[str, Any] | None:
        return await self._optional(
            access, "GetCustomDomain", lambda c: c.get_custom_domain_async(domain)
        )

    async def create_custom_domain(self, access: FcAccess, body: dict[str, Any]) -> FcResult:
        request = fc.CreateCustomDomainRequest(body=fc.CreateCustomDomainInput().from_map(body))
        return await self._body(
            access, "CreateCustomDomain", lambda c: c.create_custom_domain_async(request)
        )

    async def update_custom_domain(
        self, access: FcAccess, domain: str, body: dict[str, Any]
    ) -> FcResult:
        request = fc.UpdateCustomDomainRequest(body=fc.UpdateCustomDomainInput().from_map(body))
        return await self._body(
            access,
            "UpdateCustomDomain",
            lambda c: c.update_custom_domain_async(domain, request),
        )
