"""Function, service, trigger and output details beyond the §3 gaps."""

from __future__ import annotations

import yaml

from service.projects.fun2s import convert_template
from service.projects.fun2s.document import PROP_ORDER
from tests.projects.fun2s.builders import (
    FUNCTION,
    SERVICE,
    props,
    template,
    trigger,
    unmapped_at,
    warned,
)

FN = "Resources.svc.fn"


def test_service_settings_are_pushed_down_onto_every_function() -> None:
    service = {
        "Role": "acs:ram::1:role/r",
        "InternetAccess": False,
        "VpcConfig": {"VpcId": "vpc-1", "VSwitchIds": ["vsw-1"], "SecurityGroupId": "sg-1"},
        "LogConfig": {"Project": "p", "Logstore": "s", "EnableRequestMetrics": True},
        "NasConfig": "Auto",
    }
    second = {
        "Type": FUNCTION,
        "Properties": {"Handler": "h", "Runtime": "python3", "CodeUri": "./"},
    }
    text = template(service=service).replace("Resources:\n  svc:", "Resources:\n  svc:", 1)
    document = yaml.safe_load(text)
    document["Resources"]["svc"]["other"] = second
    conversion = convert_template(yaml.safe_dump(document, sort_keys=False))
    for name in ("svc$fn", "svc$other"):
        made = props(conversion, name)
        assert made["role"] == "acs:ram::1:role/r"
        assert made["internetAccess"] is False
        assert made["vpcConfig"] == {
            "vpcId": "vpc-1",
            "vSwitchIds": ["vsw-1"],
            "securityGroupId": "sg-1",
        }
        assert made["logConfig"] == {"project": "p", "logstore": "s", "enableRequestMetrics": True}
        assert made["nasConfig"] == "auto"
    assert (
        props(conversion, "svc$fn")["vpcConfig"] is not props(conversion, "svc$other")["vpcConfig"]
    )


def test_tracing_enable_is_reported_and_disable_is_the_default() -> None:
    enabled = convert_template(template(service={"TracingConfig": "Enable"}))
    assert "Jaeger" in unmapped_at(enabled, "Resources.svc.Properties.TracingConfig").reason
    disabled = convert_template(template(service={"TracingConfig": "Disable"}))
    assert "tracingConfig" not in props(disabled)
    assert not disabled.unmapped


def test_function_properties_map_to_fc3_props() -> None:
    function = {
        "Description": "d",
        "Timeout": 60,
        "MemorySize": 1024,
        "Initializer": "index.init",
        "InitializationTimeout": 10,
        "InstanceLifecycleConfig": {
            "PreStop": {"Handler": "index.stop", "Timeout": 5},
            "PreFreeze": {"Handler": "index.freeze", "Timeout": 5},
        },
        "Layers": ["acs:fc:cn-hangzhou:1:layers/x/versions/1", "0a1b#lib#3"],
        "CodeUri": "oss://bucket/path/code.zip",
    }
    conversion = convert_template(template(function=function))
    made = props(conversion)
    assert made["code"] == {"ossBucketName": "bucket", "ossObjectName": "path/code.zip"}
    assert (made["timeout"], made["memorySize"], made["description"]) == (60, 1024, "d")
    assert made["instanceLifecycleConfig"] == {
        "initializer": {"handler": "index.init", "timeout": 10},
        "preStop": {"handler": "index.stop", "timeout": 5},
    }
    assert (
        "PreFreeze"
        in unmapped_at(conversion, f"{FN}.Properties.InstanceLifecycleConfig.PreFreeze").reason
    )
    assert made["layers"] == [
        "acs:fc:cn-hangzhou:1:layers/x/versions/1",
        "acs:fc:${vars.region}:${config('AccountID')}:layers/lib/versions/3",
    ]


def test_custom_container_config_and_ports() -> None:
    function = {
        "Runtime": "custom-container",
        "CAPort": 9000,
        "CustomContainerConfig": {
            "Image": "registry.cn-hangzhou.aliyuncs.com/ns/app:1",
            "Command": '["python", "app.py"]',
            "Args": '["--port", "9000"]',
            "AccelerationType": "Default",
        },
    }
    conversion = convert_template(template(function=function))
    made = props(conversion)
    assert made["customContainerConfig"] == {
        "port": 9000,
        "image": "registry.cn-hangzhou.aliyuncs.com/ns/app:1",
        "entrypoint": ["python", "app.py"],
        "command": ["--port", "9000"],
    }
    assert "code" not in made
    assert unmapped_at(conversion, f"{FN}.Properties.CodeUri")
    assert unmapped_at(conversion, f"{FN}.Properties.CustomContainerConfig.AccelerationType")
    custom = props(convert_template(template(function={"Runtime": "custom", "CAPort": 8080})))
    assert custom["customRuntimeConfig"] == {"port": 8080}


def test_environment_values_become_strings() -> None:
    function = {"EnvironmentVariables": {"N": 123, "F": 1.5, "B": False, "S": "s"}}
    conversion = convert_template(template(function=function))
    assert props(conversion)["environmentVariables"] == {
        "N": "123",
        "F": "1.5",
        "B": "false",
        "S": "s",
    }
    assert warned(conversion, f"{FN}.Properties.EnvironmentVariables.N", "'123'")


def test_unknown_keys_are_reported_never_dropped_silently() -> None:
    conversion = convert_template(
        template(
            service={"Colour": "blue"},
            function={"Shiny": True},
            events={
                "t": {"Type": "Timer", "Properties": {"CronExpression": "@every 1m", "Extra": 1}}
            },
            resources={"mystery": {"Type": "Aliyun::Serverless::Gadget"}},
            top={"Outputs": {}},
        )
    )
    for path in (
        "Resources.svc.Properties.Colour",
        f"{FN}.Properties.Shiny",
        f"{FN}.Events.t.Properties.Extra",
        "Resources.mystery",
        "Outputs",
    ):
        assert unmapped_at(conversion, path)


def test_http_and_timer_triggers_follow_fc3_semantics() -> None:
    events = {
        "web": {"Type": "HTTP", "Properties": {"AuthType": "FUNCTION", "Methods": ["get", "POST"]}},
        "tick": {
            "Type": "Timer",
            "Properties": {"CronExpression": "0 0 8 * * *", "Payload": {"a": 1}},
        },
        "on": {"Type": "Timer", "Properties": {"CronExpression": "@every 1m", "Enable": True}},
    }
    conversion = convert_template(template(events=events))
    assert trigger(conversion, "web")["triggerConfig"] == {
        "authType": "function",
        "methods": ["GET", "POST"],
    }
    tick = trigger(conversion, "tick")["triggerConfig"]
    assert tick == {"cronExpression": "0 0 8 * * *", "enable": False, "payload": '{"a": 1}'}
    assert warned(conversion, f"{FN}.Events.tick.Properties", "Enable")
    assert trigger(conversion, "on")["triggerConfig"]["enable"] is True


def test_mns_topic_region_comes_from_the_declared_topic() -> None:
    topic = {"Type": "Aliyun::Serverless::MNSTopic", "Properties": {"Region": "ap-southeast-2"}}
    event = {"Type": "MNSTopic", "Properties": {"TopicName": "t"}}
    conversion = convert_template(template(events={"m": event}, resources={"t": topic}))
    made = trigger(conversion, "m")
    assert made["sourceArn"] == "acs:mns:ap-southeast-2:${config('AccountID')}:/topics/t"
    assert made["triggerConfig"] == {
        "notifyContentFormat": "STREAM",
        "notifyStrategy": "BACKOFF_RETRY",
    }


def test_output_is_ordered_readable_and_loads_to_the_document() -> None:
    cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    domain = {
        "Type": "Aliyun::Serverless::CustomDomain",
        "Properties": {
            "Protocol": "HTTP,HTTPS",
            "CertConfig": {"CertName": "c", "PrivateKey": "./key.pem", "Certificate": cert},
            "RouteConfig": {"Routes": {"/": {"ServiceName": "svc", "FunctionName": "fn"}}},
        },
    }
    events = {"web": {"Type": "HTTP", "Properties": {"AuthType": "ANONYMOUS", "Methods": ["GET"]}}}
    conversion = convert_template(template(events=events, resources={"a.example.com": domain}))
    assert yaml.safe_load(conversion.syaml) == conversion.document
    assert "certificate: |" in conversion.syaml
    assert "  - triggerName: web" in conversion.syaml  # lists indented under their key
    keys = list(props(conversion))
    assert keys == sorted(keys, key=PROP_ORDER.index)
    assert list(trigger(conversion, "web")) == ["triggerName", "triggerType", "triggerConfig"]


def test_colliding_resource_keys_are_made_unique() -> None:
    function = {
        "Type": FUNCTION,
        "Properties": {"Handler": "h", "Runtime": "python3", "CodeUri": "."},
    }
    document = {
        "Transform": "Aliyun::Serverless-2018-04-03",
        "Resources": {
            "a-b": {"Type": SERVICE, "c": function},
            "a": {"Type": SERVICE, "b-c": function},
        },
    }
    conversion = convert_template(yaml.safe_dump(document))
    assert list(conversion.document["resources"]) == ["fc-a-b-c", "fc-a-b-c-2"]
    assert {r["props"]["functionName"] for r in conversion.document["resources"].values()} == {
        "a-b$c",
        "a$b-c",
    }


def test_a_service_without_functions_is_reported() -> None:
    document = {
        "Transform": "Aliyun::Serverless-2018-04-03",
        "Resources": {"lonely": {"Type": SERVICE}},
    }
    conversion = convert_template(yaml.safe_dump(document))
    assert conversion.document["resources"] == {}
    assert "no services" in unmapped_at(conversion, "Resources.lonely").reason


def test_unusual_line_breaks_survive_the_round_trip() -> None:
    text = "a\x85b\u2028c"
    conversion = convert_template(template(function={"EnvironmentVariables": {"V": text}}))
    assert yaml.safe_load(conversion.syaml) == conversion.document
    assert props(conversion)["environmentVariables"]["V"] == text
