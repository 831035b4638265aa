"""TagResources, UntagResources, ListTagResources: FC 3.0's tag API under ``/tags-v2``.

Wire shapes are the SDK's (``alibabacloud-fc20230330``), which spells every name
with a capital: TagResources posts ``{"ResourceType", "ResourceId": [arn, ...],
"Tag": [{"Key", "Value"}]}``; UntagResources and ListTagResources send the query
``ResourceType``, ``ResourceId`` / ``TagKey`` / ``Tag`` as JSON text, ``All`` as
``True``/``False``, ``Limit`` and ``NextToken``; ListTagResources answers
``{"TagResources": [{"ResourceId", "ResourceType", "TagKey", "TagValue"}],
"NextToken", "RequestId"}``.

A resource is named by its ARN (the ``functionArn`` GetFunction returns): the API
reference says so and has no example with a bare function name, so a bare name is
refused rather than guessed at. The only resource type is the function
(``function``, also spelled ``ALIYUN::FC::FUNCTION``).

Tags live in the function's record (``config["tags"]``), so GetFunction and
ListFunctions show them and they survive restarts like everything else. Tag
changes leave ``lastModifiedTime`` alone: FC keeps tags apart from the function's
configuration (UpdateFunction cannot change them) and nothing documents that
tagging counts as a modification, so this is the *unconfirmed* but conservative
reading.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from starlette.responses import Response

from service.emulator import catalog
from service.emulator.catalog import FUNCTION
from service.emulator.context import Call, Emulator, json_response, no_content
from service.emulator.errors import FCError, invalid
from service.emulator.router import API
from service.emulator.store import Doc
from service.emulator.validation import MAX_TAGS, NAME_RE, check_tag, check_tags, parse_body

PATH = "/2023-03-30/tags-v2"
RESOURCE_TYPE = "function"
_RESOURCE_TYPE_NAMES = frozenset({"function", "aliyun::fc::function"})
TAG_RESOURCES_FIELDS = {"ResourceId": "list_str", "ResourceType": "str", "Tag": "list_obj"}
MAX_UNTAG_KEYS = 50  # UntagResources: "You can specify up to 50 tag keys"
MAX_TAG_FILTERS = MAX_TAGS  # ListTagResources: "You can specify up to 20 tags"


def _resource_type(raw: str | None, *, required: bool = True) -> str:
    if not raw:
        if required:
            raise invalid("ResourceType is required: function (ALIYUN::FC::FUNCTION)")
        return RESOURCE_TYPE
    if raw.lower() not in _RESOURCE_TYPE_NAMES:
        raise invalid(
            f"ResourceType {raw!r} is not supported: the only taggable resource is "
            "function (ALIYUN::FC::FUNCTION)"
        )
    return RESOURCE_TYPE


def _function_name(emu: Emulator, arn: str) -> str:
    """The function an ARN names (it need not exist)."""
    head, sep, name = arn.rpartition(":functions/")
    if not sep or not head.startswith("acs:fc:") or not NAME_RE.match(name):
        raise invalid(
            f"ResourceId {arn!r} is not a function ARN: use the functionArn GetFunction "
            f"returns, e.g. {emu.function_arn('my-function')}"
        )
    if arn != emu.function_arn(name):
        raise invalid(
            f"ResourceId {arn!r} is not in this region and account: expected "
            f"{emu.function_arn(name)}"
        )
    return name


def _json_list(call: Call, name: str) -> list[Any] | None:
    """A query parameter the SDK sends as JSON text of a list; None when absent."""
    raw = call.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        raise invalid(f"{name} must be a JSON list") from None
    if not isinstance(value, list):
        raise invalid(f"{name} must be a JSON list")
    return value


def _arns_in_query(call: Call) -> list[str] | None:
    arns = _json_list(call, "ResourceId")
    if arns is not None and not all(isinstance(a, str) for a in arns):
        raise invalid("ResourceId must be a JSON list of function ARNs")
    return arns


def _query_bool(call: Call, name: str) -> bool:
    raw = (call.query.get(name) or "false").lower()
    if raw not in ("true", "false"):
        raise invalid(f"{name} must be true or false")
    return raw == "true"


def _sole_function(emu: Emulator, arns: list[Any] | None) -> str | None:
    """The one function a call targets, for fault rules narrowed to a function."""
    if not arns:
        return None
    names: set[str | None] = set()
    for arn in arns:
        try:
            names.add(_function_name(emu, arn) if isinstance(arn, str) else None)
        except FCError:
            return None
    return names.pop() if len(names) == 1 else None


def _target_in_body(call: Call) -> str | None:
    try:
        body = json.loads(call.body)
    except ValueError:
        return None
    return _sole_function(call.emu, body.get("ResourceId")) if isinstance(body, dict) else None


def _target_in_query(call: Call) -> str | None:
    try:
        return _sole_function(call.emu, _json_list(call, "ResourceId"))
    except FCError:
        return None


def _tags_of(record: Doc) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in record["config"].get("tags") or []}


def _store_tags(emu: Emulator, name: str, record: Doc, tags: dict[str, str]) -> None:
    record["config"]["tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    # lastModifiedTime is left as it was (see the module docstring).
    emu.store.put(FUNCTION, "", name, record)


@API.route("POST", PATH, "TagResources", function_of=_target_in_body)
async def tag_resources(call: Call) -> Response:
    emu = call.emu
    body = parse_body(call.body, TAG_RESOURCES_FIELDS)
    # The SDK marks only ResourceId and Tag as required here.
    _resource_type(body.get("ResourceType"), required=False)
    arns = body.get("ResourceId") or []
    if not arns:
        raise invalid("ResourceId is required: a list of function ARNs")
    if not body.get("Tag"):
        raise invalid("Tag is required: a list of {Key, Value}")
    new = check_tags(body["Tag"])
    names = list(dict.fromkeys(_function_name(emu, arn) for arn in arns))
    with emu.store.tx():  # all resources or none
        for name in names:
            record = catalog.get_function(emu, name)
            tags = _tags_of(record) | new  # an existing key takes the new value
            if len(tags) > MAX_TAGS:
                raise invalid(
                    f"function '{name}' would have {len(tags)} tags: a resource can have "
                    f"at most {MAX_TAGS} tags"
                )
            _store_tags(emu, name, record, tags)
    return json_response({}, call.request_id)


@API.route("DELETE", PATH, "UntagResources", function_of=_target_in_query)
async def untag_resources(call: Call) -> Response:
    emu = call.emu
    _resource_type(call.query.get("ResourceType"))
    arns = _arns_in_query(call)
    if not arns:
        raise invalid("ResourceId is required: a JSON list of function ARNs")
    keys = _json_list(call, "TagKey") or []
    if not all(isinstance(k, str) for k in keys):
        raise invalid("TagKey must be a JSON list of strings")
    if len(keys) > MAX_UNTAG_KEYS:
        raise invalid(f"{len(keys)} tag keys given: at most {MAX_UNTAG_KEYS} per call")
    remove_all = _query_bool(call, "All")
    names = list(dict.fromkeys(_function_name(emu, arn) for arn in arns))
    with emu.store.tx():
        for name in names:
            record = catalog.get_function(emu, name)
            # Alibaba Cloud's tag APIs: TagKey wins over All; neither removes nothing.
            if keys:
                tags = {k: v for k, v in _tags_of(record).items() if k not in keys}
            elif remove_all:
                tags = {}
            else:
                continue
            _store_tags(emu, name, record, tags)
    return no_content(call.request_id)


def _tag_filters(call: Call) -> list[tuple[str, str | None]]:
    """ListTagResources' ``Tag``: a key with a value matches exactly, a key alone any value."""
    filters: list[tuple[str, str | None]] = []
    for item in _json_list(call, "Tag") or []:
        if not isinstance(item, dict) or set(item) - {"Key", "Value"}:
            raise invalid("Tag must be a JSON list of {Key, Value}")
        value = item.get("Value")
        key, _ = check_tag(item.get("Key"), "" if value is None else value)
        filters.append((key, value))
    if len(filters) > MAX_TAG_FILTERS:
        raise invalid(f"{len(filters)} tags given: at most {MAX_TAG_FILTERS} per query")
    return filters


def _encode_token(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def _decode_token(token: str) -> str:
    try:
        key = base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        key = ""
    if "#" not in key:
        raise invalid("NextToken is invalid: pass the NextToken of the previous page")
    return key


@API.route("GET", PATH, "ListTagResources", function_of=_target_in_query)
async def list_tag_resources(call: Call) -> Response:
    """One entry per (function, tag), ordered by function name then tag key.

    Unconfirmed details, kept here: a function that matches the ``Tag`` filter is
    listed with all its tags, ``Limit`` counts entries (default 20, at most 100),
    and unknown functions in ``ResourceId`` are simply not listed.
    """
    emu = call.emu
    resource_type = _resource_type(call.query.get("ResourceType"))
    arns = _arns_in_query(call)
    wanted = None if arns is None else {_function_name(emu, arn) for arn in arns}
    filters = _tag_filters(call)
    limit = call.query_int("Limit", 20, 1, 100)
    token = call.query.get("NextToken")
    start = _decode_token(token) if token else ""
    entries: list[tuple[str, dict[str, str]]] = []
    for _, name, record in emu.store.list(FUNCTION, ""):
        if wanted is not None and name not in wanted:
            continue
        tags = _tags_of(record)
        if not all(k in tags and (v is None or tags[k] == v) for k, v in filters):
            continue
        for key in sorted(tags):
            # Function names hold no character below "#", so these sort as (name, key).
            sort_key = f"{name}#{key}"
            if sort_key < start:
                continue
            entries.append(
                (
                    sort_key,
                    {
                        "ResourceId": emu.function_arn(name),
                        "ResourceType": resource_type,
                        "TagKey": key,
                        "TagValue": tags[key],
                    },
                )
            )
    entries.sort(key=lambda e: e[0])
    doc: dict[str, Any] = {
        "TagResources": [entry for _, entry in entries[:limit]],
        "RequestId": call.request_id,
    }
    if len(entries) > limit:
        doc["NextToken"] = _encode_token(entries[limit][0])
    return json_response(doc, call.request_id)
