"""Every real s.yaml of the reference set parses, resolving to the values it means.

The files are read in place from the shared fixtures (never copied here). Each
row gives the environment its ``${env()}`` calls read — the fc3 e2e files read
what fc3's CI sets (component version, function name suffix, runtime, REGION)
— and values the resolved project must carry.
"""

from __future__ import annotations

from typing import Any

import pytest

from service.projects.spec import Pending, Project, SpecError, parse_project
from tests.projects.shared import fixture_names, sdevs_fixtures

CONFIG = {"AccountID": "1234567890"}
# What fc3's e2e CI exports before `s deploy` of these files.
CI = {
    "REGION": "cn-shanghai",
    "fc_component_version": "fc3",
    "fc_component_function_name": "ci",
    "fc_component_runtime": "nodejs20",
}


def read(*parts: str) -> str:
    return sdevs_fixtures().joinpath(*parts).read_text()


def props_of(project: Project, resource: str, *keys: str) -> dict[str, Any]:
    props = project.resources[resource].props
    return {k: props.get(k) for k in keys}


# file -> (env, {resource: {prop: value}}, layers)
FC3: dict[str, tuple[dict[str, str], dict[str, dict[str, Any]], list[list[str]]]] = {
    "02-nodejs-async-provision-concurrency-domain.s.yaml": (
        CI,
        {"fcDemo": {"functionName": "fc3-event-ci", "runtime": "nodejs20", "timeout": 60}},
        [["fcDemo"]],
    ),
    "03-python-env.s.yaml": (
        CI,
        {"fcDemo": {"region": "cn-shanghai", "functionName": "fc3-event-ci", "memorySize": 128}},
        [["fcDemo"]],
    ),
    "04-triggers-timer-oss-log-mns-cdn-ots-two-resources.s.yaml": (
        CI,
        {
            "fcDemo": {"region": "cn-huhehaote", "functionName": "ci", "timeout": 3},
            "fcDemo2": {"region": "cn-shenzhen", "runtime": "nodejs20"},
        },
        [["fcDemo"], ["fcDemo2"]],
    ),
    "05-http-triggers-qualifier.s.yaml": (
        CI,
        {"fcDemo": {"functionName": "ci", "region": "cn-shanghai"}},
        [["fcDemo"]],
    ),
    "06-http-trigger-jwt-two-resources.s.yaml": (
        CI,
        {"hello_world": {"functionName": "ci"}, "hello_world_2": {"functionName": "ci-2"}},
        [["hello_world"], ["hello_world_2"]],
    ),
    "07-eventbridge-triggers.s.yaml": (CI, {"fcDemo": {"region": "cn-huhehaote"}}, [["fcDemo"]]),
    "08-custom-container.s.yaml": (
        CI,
        {"fcDemo": {"functionName": "fc3-event-ci", "runtime": "custom-container"}},
        [["fcDemo"]],
    ),
    "09-custom-runtime-python.s.yaml": (
        CI,
        {"helloworld": {"functionName": "fc3-event-custom-ci", "cpu": 1, "memorySize": 1536}},
        [["helloworld"]],
    ),
    "10-auto-vpc-nas-log-oss-actions.s.yaml": (
        CI,
        {"fcDemo": {"role": "acs:ram::1234567890:role/aliyunaliyunfcdefaultrole"}},
        [["fcDemo"]],
    ),
    "11-scaling-config.s.yaml": (
        CI,
        {"fcDemo": {"functionName": "fc3-scaling-ci", "logConfig": "auto"}},
        [["fcDemo"]],
    ),
    "12-provision-target-tracking.s.yaml": (
        CI,
        {"fcDemo": {"functionName": "fc3-provision-ci", "cpu": 0.35, "role": ""}},
        [["fcDemo"]],
    ),
    "13-custom-domain-two-functions-one-domain.s.yaml": (
        CI,
        {
            "hello_world_1": {"functionName": "test-cd"},
            "hello_world_2": {"functionName": "test-cd2"},
        },
        [["hello_world_1"], ["hello_world_2"]],
    ),
    "14-tags-and-pre-deploy-run.s.yaml": (
        CI,
        {
            "fcDemo1": {
                "functionName": "fc3-event-ci-tags",
                "tags": [{"Key": "test", "Value": "value"}],
            }
        },
        [["fcDemo1"]],
    ),
    # start-fc templates: no ${env()}; `{{ }}` are `s init` placeholders, kept as text.
    "15-start-fc-fc3-plus-fc3-domain-resource-ref.s.yaml": (
        {},
        {"hello_world": {"functionName": "{{ functionName }}", "region": "{{ region }}"}},
        [["hello_world"], ["test-fc-domain"]],
    ),
    "16-start-fc-custom-container-regex-action.s.yaml": (
        {},
        {"hello_world": {"customContainerConfig": {"image": "{{ acrImage }}"}, "cpu": 0.5}},
        [["hello_world"]],
    ),
    "17-start-fc-python-http.s.yaml": (
        {},
        {"hello_world": {"runtime": "{{ runtime }}", "memorySize": 128}},
        [["hello_world"]],
    ),
    # The template's `region: ${env('region')}` has no default.
    "18-template-extend-flow-domain-multi.s.yaml": (
        {"region": "cn-beijing"},
        {
            "api_1": {"region": "cn-beijing", "runtime": "custom", "vpcConfig": "auto"},
            "fc3_domain_0": {"region": "cn-hangzhou"},
        },
        [["api_1", "api_2"], ["fc3_domain_0"]],
    ),
}


def test_the_table_covers_every_fc3_fixture() -> None:
    names = set(fixture_names("fc3", "*.s.yaml"))
    sdevs_fixtures()
    assert names == {*FC3, "01-complete-props.s.yaml"}


@pytest.mark.parametrize("name", fixture_names("fc3", "*.s.yaml"))
def test_fc3_fixture_resolves(name: str) -> None:
    text = read("fc3", name)
    if name == "01-complete-props.s.yaml":  # see the two tests of 01 below
        with pytest.raises(SpecError, match="'functionName' is not defined"):
            parse_project({"s.yaml": text}, env={}, config=CONFIG)
        return
    env, expected, layers = FC3[name]
    project = parse_project({"s.yaml": text}, env=env, config=CONFIG)
    for resource, values in expected.items():
        assert props_of(project, resource, *values) == values
    assert project.layers == layers
    assert project.edition == "3.0.0"
    # Every variable read got the value the environment gave.
    assert project.env_used == {k: env.get(k) for k in project.env_used}
    if env is CI:
        assert {r.component for r in project.resources.values()} == {"fc3"}
        assert project.env_used["fc_component_version"] == "fc3"


def test_fc3_defaults_apply_without_the_environment() -> None:
    project = parse_project(
        {"s.yaml": read("fc3", "02-nodejs-async-provision-concurrency-domain.s.yaml")},
        env={},
        config=CONFIG,
    )
    demo = project.resources["fcDemo"]
    assert demo.props["region"] == "cn-hongkong"
    assert demo.props["functionName"] == "fc3-event-nodejs18"
    # env('fc_component_version', path('../../../')): the default is a path, relative to the root.
    assert demo.component == "../../.."
    assert project.env_used["REGION"] is None
    assert demo.props["asyncInvokeConfig"]["destinationConfig"]["onFailure"] == {
        "destination": "acs:mns:cn-hongkong::/topics/serverless-devs-fc3-ci-test/messages"
    }
    assert demo.props["provisionConfig"]["scheduledActions"][0]["timeZone"] == ""
    assert any("path('../../../')" in w for w in project.warnings)


def test_fc3_oss_trigger_arn_interpolates_config() -> None:
    name = "04-triggers-timer-oss-log-mns-cdn-ots-two-resources.s.yaml"
    project = parse_project({"s.yaml": read("fc3", name)}, env=CI, config=CONFIG)
    triggers = project.resources["fcDemo"].props["triggers"]
    oss = next(t for t in triggers if t["triggerName"] == "ossTrigger1")
    assert oss["sourceArn"] == "acs:oss:cn-huhehaote:1234567890:serverless-devs-fc3-ci-test"
    assert triggers[0]["triggerConfig"]["enable"] is False


def test_fc3_actions_of_the_fixtures() -> None:
    project = parse_project(
        {"s.yaml": read("fc3", "10-auto-vpc-nas-log-oss-actions.s.yaml")}, env=CI, config=CONFIG
    )
    (action,) = project.resources["fcDemo"].actions
    assert (action.hook, action.command, action.kind) == ("pre", "deploy", "run")
    assert (action.value, action.path, action.resource) == (
        "npm install",
        "./test-auto-code",
        "fcDemo",
    )
    regex = parse_project(
        {"s.yaml": read("fc3", "16-start-fc-custom-container-regex-action.s.yaml")},
        env={},
        config=CONFIG,
    )
    (build,) = regex.resources["hello_world"].actions
    # pre-${regex('deploy|local')} compiled for deploy: pre-true.
    assert (build.hook, build.command, build.kind) == ("pre", "true", "component")
    assert build.value == "fc3 build --dockerfile ./code/Dockerfile"


def test_fc3_resource_props_reference_without_an_edge() -> None:
    name = "15-start-fc-fc3-plus-fc3-domain-resource-ref.s.yaml"
    project = parse_project({"s.yaml": read("fc3", name)}, env={}, config=CONFIG)
    domain = project.resources["test-fc-domain"]
    assert domain.component == "fc3-domain"
    assert domain.props["routeConfig"]["routes"][0]["functionName"] == "{{ functionName }}"
    assert domain.depends_on == set()
    assert project.access == "{{ access }}"


def test_fc3_template_flow_fixture() -> None:
    name = "18-template-extend-flow-domain-multi.s.yaml"
    project = parse_project({"s.yaml": read("fc3", name)}, env={"region": "x"}, config=CONFIG)
    api_1 = project.resources["api_1"].props
    assert api_1["test"] == "acs:ram::cn-hangzhou-1234567890:role/fc-web-framework-app"
    assert api_1["triggers"][0]["triggerConfig"]["methods"] == ["GET", "POST"]
    # api_2 writes `extend` inside props, which Serverless Devs leaves a prop.
    assert project.resources["api_2"].props["extend"] == {"name": "global", "ignore": "vpcConfig"}
    assert "runtime" not in project.resources["api_2"].props
    routes = project.resources["fc3_domain_0"].props["routeConfig"]["routes"]
    assert [r["functionName"] for r in routes] == [
        "s-template-demo_springboot-api-1",
        "s-template-demo_springboot-api-2",
    ]
    assert project.flow is True
    with pytest.raises(SpecError, match=r"env\('region'\) not found") as caught:
        parse_project({"s.yaml": read("fc3", name)}, env={}, config=CONFIG)
    assert caught.value.line is not None


def test_fc3_complete_props_reads_an_undefined_variable() -> None:
    """01 writes ``${functionName}`` inside JSON text: upstream's compiler has no such
    variable, and an undefined result is an error — reported at the exact column."""
    text = read("fc3", "01-complete-props.s.yaml")
    with pytest.raises(SpecError) as caught:
        parse_project({"s.yaml": text}, env={}, config=CONFIG)
    error = caught.value
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "MNS-${functionName}" in t)
    column = text.splitlines()[line - 1].index("${functionName}") + 1
    assert (error.line, error.column, error.expression) == (line, column, "${functionName}")
    assert "'functionName' is not defined" in error.reason


def test_fc3_complete_props_with_the_reference_the_authors_meant() -> None:
    text = read("fc3", "01-complete-props.s.yaml").replace(
        "${functionName}", "${this.props.functionName}"
    )
    project = parse_project({"s.yaml": text}, env={}, config=CONFIG)
    demo = project.resources["fcDemo"]
    assert demo.component == ".."
    assert demo.props["cpu"] == 0.5
    assert demo.props["internetAccess"] is True
    assert demo.props["nasConfig"]["groupId"] == 65534
    eventbridge = {t["triggerName"]: t for t in demo.props["triggers"]}
    pattern = eventbridge["eventbridgeTriggerWithMNSSource"]["triggerConfig"]
    assert pattern["eventRuleFilterPattern"] == (
        '{"source":["MNS-string-eventbridgeTriggerWithMNSSource"]}'
    )
    rocket = eventbridge["eventbridgeTriggerWithRocketMQSource"]["triggerConfig"]
    assert (
        rocket["eventSourceConfig"]["eventSourceParameters"]["sourceRocketMQParameters"][
            "Timestamp"
        ]
        == 1636597951984
    )
    assert (
        demo.props["triggers"][-1]["triggerConfig"]["eventSourceConfig"]["eventSourceParameters"][
            "sourceDTSParameters"
        ]["InitCheckPoint"]
        == 1677340805
    )


def test_fc3_domain_example() -> None:
    project = parse_project({"s.yaml": read("fc3-domain", "example.s.yaml")}, env={}, config=CONFIG)
    domain = project.resources["fc-domain-test"]
    assert domain.component == ".."  # ${path("../")}
    assert domain.props["protocol"] == "HTTP,HTTPS"
    assert domain.props["routeConfig"]["routes"][0]["rewriteConfig"]["wildcardRules"] == [
        {"match": "/api/*", "replacement": "/$1"}
    ]
    assert len(domain.props["tlsConfig"]["cipherSuites"]) == 22
    assert project.access == "gwh_test"


# ---------------------------------------------------------------- sdevs-core


def test_core_order_deps() -> None:
    project = parse_project(
        {"s.yaml": read("sdevs-core", "order-deps.s.yaml")}, env={}, config=CONFIG
    )
    # a reads b's props (no edge); b reads c's output (edge c -> b).
    assert project.layers == [["a"], ["c"], ["b"]]
    assert project.resources["a"].props["function"]["timeout"] == 60  # via b, via c
    assert project.resources["b"].depends_on == {"c"}
    description = project.resources["b"].props["function"]["description"]
    assert isinstance(description, Pending)
    assert description.as_written() == "${resources.c.output.hello} test"


def test_core_flow() -> None:
    project = parse_project({"s.yaml": read("sdevs-core", "flow.s.yaml")}, env={}, config=CONFIG)
    assert project.flow is True
    assert project.layers == [["framework", "website"], ["next-function"]]
    variables = project.resources["framework"].props["function"]["environmentVariables"]
    assert variables == {
        "AccountID": "1234567890",
        "name": "framework",
        "access": "default",
        "codeUri": "./code/docs/.vuepress/dist",
    }
    assert project.resources["next-function"].depends_on == {"website", "framework"}


def test_core_flow_order_invalid() -> None:
    text = read("sdevs-core", "flow-order-invalid.s.yaml")
    with pytest.raises(SpecError) as caught:
        parse_project({"s.yaml": text}, env={}, config=CONFIG)
    assert caught.value.reason == "flow is invalid, website must be executed before next-function"
    assert caught.value.line == text.splitlines().index("  ${regex('deploy')}: # 支持正则") + 1


def test_core_global_actions() -> None:
    project = parse_project(
        {"s.yaml": read("sdevs-core", "global-actions.s.yaml")}, env={"desc": "D"}, config={}
    )
    first = project.actions[0]
    assert (first.hook, first.command, first.kind, first.value) == (
        "pre",
        "true",
        "run",
        "echo cn-hangzhou-D",
    )
    assert first.resource is None
    plugin = project.actions[1]
    assert (plugin.kind, plugin.value, plugin.args) == (
        "plugin",
        "../plugin/a.js",
        {"testKey": "testValue"},
    )
    assert [(a.hook, a.command) for a in project.actions] == [
        ("pre", "true"),
        ("pre", "true"),
        ("success", "deploy"),
        ("complete", "true"),
        ("complete", "true"),
        ("fail", "deploy"),
        ("fail", "deploy"),
    ]
    own = project.resources["next-helloworld"].actions
    assert own[0].value == (
        "echo next-helloworld cn-hangzhou-D-hello-world-service-B-"
        "${resources.helloworld.output.hello}"
    )
    assert own[-3].kind == "component"
    assert own[-3].value == 'fc3test deploy -e \'{"word_file":"example.docx"}\''
    # Output references in actions create no edge.
    assert project.resources["next-helloworld"].depends_on == set()
    assert project.env_used == {"desc": "D"}


def test_core_action_complete_deploy() -> None:
    project = parse_project(
        {"s.yaml": read("sdevs-core", "action-complete-deploy.s.yaml")}, env={}, config={}
    )
    actions = project.resources["hello_world"].actions
    assert [(a.hook, a.command, a.kind, a.value) for a in actions] == [
        ("complete", "deploy", "run", "sleep 30"),
        ("complete", "deploy", "component", "fc3 invoke"),
    ]
    assert project.resources["hello_world"].props["region"] == "cn-huhehaote"
    assert project.resources["hello_world"].props["timeout"] == 86400


def test_core_file_extend() -> None:
    files = {
        "extend.yaml": read("sdevs-core", "extend", "extend.yaml"),
        "base.yaml": read("sdevs-core", "extend", "base.yaml"),
    }
    project = parse_project(files, main="extend.yaml", env={}, config=CONFIG)
    framework = project.resources["framework"]
    # Base's `service: ${vars.service}` (with the child's vars), then the child's name on top.
    assert framework.props["service"] == {
        "name": "website-wof2-pre",
        "description": "this is a new service",
        "internetAccess": True,
    }
    assert framework.component == "fc3test"
    environment = framework.props["function"]["environmentVariables"]
    assert environment["functionName"] == "next-function-example"
    assert environment["codeUri"] == "./code/docs/.vuepress/dist"
    assert isinstance(environment["hello"], Pending)
    assert project.layers == [["next_function"], ["framework"]]
    assert project.vars["service"]["name"] == "website-wof2-new"


@pytest.mark.parametrize(
    ("file", "framework_runtime"),
    [("base.yaml", "nodejs14"), ("project-extend.yaml", "python3")],
)
def test_core_template(file: str, framework_runtime: str) -> None:
    project = parse_project({"s.yaml": read("sdevs-core", "template", file)}, env={}, config=CONFIG)
    framework = project.resources["framework"].props
    assert framework["runtime"] == framework_runtime
    assert framework["region"] == "cn-shanghai"  # props win over the template
    assert "vpcConfig" not in framework  # ignored
    assert project.resources["next-function"].props["vpcConfig"] == "vpc-2"
    assert list(framework)[:2] == ["region", "runtime"]


def test_core_env_yaml() -> None:
    files = {
        "s.yaml": read("sdevs-core", "env", "s.yaml"),
        "env.yaml": read("sdevs-core", "env", "env.yaml"),
    }
    dev = parse_project(files, env={}, config=CONFIG, environment="dev")
    assert dev.access == "default-3"
    assert {r.props["region"] for r in dev.resources.values()} == {"cn-hangzhou"}
    plain = parse_project(files, env={}, config=CONFIG)
    assert plain.access == "default"
    assert plain.resources["function-a"].props["region"] == "cn-chengdu"
    unknown = parse_project(files, env={}, config=CONFIG, environment="staging")
    assert unknown.resources["function-a"].props["region"] == "cn-chengdu"
    assert any("staging" in w for w in unknown.warnings)
