"""Every fc3 file of the reference set against the emulator: it plans and deploys, or
fcplane says (422, naming the prop) why it cannot. EXPECTED lists which file falls in
which group.

Each file deploys to an emulator account registered in the file's region (an
fcplane account has one region; the emulator serves any). ``${env()}`` gets what
fc3's e2e CI exports (see the parser's fixture test), with REGION cn-hangzhou.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fc20230330.client import Client

from service.emulator.server import EmbeddedEmulator
from service.projects.spec import parse_project
from tests.deploys.conftest import sdk_code, upload
from tests.fc import AK, SK
from tests.projects.conftest import handler_zip
from tests.projects.shared import fixture_names, sdevs_fixtures
from tests.projects.spec.test_fixtures import CONFIG, FC3

DEPLOYS = "deploys"
# file -> DEPLOYS, or (the field the 422 names, a word of its reason).
EXPECTED: dict[str, str | tuple[str, str]] = {
    "01-complete-props.s.yaml": ("s.yaml", "functionName"),  # reads an undefined variable
    "02-nodejs-async-provision-concurrency-domain.s.yaml": (
        "resources.fcDemo.props.customDomain.domainName",
        "auto",
    ),
    "03-python-env.s.yaml": DEPLOYS,
    # Two regions in one file: an fcplane account (a deploy target) has one.
    "04-triggers-timer-oss-log-mns-cdn-ots-two-resources.s.yaml": (
        "resources.fcDemo2.props.region",
        "region",
    ),
    # Its trigger fires alias `test`, which must exist: fc3's CI made it beforehand,
    # here the function and the alias exist in FC and the project adopts them.
    "05-http-triggers-qualifier.s.yaml": DEPLOYS,
    "06-http-trigger-jwt-two-resources.s.yaml": DEPLOYS,
    "07-eventbridge-triggers.s.yaml": ("resources.fcDemo.props.triggers[0]", "EventBridge"),
    "08-custom-container.s.yaml": ("resources.fcDemo.props.runtime", "container"),
    "09-custom-runtime-python.s.yaml": DEPLOYS,
    "10-auto-vpc-nas-log-oss-actions.s.yaml": ("resources.fcDemo.props.vpcConfig", "auto"),
    "11-scaling-config.s.yaml": ("resources.fcDemo.props.scalingConfig", "scaling"),
    "12-provision-target-tracking.s.yaml": ("resources.fcDemo.props.logConfig", "auto"),
    "13-custom-domain-two-functions-one-domain.s.yaml": DEPLOYS,
    "14-tags-and-pre-deploy-run.s.yaml": DEPLOYS,
    # start-fc templates keep `s init`'s `{{ placeholders }}`: not a function name yet.
    "15-start-fc-fc3-plus-fc3-domain-resource-ref.s.yaml": (
        "resources.hello_world.props.functionName",
        "pattern",
    ),
    "16-start-fc-custom-container-regex-action.s.yaml": (
        "resources.hello_world.props.functionName",
        "pattern",
    ),
    "17-start-fc-python-http.s.yaml": ("resources.hello_world.props.functionName", "pattern"),
    "18-template-extend-flow-domain-multi.s.yaml": ("resources.api_1.component", "fc3test"),
}


def test_the_table_covers_every_fc3_file() -> None:
    sdevs_fixtures()
    assert set(EXPECTED) == set(fixture_names("fc3", "*.s.yaml"))


def env_of(name: str) -> dict[str, str]:
    env = dict(FC3[name][0]) if name in FC3 else {}
    if "REGION" in env:
        env["REGION"] = "cn-hangzhou"
    return env


async def account_in(client: httpx.AsyncClient, emulator: EmbeddedEmulator, region: str) -> str:
    alias = f"emu-{region}"
    response = await client.post(
        "/v1/accounts",
        json={
            "alias": alias,
            "account_id": "1234567890",
            "region": region,
            "endpoint": emulator.url,
            "access_key_id": AK,
            "access_key_secret": SK,
        },
    )
    assert response.status_code == 201, response.text
    return alias


def with_alias_test(fc: Client, name: str) -> None:
    """The function with a published version and alias `test`, straight in FC."""
    fc.create_function(
        fc_models.CreateFunctionRequest(
            body=fc_models.CreateFunctionInput(
                function_name=name,
                runtime="nodejs20",
                handler="index.handler",
                code=sdk_code("exports.handler = () => 'v1'"),
            )
        )
    )
    version = fc.publish_function_version(
        name, fc_models.PublishFunctionVersionRequest(body=fc_models.PublishVersionInput())
    ).body.version_id
    fc.create_alias(
        name,
        fc_models.CreateAliasRequest(
            body=fc_models.CreateAliasInput(alias_name="test", version_id=version)
        ),
    )


@pytest.mark.parametrize("name", fixture_names("fc3", "*.s.yaml"))
async def test_fc3_file_deploys_or_is_refused_naming_the_prop(
    client: httpx.AsyncClient, emulator: EmbeddedEmulator, fc: Client, name: str
) -> None:
    text = sdevs_fixtures().joinpath("fc3", name).read_text()
    env = env_of(name)
    code: dict[str, str] = {}
    region = "cn-hangzhou"
    if name in FC3:
        spec = parse_project({"s.yaml": text}, env=env, config=CONFIG)
        for resource in spec.resources.values():
            path = resource.props.get("code")
            if isinstance(path, str):
                code[path] = await upload(client, handler_zip(resource.name))
        region = str(next(iter(spec.resources.values())).props.get("region"))
    body: dict[str, Any] = {"name": "corpus", "files": {"s.yaml": text}, "code": code, "env": env}
    submitted = await client.post("/v1/projects", json=body)
    expected = EXPECTED[name]
    if submitted.status_code == 201:
        alias = await account_in(client, emulator, region)
        target = {"access": alias, "adopt": name.startswith("05-")}
        if name.startswith("05-"):
            with_alias_test(fc, "ci")
        planned = await client.post("/v1/projects/corpus/plan", json=target)
        if planned.status_code == 200:
            assert expected == DEPLOYS, (name, planned.json())
            # One Python zip stands in for every runtime's code (nodejs20 in some files):
            # the props are under test here, not the code, so the handler check is waived.
            deployed = await client.post(
                "/v1/projects/corpus/deployments", json={**target, "allow_missing_handler": True}
            )
            assert deployed.status_code == 201, deployed.text
            result = deployed.json()
            assert result["status"] == "succeeded", (name, result["results"])
            assert {r["status"] for r in result["results"]} == {"deployed"}
            assert [r["resource"] for r in result["results"]] == list(spec.resources)
            return
        refused = planned
    else:
        refused = submitted
    assert not isinstance(expected, str), (name, refused.text)
    field, word = expected
    problem = refused.json()
    assert refused.status_code == 422, refused.text
    assert problem["field"] == field, problem
    assert word in problem["detail"], problem
