"""One test per gap of fun2s-mapping.md §3: each is handled, or reported with a reason."""

from __future__ import annotations

import pytest

from service.projects.fun2s import convert_template
from tests.projects.fun2s.builders import props, template, trigger, unmapped_at, warned
from tests.projects.shared import sdevs_fixtures

ACCOUNT = "${config('AccountID')}"
FN = "Resources.svc.fn"


def test_gap1_policies_become_a_role_arn_and_are_reported() -> None:
    policies = ["AliyunOSSFullAccess", {"Version": "1", "Statement": []}]
    conversion = convert_template(template(service={"Policies": policies}), region="cn-beijing")
    assert (
        props(conversion)["role"] == f"acs:ram::{ACCOUNT}:role/aliyunfcgeneratedrole-cn-beijing-svc"
    )
    reason = unmapped_at(conversion, "Resources.svc.Properties.Policies").reason
    assert "AliyunOSSFullAccess" in reason
    assert "inline documents: 1" in reason


def test_gap1_an_explicit_role_wins_and_policies_are_reported_as_ignored() -> None:
    role = "acs:ram::123:role/mine"
    conversion = convert_template(
        template(service={"Role": role, "Policies": "AliyunOSSFullAccess"})
    )
    assert props(conversion)["role"] == role
    assert "ignore" in unmapped_at(conversion, "Resources.svc.Properties.Policies").reason


@pytest.mark.parametrize(
    ("event", "kind", "arn"),
    [
        (
            {"Type": "OSS", "Properties": {"BucketName": "b", "Events": ["oss:ObjectCreated:*"],
                                           "Filter": {"Key": {"Prefix": "p/", "Suffix": ".png"}}}},
            "oss",
            f"acs:oss:${{vars.region}}:{ACCOUNT}:b",
        ),
        (
            {"Type": "MNSTopic", "Properties": {"TopicName": "t", "Region": "cn-shanghai"}},
            "mns_topic",
            f"acs:mns:cn-shanghai:{ACCOUNT}:/topics/t",
        ),
        (
            {"Type": "TableStore", "Properties": {"InstanceName": "i", "TableName": "t"}},
            "tablestore",
            f"acs:ots:${{vars.region}}:{ACCOUNT}:instance/i/table/t",
        ),
        (
            {"Type": "Log", "Properties": {
                "SourceConfig": {"Logstore": "src"},
                "JobConfig": {"MaxRetryTime": 1, "TriggerInterval": 30},
                "LogConfig": {"Project": "proj", "Logstore": "out"}}},
            "log",
            f"acs:log:${{vars.region}}:{ACCOUNT}:project/proj",
        ),
        (
            {"Type": "CDN", "Properties": {"EventName": "LogFileCreated", "EventVersion": "1.0.0",
                                           "Notes": "n", "Filter": {"Domain": ["a.com"]}}},
            "cdn_events",
            f"acs:cdn:*:{ACCOUNT}",
        ),
    ],
    ids=["oss", "mns", "tablestore", "log", "cdn"],
)  # fmt: skip
def test_gap2_every_event_source_moves_into_source_arn(
    event: dict[str, object], kind: str, arn: str
) -> None:
    conversion = convert_template(template(events={"e": event}))
    made = trigger(conversion, "e")
    assert made["triggerType"] == kind
    assert made["sourceArn"] == arn
    assert made["invocationRole"].startswith(f"acs:ram::{ACCOUNT}:role/aliyun")
    assert warned(conversion, f"{FN}.Events.e", "InvocationRole")
    source_keys = {"bucketName", "topicName", "instanceName", "tableName", "region"}
    assert not source_keys & set(made["triggerConfig"])
    if kind == "tablestore":
        assert made["triggerConfig"] == {}


def test_gap2_a_given_invocation_role_is_kept() -> None:
    event = {"Type": "TableStore", "Properties": {
        "InstanceName": "i", "TableName": "t", "InvocationRole": "acs:ram::1:role/r"}}  # fmt: skip
    conversion = convert_template(template(events={"e": event}))
    assert trigger(conversion, "e")["invocationRole"] == "acs:ram::1:role/r"


def test_gap3_cdn_triggers_are_cdn_events_with_filter_domain() -> None:
    path = sdevs_fixtures() / "fun2s-pairs" / "cdn-trigger" / "template.yml"
    conversion = convert_template(path.read_text())
    made = trigger(conversion, "cdn-trigger-name", "cdn-test-service$cdn-test-function")
    assert made["triggerType"] == "cdn_events"
    assert made["triggerConfig"]["filter"] == {"domain": ["cdn-trigger.sunfeiyu.top"]}
    assert made["triggerConfig"]["eventVersion"] == "1.0.0"


def test_gap4_rds_triggers_are_reported_not_emitted() -> None:
    path = sdevs_fixtures() / "fun2s-pairs" / "rds-trigger" / "template.yml"
    conversion = convert_template(path.read_text())
    assert "triggers" not in props(conversion, "rds-service$rds-function")
    reason = unmapped_at(
        conversion, "Resources.rds-service.rds-function.Events.my-rds-trigger"
    ).reason
    assert "RDS" in reason


@pytest.mark.parametrize("kind", ["Datahub", "Api"])
def test_gap4_datahub_and_api_events_are_reported(kind: str) -> None:
    conversion = convert_template(template(events={"e": {"Type": kind, "Properties": {}}}))
    assert "triggers" not in props(conversion)
    assert unmapped_at(conversion, f"{FN}.Events.e").reason


def test_gap5_async_destinations_are_fc3_shaped_with_fc3_function_arns() -> None:
    async_config = {
        "Destination": {
            "OnSuccess": "acs:fc:::services/other.prod/functions/done",
            "OnFailure": "acs:mns:::/queues/dead/messages",
        },
        "MaxAsyncRetryAttempts": 1,
        "StatefulInvocation": True,
    }
    conversion = convert_template(template(function={"AsyncConfiguration": async_config}))
    config = props(conversion)["asyncInvokeConfig"]
    assert config["destinationConfig"] == {
        "onSuccess": {"destination": "acs:fc:${vars.region}::functions/other$done"},
        "onFailure": {"destination": "acs:mns:${vars.region}::/queues/dead/messages"},
    }
    assert config["maxAsyncRetryAttempts"] == 1
    assert config["asyncTask"] is True
    assert warned(conversion, f"{FN}.Properties.AsyncConfiguration.Destination.OnSuccess", "prod")


def test_gap6_domain_routes_land_on_the_function_they_name() -> None:
    domain = {
        "Type": "Aliyun::Serverless::CustomDomain",
        "Properties": {
            "Protocol": "HTTP",
            "RouteConfig": {"Routes": {
                "/a": {"ServiceName": "svc", "FunctionName": "fn", "Qualifier": "LATEST"},
                "/b": {"ServiceName": "elsewhere", "FunctionName": "fn"}}},
        },
    }  # fmt: skip
    http = {"h": {"Type": "HTTP", "Properties": {"AuthType": "ANONYMOUS", "Methods": ["GET"]}}}
    conversion = convert_template(template(events=http, resources={"example.com": domain}))
    assert props(conversion)["customDomain"] == {
        "domainName": "example.com",
        "protocol": "HTTP",
        "route": {"path": "/a", "qualifier": "LATEST"},
    }
    reason = unmapped_at(
        conversion, "Resources.example.com.Properties.RouteConfig.Routes./b"
    ).reason
    assert "elsewhere$fn" in reason


def test_gap6_a_second_route_for_one_function_is_reported() -> None:
    routes = {"/a": {"ServiceName": "svc", "FunctionName": "fn"},
              "/b": {"ServiceName": "svc", "FunctionName": "fn"}}  # fmt: skip
    domain = {"Type": "Aliyun::Serverless::CustomDomain",
              "Properties": {"Protocol": "HTTP", "RouteConfig": {"Routes": routes}}}  # fmt: skip
    conversion = convert_template(template(resources={"d.com": domain}))
    assert props(conversion)["customDomain"]["route"] == {"path": "/a"}
    assert unmapped_at(conversion, "Resources.d.com.Properties.RouteConfig.Routes./b")
    assert warned(conversion, "Resources.d.com.Properties.RouteConfig.Routes./a", "HTTP trigger")


def test_gap7_log_trigger_keys_are_camel_case_and_enabled_by_default() -> None:
    path = sdevs_fixtures() / "fun2s-pairs" / "sls_demo" / "template.yml"
    conversion = convert_template(path.read_text())
    config = trigger(conversion, "log-stream", "log-compute$log-compute")["triggerConfig"]
    assert config == {
        "sourceConfig": {"logstore": "log-com-m"},
        "jobConfig": {"maxRetryTime": 1, "triggerInterval": 30},
        "logConfig": {"project": "log-com-m", "logstore": "log-en-m"},
        "enable": True,
    }


def test_gap8_service_description_instance_type_and_concurrency_are_handled() -> None:
    conversion = convert_template(
        template(
            service={"Description": "the service"},
            function={"InstanceType": "c1", "InstanceConcurrency": 10},
        )
    )
    made = props(conversion)
    assert made["description"] == "the service"
    assert "instanceConcurrency" not in made
    assert "instance types" in unmapped_at(conversion, f"{FN}.Properties.InstanceType").reason
    assert unmapped_at(conversion, f"{FN}.Properties.InstanceConcurrency")


def test_gap8_custom_runtimes_keep_instance_concurrency() -> None:
    conversion = convert_template(
        template(function={"Runtime": "custom", "InstanceConcurrency": 10})
    )
    assert props(conversion)["instanceConcurrency"] == 10


def test_gap8_a_service_description_no_function_takes_is_reported() -> None:
    conversion = convert_template(
        template(service={"Description": "the service"}, function={"Description": "mine"})
    )
    assert props(conversion)["description"] == "mine"
    assert unmapped_at(conversion, "Resources.svc.Properties.Description")


@pytest.mark.parametrize(
    ("runtime", "fragment"), [("nodejs6", "not an FC 3.0"), ("python2.7", "end-of-life")]
)
def test_gap9_old_runtimes_are_kept_with_a_warning(runtime: str, fragment: str) -> None:
    conversion = convert_template(template(function={"Runtime": runtime}))
    assert props(conversion)["runtime"] == runtime
    assert warned(conversion, f"{FN}.Properties.Runtime", fragment)


@pytest.mark.parametrize(
    ("kind", "fragment"),
    [
        ("Aliyun::Serverless::Log", "SLS project"),
        ("Aliyun::Serverless::TableStore", "Tablestore"),
        ("Aliyun::Serverless::MNSTopic", "MNS topic"),
        ("Aliyun::Serverless::Api", "API Gateway"),
        ("Aliyun::Serverless::Flow", "Serverless Workflow"),
    ],
)
def test_gap10_infrastructure_resources_are_reported(kind: str, fragment: str) -> None:
    conversion = convert_template(template(resources={"thing": {"Type": kind, "Properties": {}}}))
    assert fragment in unmapped_at(conversion, "Resources.thing").reason
    components = {r["component"] for r in conversion.document["resources"].values()}
    assert components == {"fc3"}


def test_gap11_region_and_access_are_parameters() -> None:
    conversion = convert_template(template(), project="shop", access="prod", region="cn-shenzhen")
    assert conversion.document["name"] == "shop"
    assert conversion.document["access"] == "prod"
    assert conversion.document["vars"] == {"region": "cn-shenzhen"}
    assert not any(w.startswith("vars.region") for w in conversion.warnings)


def test_gap11_without_a_region_the_nas_mount_target_decides_and_it_is_said() -> None:
    point = {"ServerAddr": "abc.cn-qingdao.nas.aliyuncs.com:/x", "MountDir": "/mnt/x"}
    nas = {"UserId": 1, "GroupId": 1, "MountPoints": [point]}
    conversion = convert_template(template(service={"NasConfig": nas}))
    assert conversion.document["vars"]["region"] == "cn-qingdao"
    assert warned(conversion, "vars.region", "NAS")
    assert props(conversion)["nasConfig"]["mountPoints"] == [
        {"serverAddr": "abc.cn-qingdao.nas.aliyuncs.com:/x", "mountDir": "/mnt/x"}
    ]
