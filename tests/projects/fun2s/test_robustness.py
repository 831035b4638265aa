"""Malformed templates never crash the converter: a conversion or a TemplateError, nothing else."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.projects.fun2s import TemplateError, convert_template

# Names the mappers look for, so generated values reach their branches.
KEYS = [
    "Type", "Properties", "Events", "Role", "Policies", "VpcConfig", "LogConfig", "NasConfig",
    "MountPoints", "ServerAddr", "MountDir", "Auto", "TracingConfig", "Description", "Handler",
    "Runtime", "CodeUri", "Initializer", "InitializationTimeout", "InstanceLifecycleConfig",
    "PreStop", "PreFreeze", "AsyncConfiguration", "Destination", "OnSuccess", "Layers", "CAPort",
    "CustomContainerConfig", "Command", "EnvironmentVariables", "InstanceConcurrency",
    "CronExpression", "Enable", "Payload", "AuthType", "Methods", "SourceConfig", "JobConfig",
    "Project", "Logstore", "BucketName", "Filter", "Key", "Prefix", "TopicName", "Region",
    "InstanceName", "TableName", "EventName", "EventVersion", "Domain", "Qualifier",
    "InvocationRole", "RouteConfig", "Routes", "ServiceName", "FunctionName", "Protocol",
    "CertConfig", "DomainName", "Ref", "Fn::Join",
]  # fmt: skip
EVENT_TYPES = ["Timer", "HTTP", "Log", "OSS", "MNSTopic", "TableStore", "CDN", "RDS", "Other"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 70000),
    st.sampled_from(["", "auto", "Auto", "custom", "custom-container", "python3", "e1", "c1",
                     "oss://b/k", "oss://", '["a"]', "acs:fc:::services/s.1/functions/f",
                     "x.cn-hangzhou.nas.aliyuncs.com:/", "/a", *EVENT_TYPES]),
)  # fmt: skip
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=3)), inner, max_size=4),
    ),
    max_leaves=12,
)


events_strategy = st.one_of(
    values,
    st.dictionaries(
        st.text(min_size=1, max_size=3),
        st.fixed_dictionaries({"Type": st.sampled_from(EVENT_TYPES), "Properties": values}),
        max_size=3,
    ),
)
route = st.fixed_dictionaries(
    {"ServiceName": st.sampled_from(["svc", "other"]), "FunctionName": st.just("fn")},
    optional={"Qualifier": scalars},
)
domain_strategy = st.one_of(
    values,
    st.fixed_dictionaries(
        {
            "RouteConfig": st.fixed_dictionaries(
                {"Routes": st.dictionaries(st.text(max_size=3), route)}
            )
        },
        optional={"Protocol": scalars, "DomainName": scalars, "CertConfig": values},
    ),
)


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(service=values, function=values, events=events_strategy, domain=domain_strategy)
def test_any_shape_converts_or_is_refused(
    service: Any, function: Any, events: Any, domain: Any
) -> None:
    document = {
        "Transform": "Aliyun::Serverless-2018-04-03",
        "Resources": {
            "svc": {
                "Type": "Aliyun::Serverless::Service",
                "Properties": service,
                "fn": {
                    "Type": "Aliyun::Serverless::Function",
                    "Properties": function,
                    "Events": events,
                },
            },
            "d.com": {"Type": "Aliyun::Serverless::CustomDomain", "Properties": domain},
        },
    }
    try:
        conversion = convert_template(yaml.safe_dump(document))
    except TemplateError:
        return
    assert yaml.safe_load(conversion.syaml) == conversion.document
