"""A Funcraft function's ``Events`` as fc3 ``triggers``.

The event source moves into ``sourceArn`` for every type (not only OSS, as the
fc-transform → s2tos3 chain does), nested keys become fc3's camelCase, CDN becomes
``cdn_events``. Where Funcraft created an invocation role per function (scoped to
FC 2.0 ``services/<s>/functions/*`` ARNs), the trigger names the standard role the
FC console uses for that event source instead.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from service.projects.fun2s.context import ACCOUNT, REGION, Context, Path, role_arn

Config = tuple[str, dict[str, Any], str | None]  # triggerType, triggerConfig, sourceArn

_SERVICE_ROLES = {
    "oss": "aliyunosseventnotificationrole",
    "log": "aliyunlogetlrole",
    "mns_topic": "aliyunmnsnotificationrole",
    "cdn_events": "aliyuncdneventnotificationrole",
    "tablestore": "aliyuntablestorestreamnotificationrole",
}
_UNSUPPORTED = {
    "RDS": "FC 3.0 has no RDS trigger type; re-create it as an eventbridge trigger with a DTS "
    "event source subscribed to the instance",
    "Datahub": "FC 3.0 has no DataHub trigger type",
    "Api": "API Gateway calls a function from API Gateway's side: point the API's backend at "
    "the FC 3.0 function there; FC 3.0 has no api trigger type",
}


class _Event:
    """One event's Properties, remembering which keys a mapper read."""

    def __init__(self, ctx: Context, path: Path, properties: dict[str, Any]) -> None:
        self.ctx, self.path, self.properties = ctx, path, properties
        self.read: set[str] = {"InvocationRole", "Qualifier"}

    def get(self, *names: str) -> Any:
        self.read.update(names)
        return next((self.properties[n] for n in names if n in self.properties), None)

    def at(self, name: str) -> Path:
        return (*self.path, name)

    def text(self, name: str) -> str | None:
        value = self.get(name)
        return None if value is None else self.ctx.text(self.at(name), value)

    def missing(self, kind: str, *names: str) -> bool:
        absent = [n for n in names if self.properties.get(n) is None]
        if absent:
            self.ctx.drop(self.path, f"a {kind} event needs {', '.join(absent)}")
        return bool(absent)


def convert_events(
    ctx: Context, events: Any, path: Path, service: str, function: str
) -> list[dict[str, Any]]:
    if events is None:
        return []
    mapping = ctx.mapping(path, events) or {}
    triggers = []
    for name, event in mapping.items():
        at = (*path, str(name))
        if not isinstance(event, dict) or not isinstance(event.get("Type"), str):
            ctx.drop(at, "an event needs a Type and Properties")
            continue
        for key in event:
            if key not in ("Type", "Properties"):
                ctx.drop((*at, key), "not part of a Funcraft event")
        trigger = _trigger(ctx, at, str(name), event["Type"], event.get("Properties") or {})
        if trigger is not None:
            triggers.append(trigger)
    _one_http_per_qualifier(ctx, path, triggers)
    return triggers


def _trigger(
    ctx: Context, path: Path, name: str, kind: str, properties: Any
) -> dict[str, Any] | None:
    mapper = _MAPPERS.get(kind)
    if mapper is None:
        ctx.drop(path, _UNSUPPORTED.get(kind, f"unknown event type {kind!r}"))
        return None
    here = (*path, "Properties")
    if not isinstance(properties, dict):
        ctx.drop(here, f"expected a mapping, found {properties!r}")
        return None
    event = _Event(ctx, here, properties)
    mapped = mapper(event)
    if mapped is None:
        return None
    kind_out, config, source = mapped
    trigger: dict[str, Any] = {"triggerName": name, "triggerType": kind_out}
    qualifier = event.text("Qualifier")
    if qualifier is not None:
        trigger["qualifier"] = qualifier
        if qualifier != "LATEST":
            ctx.warn(
                event.at("Qualifier"),
                f"{qualifier!r} named a version/alias of the FC 2.0 service; FC 3.0 versions "
                "and aliases belong to the function: publish it before deploying the trigger",
            )
    if source is not None:
        trigger["sourceArn"] = source
    role = event.text("InvocationRole")
    if role is None and kind_out in _SERVICE_ROLES:
        role = role_arn(_SERVICE_ROLES[kind_out])
        ctx.warn(
            path,
            f"no InvocationRole: Funcraft created a per-function role scoped to FC 2.0 ARNs; "
            f"the trigger uses the standard {_SERVICE_ROLES[kind_out]} (create it if missing)",
        )
    if role is not None:
        trigger["invocationRole"] = role
    trigger["triggerConfig"] = config
    for key in properties:
        if key not in event.read:
            ctx.drop(event.at(str(key)), f"not a property of {kind} events")
    return trigger


def _timer(event: _Event) -> Config | None:
    if event.missing("Timer", "CronExpression"):
        return None
    config: dict[str, Any] = {"cronExpression": event.text("CronExpression")}
    enable = event.get("Enable")
    if enable is None:
        # fc3 requires enable; never start a schedule the template did not switch on.
        config["enable"] = False
        event.ctx.warn(event.path, "no Enable: FC 3.0 requires it, written as false")
    else:
        config["enable"] = event.ctx.boolean(event.at("Enable"), enable) is True
    payload = event.get("Payload")
    if isinstance(payload, dict | list):
        payload = json.dumps(payload)
        event.ctx.warn(event.at("Payload"), "a structured payload is sent as its JSON text")
    if payload is not None:
        config["payload"] = str(payload)
    return "timer", config, None


def _http(event: _Event) -> Config | None:
    if event.missing("HTTP", "AuthType", "Methods"):
        return None
    methods = event.get("Methods")
    methods = [methods] if isinstance(methods, str) else methods
    config = {
        "authType": str(event.get("AuthType")).lower(),
        "methods": [str(m).upper() for m in methods] if isinstance(methods, list) else methods,
    }
    return "http", config, None


def _log(event: _Event) -> Config | None:
    if event.missing("Log", "SourceConfig", "JobConfig", "LogConfig"):
        return None
    source = _keys(event, "SourceConfig", {"Logstore": "logstore"})
    job = _keys(
        event, "JobConfig", {"MaxRetryTime": "maxRetryTime", "TriggerInterval": "triggerInterval"}
    )
    logs = _keys(event, "LogConfig", {"Project": "project", "Logstore": "logstore"})
    if not logs.get("project"):
        event.ctx.drop(event.at("LogConfig"), "a Log event needs LogConfig.Project")
        return None
    config: dict[str, Any] = {"sourceConfig": source, "jobConfig": job, "logConfig": logs}
    parameter = event.get("FunctionParameter")
    if parameter is not None:
        config["functionParameter"] = parameter
    # Funcraft enabled log triggers unless Enable was false; fc3 requires the flag.
    config["enable"] = event.get("Enable") is not False
    source_arn = f"acs:log:{REGION}:{ACCOUNT}:project/{logs['project']}"
    return "log", config, source_arn


def _keys(event: _Event, name: str, renames: dict[str, str]) -> dict[str, Any]:
    value = event.get(name)
    out: dict[str, Any] = {}
    if not isinstance(value, dict):
        event.ctx.drop(event.at(name), f"expected a mapping, found {value!r}")
        return out
    for key, item in value.items():
        if key in renames:
            out[renames[key]] = item
        else:
            event.ctx.drop((*event.at(name), str(key)), f"not a property of {name}")
    return out


def _oss(event: _Event) -> Config | None:
    bucket = event.get("BucketName", "bucketName")
    events = event.get("Events", "events")
    raw_filter = event.get("Filter", "filter")
    if bucket is None or events is None:
        event.ctx.drop(event.path, "an OSS event needs BucketName and Events")
        return None
    key: Any = {}
    if isinstance(raw_filter, dict):
        key = raw_filter.get("Key", raw_filter.get("key")) or {}
    if not isinstance(key, dict):
        key = {}
    prefix = key.get("Prefix", key.get("prefix", ""))
    suffix = key.get("Suffix", key.get("suffix", ""))
    config = {
        "events": [events] if isinstance(events, str) else events,
        "filter": {"key": {"prefix": prefix or "", "suffix": suffix or ""}},
    }
    return "oss", config, f"acs:oss:{REGION}:{ACCOUNT}:{bucket}"


def _mns(event: _Event) -> Config | None:
    if event.missing("MNSTopic", "TopicName"):
        return None
    topic = event.text("TopicName")
    region = event.text("Region")
    if region is None and topic in event.ctx.topics:
        # Funcraft used its profile region here, though it created the topic elsewhere.
        region = event.ctx.topics[topic]
        event.ctx.warn(event.path, f"region {region} taken from the MNSTopic resource {topic}")
    config: dict[str, Any] = {
        "notifyContentFormat": event.get("NotifyContentFormat") or "STREAM",
        "notifyStrategy": event.get("NotifyStrategy") or "BACKOFF_RETRY",
    }
    tag = event.get("FilterTag")
    if tag is not None:
        config["filterTag"] = str(tag)
    source_arn = f"acs:mns:{region or REGION}:{ACCOUNT}:/topics/{topic}"
    return "mns_topic", config, source_arn


def _tablestore(event: _Event) -> Config | None:
    if event.missing("TableStore", "InstanceName", "TableName"):
        return None
    instance, table = event.text("InstanceName"), event.text("TableName")
    return "tablestore", {}, f"acs:ots:{REGION}:{ACCOUNT}:instance/{instance}/table/{table}"


def _cdn(event: _Event) -> Config | None:
    if event.missing("CDN", "EventName", "EventVersion", "Filter"):
        return None
    raw_filter = event.get("Filter")
    domains = (
        raw_filter.get("Domain", raw_filter.get("domain")) if isinstance(raw_filter, dict) else None
    )
    if domains is None:
        event.ctx.drop(event.at("Filter"), "a CDN event filters on Domain")
        return None
    config = {
        "eventName": event.text("EventName"),
        "eventVersion": event.text("EventVersion"),
        "notes": event.text("Notes") or "",
        "filter": {"domain": [domains] if isinstance(domains, str) else domains},
    }
    return "cdn_events", config, f"acs:cdn:*:{ACCOUNT}"


_MAPPERS: dict[str, Callable[[_Event], Config | None]] = {
    "Timer": _timer,
    "HTTP": _http,
    "Log": _log,
    "OSS": _oss,
    "MNSTopic": _mns,
    "TableStore": _tablestore,
    "CDN": _cdn,
}


def _one_http_per_qualifier(ctx: Context, path: Path, triggers: list[dict[str, Any]]) -> None:
    qualifiers = Counter(
        t.get("qualifier", "LATEST") for t in triggers if t["triggerType"] == "http"
    )
    for qualifier, count in qualifiers.items():
        if count > 1:
            ctx.warn(
                path,
                f"{count} HTTP triggers on qualifier {qualifier}: FC accepts one per version or "
                "alias, so deploying the later ones will fail",
            )
