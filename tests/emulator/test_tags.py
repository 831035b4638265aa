"""FC 3.0's tag API (TagResources, UntagResources, ListTagResources) through the official SDK."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from alibabacloud_fc20230330 import models as m
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException

from service.emulator.server import EmbeddedEmulator
from tests.emulator.conftest import (
    admin,
    create_function,
    raw_call,
    sdk_client,
    signed_headers,
    start,
)

ARN = "acs:fc:cn-hangzhou:1234567890:functions/{}"


def arn(name: str) -> str:
    return ARN.format(name)


def tag(fc: Client, names: list[str], resource_type: str | None = "function", **tags: str) -> Any:
    body = m.TagResourcesInput(
        resource_id=[arn(n) for n in names],
        resource_type=resource_type,
        tag=[m.Tag(key=k, value=v) for k, v in tags.items()],
    )
    return fc.tag_resources(m.TagResourcesRequest(body=body))


def untag(
    fc: Client, names: list[str], keys: list[str] | None = None, all: bool | None = None
) -> Any:
    return fc.untag_resources(
        m.UntagResourcesRequest(
            resource_type="function", resource_id=[arn(n) for n in names], tag_key=keys, all=all
        )
    )


def listed(fc: Client, **request: Any) -> m.ListTagResourcesOutput:
    request.setdefault("resource_type", "function")
    body = fc.list_tag_resources(m.ListTagResourcesRequest(**request)).body
    assert isinstance(body, m.ListTagResourcesOutput)  # a misshapen answer parses to None
    return body


def tags_of(fc: Client, name: str, qualifier: str | None = None) -> dict[str, str]:
    got = fc.get_function(name, m.GetFunctionRequest(qualifier=qualifier)).body
    return {t.key: t.value for t in got.tags}


def fc_error(exc: pytest.ExceptionInfo[ClientException]) -> tuple[int, str]:
    assert exc.value.request_id
    return exc.value.status_code, exc.value.code


def test_tag_show_overwrite_and_untag(fc: Client) -> None:
    created = create_function(fc, "f", tags=[m.Tag(key="team", value="a")])
    assert created.function_arn == arn("f")
    response = tag(fc, ["f"], env="dev", owner="")
    assert response.status_code == 200
    assert tags_of(fc, "f") == {"team": "a", "env": "dev", "owner": ""}
    (listed_fn,) = fc.list_functions(m.ListFunctionsRequest()).body.functions
    assert {t.key: t.value for t in listed_fn.tags} == {"team": "a", "env": "dev", "owner": ""}

    tag(fc, ["f"], team="b")  # an existing key takes the new value
    assert tags_of(fc, "f") == {"team": "b", "env": "dev", "owner": ""}

    assert untag(fc, ["f"], ["env", "never-set"]).status_code == 204  # a missing key is fine
    assert tags_of(fc, "f") == {"team": "b", "owner": ""}
    untag(fc, ["f"], all=False)  # neither keys nor All: nothing removed
    assert tags_of(fc, "f") == {"team": "b", "owner": ""}
    untag(fc, ["f"], all=True)
    assert tags_of(fc, "f") == {}
    untag(fc, ["f"], all=True)  # already bare
    # tagging is not a configuration change: lastModifiedTime stays
    got = fc.get_function("f", m.GetFunctionRequest()).body
    assert got.last_modified_time == created.last_modified_time


def test_list_tag_resources_fields_filters_and_pages(fc: Client) -> None:
    for name in ("a", "b", "c"):
        create_function(fc, name)
    tag(fc, ["a", "b"], env="prod", team="core")
    tag(fc, ["c"], env="dev")

    everything = listed(fc)
    assert everything.next_token is None
    assert everything.request_id
    first = everything.tag_resources[0]
    assert (first.resource_id, first.resource_type, first.tag_key, first.tag_value) == (
        arn("a"),
        "function",
        "env",
        "prod",
    )
    assert [(r.resource_id, r.tag_key) for r in everything.tag_resources] == [
        (arn("a"), "env"),
        (arn("a"), "team"),
        (arn("b"), "env"),
        (arn("b"), "team"),
        (arn("c"), "env"),
    ]

    one = listed(fc, resource_id=[arn("c")])
    assert [(r.resource_id, r.tag_key, r.tag_value) for r in one.tag_resources] == [
        (arn("c"), "env", "dev")
    ]
    prod = listed(fc, tag=[m.ListTagResourcesRequestTag(key="env", value="prod")])
    assert {r.resource_id for r in prod.tag_resources} == {arn("a"), arn("b")}
    any_team = listed(fc, tag=[m.ListTagResourcesRequestTag(key="team")])
    assert {r.resource_id for r in any_team.tag_resources} == {arn("a"), arn("b")}
    assert listed(fc, resource_id=[arn("gone")]).tag_resources == []
    assert listed(fc, resource_type="ALIYUN::FC::FUNCTION").tag_resources[0].tag_key == "env"

    pages: list[list[tuple[str, str]]] = []
    token = None
    while True:
        page = listed(fc, limit=2, next_token=token)
        pages.append([(r.resource_id, r.tag_key) for r in page.tag_resources])
        token = page.next_token
        if token is None:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    walked = [entry for p in pages for entry in p]
    assert walked == [(r.resource_id, r.tag_key) for r in everything.tag_resources]

    with pytest.raises(ClientException) as exc:
        listed(fc, next_token="%%%")
    assert fc_error(exc) == (400, "InvalidArgument")


def test_many_resources_at_once_all_or_nothing(fc: Client) -> None:
    create_function(fc, "x")
    create_function(fc, "y")
    tag(fc, ["x", "y"], env="prod")
    assert tags_of(fc, "x") == tags_of(fc, "y") == {"env": "prod"}
    with pytest.raises(ClientException) as exc:
        tag(fc, ["x", "missing"], env="dev")
    assert fc_error(exc) == (404, "FunctionNotFound")
    assert "missing" in exc.value.message
    assert tags_of(fc, "x") == {"env": "prod"}  # nothing changed
    with pytest.raises(ClientException) as exc:
        untag(fc, ["missing"], all=True)
    assert fc_error(exc) == (404, "FunctionNotFound")
    untag(fc, ["x", "y"], ["env"])
    assert tags_of(fc, "x") == tags_of(fc, "y") == {}


def test_versions_and_aliases_share_the_functions_tags(fc: Client) -> None:
    create_function(fc, "v", tags=[m.Tag(key="stage", value="one")])
    fc.publish_function_version("v", m.PublishFunctionVersionRequest(body=m.PublishVersionInput()))
    fc.create_alias(
        "v", m.CreateAliasRequest(body=m.CreateAliasInput(alias_name="prod", version_id="1"))
    )
    tag(fc, ["v"], stage="two")
    assert tags_of(fc, "v", "1") == tags_of(fc, "v", "prod") == {"stage": "two"}


@pytest.mark.parametrize(
    ("names", "tags", "resource_type", "says"),
    [
        (["f"], {"k": "v"}, "service", "ResourceType"),
        (["f"], {"k": "v"}, "ALIYUN::FC::SERVICE", "ResourceType"),
        (["f"], {"k" * 65: "v"}, "function", "64"),
        (["f"], {"k": "v" * 129}, "function", "128"),
        (["f"], {"aliyun-x": "v"}, "function", "aliyun"),
        (["f"], {"acs:x": "v"}, "function", "acs:"),
        (["f"], {"k": "see https://x"}, "function", "http"),
        (["f"], {"": "v"}, "function", "Key"),
        (["f"], {f"k{i}": "v" for i in range(21)}, "function", "at most 20"),
        ([], {"k": "v"}, "function", "ResourceId"),
        (["f"], {}, "function", "Tag"),
    ],
)
def test_tag_refusals(
    fc: Client, names: list[str], tags: dict[str, str], resource_type: str, says: str
) -> None:
    create_function(fc, "f")
    with pytest.raises(ClientException) as exc:
        tag(fc, names, resource_type, **tags)
    assert fc_error(exc) == (400, "InvalidArgument")
    assert says in exc.value.message
    assert tags_of(fc, "f") == {}


def test_tag_limit_counts_existing_tags(fc: Client) -> None:
    create_function(fc, "f", tags=[m.Tag(key=f"old{i}", value="v") for i in range(15)])
    tag(fc, ["f"], old0="new")  # overwriting does not add
    with pytest.raises(ClientException) as exc:
        tag(fc, ["f"], **{f"new{i}": "v" for i in range(6)})
    assert fc_error(exc) == (400, "InvalidArgument")
    assert "21 tags" in exc.value.message
    assert len(tags_of(fc, "f")) == 15
    with pytest.raises(ClientException) as exc:
        create_function(fc, "g", tags=[m.Tag(key=f"k{i}", value="v") for i in range(21)])
    assert fc_error(exc) == (400, "InvalidArgument")


def test_resource_ids_are_arns_of_this_region_and_account(fc: Client) -> None:
    create_function(fc, "f")
    for resource_id, says in [
        ("f", "not a function ARN"),  # FC names resources by ARN only
        ("acs:fc:cn-shanghai:1234567890:functions/f", "not in this region"),
        ("acs:fc:cn-hangzhou:999:functions/f", "not in this region"),
        ("acs:fc:cn-hangzhou:1234567890:layers/f/versions/1", "not a function ARN"),
    ]:
        body = m.TagResourcesInput(resource_id=[resource_id], tag=[m.Tag(key="k", value="v")])
        with pytest.raises(ClientException) as exc:
            fc.tag_resources(m.TagResourcesRequest(body=body))
        assert fc_error(exc) == (400, "InvalidArgument")
        assert says in exc.value.message
        with pytest.raises(ClientException) as exc:
            fc.untag_resources(
                m.UntagResourcesRequest(
                    resource_type="function", resource_id=[resource_id], all=True
                )
            )
        assert fc_error(exc) == (400, "InvalidArgument")
    # ResourceType may be left out of TagResources (the SDK does not require it)
    tag(fc, ["f"], None, k="v")
    assert tags_of(fc, "f") == {"k": "v"}


def test_untag_and_list_refusals(fc: Client) -> None:
    create_function(fc, "f")
    with pytest.raises(ClientException) as exc:
        fc.untag_resources(m.UntagResourcesRequest(resource_id=[arn("f")], all=True))
    assert fc_error(exc) == (400, "InvalidArgument")
    assert "ResourceType" in exc.value.message
    with pytest.raises(ClientException) as exc:
        fc.untag_resources(m.UntagResourcesRequest(resource_type="function", all=True))
    assert "ResourceId" in exc.value.message
    with pytest.raises(ClientException) as exc:
        untag(fc, ["f"], [f"k{i}" for i in range(51)])
    assert fc_error(exc) == (400, "InvalidArgument")
    assert "50" in exc.value.message
    with pytest.raises(ClientException) as exc:
        fc.list_tag_resources(m.ListTagResourcesRequest())
    assert fc_error(exc) == (400, "InvalidArgument")
    with pytest.raises(ClientException) as exc:
        listed(fc, resource_type="alias")
    assert fc_error(exc) == (400, "InvalidArgument")
    with pytest.raises(ClientException) as exc:
        listed(fc, limit=0)
    assert fc_error(exc) == (400, "InvalidArgument")


def test_wire_shapes_raw(emulator: EmbeddedEmulator, fc: Client) -> None:
    """The capitalised wire names, and JSON errors for bodies the SDK would never send."""
    create_function(fc, "f")
    path = "/2023-03-30/tags-v2"
    ok = raw_call(
        emulator,
        "POST",
        path,
        body=b'{"ResourceType":"function","ResourceId":["%s"],"Tag":[{"Key":"k","Value":"v"}]}'
        % arn("f").encode(),
    )
    assert ok.status_code == 200, ok.text
    listed_raw = raw_call(
        emulator, "GET", path, query={"ResourceType": "function", "ResourceId": f'["{arn("f")}"]'}
    ).json()
    assert listed_raw["TagResources"] == [
        {"ResourceId": arn("f"), "ResourceType": "function", "TagKey": "k", "TagValue": "v"}
    ]
    for body in (b'{"resourceId":["x"]}', b"[]", b"{", b'{"ResourceId":"x","Tag":[]}'):
        bad = raw_call(emulator, "POST", path, body=body)
        assert bad.status_code == 400
        assert bad.json()["Code"] == "InvalidArgument"
    bad = raw_call(
        emulator, "DELETE", path, query={"ResourceType": "function", "ResourceId": "not json"}
    )
    assert (bad.status_code, bad.json()["Code"]) == (400, "InvalidArgument")
    bad = raw_call(
        emulator,
        "DELETE",
        path,
        query={"ResourceType": "function", "ResourceId": f'["{arn("f")}"]', "All": "maybe"},
    )
    assert (bad.status_code, bad.json()["Code"]) == (400, "InvalidArgument")


def test_signature_is_checked(emulator: EmbeddedEmulator, fc: Client) -> None:
    create_function(fc, "f")
    forged = sdk_client(emulator, sk="wrong")
    with pytest.raises(ClientException) as exc:
        tag(forged, ["f"], k="v")
    assert fc_error(exc) == (403, "SignatureNotMatch")
    with pytest.raises(ClientException) as exc:
        untag(forged, ["f"], all=True)
    assert fc_error(exc) == (403, "SignatureNotMatch")
    with pytest.raises(ClientException) as exc:
        listed(forged)
    assert fc_error(exc) == (403, "SignatureNotMatch")
    # a query altered after signing (another function) is refused too
    path = "/2023-03-30/tags-v2"
    signed = {"ResourceType": "function", "ResourceId": f'["{arn("g")}"]', "All": "true"}
    headers = signed_headers("DELETE", path, signed, host=emulator.endpoint)
    sent = {**signed, "ResourceId": f'["{arn("f")}"]'}
    qs = "&".join(f"{k}={quote(v, safe='')}" for k, v in sent.items())
    tampered = httpx.request("DELETE", f"{emulator.url}{path}?{qs}", headers=headers)
    assert (tampered.status_code, tampered.json()["Code"]) == (403, "SignatureNotMatch")
    assert tags_of(fc, "f") == {}


def test_faults_apply_to_tag_actions(emulator: EmbeddedEmulator, fc: Client) -> None:
    create_function(fc, "f")
    create_function(fc, "g")
    rules = [
        {"action": "TagResources", "count": 2, "status": 409, "code": "ConcurrentUpdateError"},
        {"action": "UntagResources", "status": 503},
        {"action": "ListTagResources", "status": 500},
    ]
    assert admin(emulator, "POST", "faults", rules).status_code == 201
    for _ in range(2):
        with pytest.raises(ClientException) as exc:
            tag(fc, ["f"], k="v")
        assert fc_error(exc) == (409, "ConcurrentUpdateError")
    assert tags_of(fc, "f") == {}  # a faulted call changed nothing
    tag(fc, ["f"], k="v")
    with pytest.raises(ServerException) as server:
        untag(fc, ["f"], all=True)
    assert server.value.status_code == 503
    with pytest.raises(ServerException) as server:
        listed(fc)
    assert server.value.status_code == 500
    assert admin(emulator, "GET", "faults").json()["faults"] == []
    untag(fc, ["f"], all=True)
    assert listed(fc).tag_resources == []

    # a rule narrowed to one function hits only calls that target that function
    admin(
        emulator, "POST", "faults", {"action": "TagResources", "functionName": "g", "status": 409}
    )
    tag(fc, ["f"], k="v")
    with pytest.raises(ClientException) as exc:
        tag(fc, ["g"], k="v")
    assert fc_error(exc) == (409, "ConcurrentUpdateError")
    assert tags_of(fc, "g") == {}


async def test_async_client(fc: Client) -> None:
    create_function(fc, "aio")
    body = m.TagResourcesInput(resource_id=[arn("aio")], tag=[m.Tag(key="k", value="v")])
    assert (await fc.tag_resources_async(m.TagResourcesRequest(body=body))).status_code == 200
    found = await fc.list_tag_resources_async(
        m.ListTagResourcesRequest(resource_type="function", resource_id=[arn("aio")])
    )
    assert [(r.tag_key, r.tag_value) for r in found.body.tag_resources] == [("k", "v")]
    await fc.untag_resources_async(
        m.UntagResourcesRequest(resource_type="function", resource_id=[arn("aio")], tag_key=["k"])
    )
    assert tags_of(fc, "aio") == {}
    with pytest.raises(ClientException) as exc:
        await fc.tag_resources_async(
            m.TagResourcesRequest(
                body=m.TagResourcesInput(resource_id=[arn("nope")], tag=[m.Tag(key="k", value="v")])
            )
        )
    assert fc_error(exc) == (404, "FunctionNotFound")


def test_tags_survive_restart(tmp_path: Path) -> None:
    emu = start(tmp_path)
    try:
        fc = sdk_client(emu)
        created = create_function(fc, "keep", tags=[m.Tag(key="team", value="a")])
        tag(fc, ["keep"], env="prod", team="b")
        untag(fc, ["keep"], ["team"])
    finally:
        emu.stop()
    emu2 = start(tmp_path)
    try:
        fc2 = sdk_client(emu2)
        got = fc2.get_function("keep", m.GetFunctionRequest()).body
        assert {t.key: t.value for t in got.tags} == {"env": "prod"}
        assert got.last_modified_time == created.last_modified_time
        (entry,) = listed(fc2).tag_resources
        assert (entry.resource_id, entry.tag_key, entry.tag_value) == (arn("keep"), "env", "prod")
    finally:
        emu2.stop()
