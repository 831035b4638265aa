"""The committed OpenAPI document is one generators handle well.

What openapi-python-client and friends trip over, checked on openapi/openapi.json:
path-mashed operation ids, untyped 409 bodies, anonymous `Type0` objects, a global
`400 text/plain`, several copies of one enum, free-form job params. (CI also lints
the document and runs a generated client against a live server: tests/contract.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from service.app import create_app
from service.jobs.kinds import KINDS
from service.jobs.schemas import (
    BuildJob,
    BuildJobCreate,
    EvalConcurrencyJob,
    EvalConcurrencyJobCreate,
    EvalSpecJob,
    EvalSpecJobCreate,
    StressJob,
    StressJobCreate,
)
from service.kit.settings import Settings
from service.webhooks.catalog import EVENTS, example_body
from service.webhooks.payloads import EVENT_MODELS
from service.webhooks.schemas import EventType

ROOT = Path(__file__).resolve().parent.parent
SCHEMA: dict[str, Any] = json.loads((ROOT / "openapi" / "openapi.json").read_text())
OPERATIONS = [
    (method.upper(), path, operation)
    for path, item in SCHEMA["paths"].items()
    for method, operation in item.items()
]
COMPONENTS: dict[str, Any] = SCHEMA["components"]["schemas"]
# The operations whose 409 carries a plan (or change lists), and its typed problem.
TYPED_CONFLICTS = {
    "create_deployment": "ConflictProblem",
    "rollback_function": "ConflictProblem",
    "apply_plan": "ConflictProblem",
    "deploy_project": "ProjectConflictProblem",
    "publish_version": "ReleaseConflictProblem",
    "put_alias": "ReleaseConflictProblem",
    "delete_alias": "ReleaseConflictProblem",
    "rollback_alias": "ReleaseConflictProblem",
}
DOCUMENTED_KINDS: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {
    "stress": (StressJobCreate, StressJob),
    "eval-spec": (EvalSpecJobCreate, EvalSpecJob),
    "eval-concurrency": (EvalConcurrencyJobCreate, EvalConcurrencyJob),
    "build": (BuildJobCreate, BuildJob),
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _walk(node: Any, where: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        found.append((where, node))
        for key, value in node.items():
            found += _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _walk(value, f"{where}/{index}")
    return found


def test_the_committed_document_is_the_app_s() -> None:
    generated = create_app(Settings()).openapi()
    assert json.loads(json.dumps(generated)) == SCHEMA, (
        "run: fcplane openapi > openapi/openapi.json"
    )


def test_operation_ids_are_unique_snake_case_route_names() -> None:
    ids = [operation["operationId"] for _, _, operation in OPERATIONS]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", i)] == []
    assert {"create_deployment", "upload_code_package", "create_job", "get_health"} <= set(ids)
    hooks = [item["post"]["operationId"] for item in SCHEMA["webhooks"].values()]
    assert len(set(ids) | set(hooks)) == len(ids) + len(hooks)


# Every /v1 route takes a token, except these: the chat platforms sign their requests
# (and fcplane its approval links), and a report opens with a signed link too.
SIGNED_REQUESTS = {
    ("POST", "/v1/chat/slack/{integration}/commands"),
    ("POST", "/v1/chat/slack/{integration}/interactions"),
    ("POST", "/v1/chat/dingtalk/{integration}"),
    ("POST", "/v1/chat/feishu/{integration}"),
    ("GET", "/v1/chat/approvals/{approval_id}"),
    ("POST", "/v1/chat/approvals/{approval_id}"),
}
TOKEN_OR_SIGNED_LINK = {
    ("GET", "/v1/jobs/{job_id}/report"),
    ("GET", "/v1/jobs/{job_id}/report/locust"),
}


def test_every_operation_has_one_declared_tag_and_the_right_security() -> None:
    declared = {tag["name"] for tag in SCHEMA["tags"]}
    assert all(tag.get("description") for tag in SCHEMA["tags"])
    for method, path, operation in OPERATIONS:
        assert len(operation["tags"]) == 1, (method, path)
        assert operation["tags"][0] in declared, (method, path)
        expected: list[dict[str, list[str]]] = [{"bearer": []}] if path.startswith("/v1/") else []
        if (method, path) in SIGNED_REQUESTS:
            expected = []
        elif (method, path) in TOKEN_OR_SIGNED_LINK:
            expected = [{"bearer": []}, {}]
        assert operation["security"] == expected, (method, path)
    assert SCHEMA["security"] == [{"bearer": []}]
    assert SCHEMA["info"]["license"]["name"] == "Apache-2.0"
    assert SCHEMA["servers"]


def test_errors_are_problems_and_there_is_no_text_plain() -> None:
    for method, path, operation in OPERATIONS:
        responses = operation["responses"]
        assert "400" not in responses, (method, path)
        for status, response in responses.items():
            content = response.get("content", {})
            assert "text/plain" not in content, (method, path, status)
            if int(status) >= 400:
                (media,) = content
                assert media == "application/problem+json", (method, path, status)


def test_every_409_with_a_plan_is_a_typed_conflict_problem() -> None:
    by_id = {operation["operationId"]: operation for _, _, operation in OPERATIONS}
    for operation_id, problem in TYPED_CONFLICTS.items():
        conflict = by_id[operation_id]["responses"]["409"]["content"]
        assert conflict["application/problem+json"]["schema"] == _ref(problem), operation_id
    plan = COMPONENTS["ConflictProblem"]["properties"]["plan"]
    assert plan["$ref"] == _ref("PlanOut")["$ref"]
    project_plan = COMPONENTS["ProjectConflictProblem"]["properties"]["plan"]
    assert project_plan["$ref"] == _ref("ProjectPlanOut")["$ref"]
    # Every other 409 is a plain problem: nothing else carries a plan.
    for _, _, operation in OPERATIONS:
        if "409" in operation["responses"] and operation["operationId"] not in TYPED_CONFLICTS:
            media = operation["responses"]["409"]["content"]["application/problem+json"]
            assert media["schema"] == _ref("Problem"), operation["operationId"]


def test_changes_and_conflicts_are_typed_everywhere() -> None:
    plan = COMPONENTS["PlanOut"]["properties"]
    assert plan["local_changes"]["items"] == plan["remote_changes"]["items"] == _ref("Change")
    assert plan["conflicts"]["items"] == _ref("Conflict")
    assert plan["local_patch"]["items"] == _ref("PatchOperation")
    for where, node in _walk(COMPONENTS):
        name = where.rsplit("/", 1)[-1]
        if name.endswith("changes") and where.split("/")[-2] == "properties":
            assert node.get("items") == _ref("Change"), where


def test_one_strategy_enum() -> None:
    strategies = [
        where
        for where, node in _walk(SCHEMA)
        if "use-local" in (node.get("enum") or []) and not where.endswith("/Strategy")
    ]
    assert strategies == []
    assert COMPONENTS["Strategy"]["enum"] == ["fail", "use-local", "use-remote", "merge"]


def test_no_anonymous_object_or_enum_inside_an_optional() -> None:
    """openapi-python-client names such a branch `...Type0`."""
    for where, node in _walk(COMPONENTS):
        for branch in node.get("anyOf", []):
            item = branch.get("items", {}) if branch.get("type") == "array" else branch
            anonymous = "$ref" not in item and "title" not in item
            assert not (anonymous and (item.get("type") == "object" or "enum" in item)), where


def test_creates_answer_location() -> None:
    created = [
        (operation["operationId"], response)
        for _, _, operation in OPERATIONS
        for status, response in operation["responses"].items()
        if status == "201" or (status == "202" and operation["operationId"] == "create_job")
    ]
    assert len(created) >= 10
    for operation_id, response in created:
        assert "Location" in response.get("headers", {}), operation_id


def test_code_uploads_are_octet_streams_answered_with_the_package() -> None:
    upload = SCHEMA["paths"]["/v1/code-packages/{sha256}"]["put"]
    assert list(upload["requestBody"]["content"]) == ["application/octet-stream"]
    for status in ("200", "201"):
        media = upload["responses"][status]["content"]["application/json"]
        assert media["schema"] == _ref("CodePackageOut")
    assert set(COMPONENTS["CodePackageOut"]["required"]) == {"sha256", "size", "crc64"}


def test_jobs_are_unions_by_kind_of_the_kinds_own_models() -> None:
    create = COMPONENTS["JobCreate"]
    assert create["discriminator"]["propertyName"] == "kind"
    assert set(create["discriminator"]["mapping"]) == set(DOCUMENTED_KINDS)
    assert set(COMPONENTS["JobOut"]["discriminator"]["mapping"]) == set(DOCUMENTED_KINDS)
    for kind, (request, job) in DOCUMENTED_KINDS.items():
        registered = KINDS[kind]
        assert request.model_fields["params"].annotation is registered.params_model
        assert job.model_fields["params"].annotation is registered.params_model
        assert job.model_fields["result"].annotation == registered.result_model | None
    for name in ("StressParams", "StressResult", "EvalSpecParams", "EvalSpecResult"):
        assert COMPONENTS[name]["examples"], name
        assert all(p.get("description") or "$ref" in p for p in _params_of(name)), name
    assert COMPONENTS["BuildParams"]["examples"]
    assert all(p.get("description") for p in _params_of("BuildParams"))
    # A build is about no function; the other kinds' jobs always name theirs.
    assert "function" not in COMPONENTS["BuildJobCreate"]["properties"]
    assert "function" not in COMPONENTS["BuildJob"]["properties"]
    for name in ("StressJobCreate", "StressJob", "EvalSpecJob", "EvalConcurrencyJob"):
        assert "function" in COMPONENTS[name]["required"], name
    link = COMPONENTS["ReportLink"]["properties"]["url"]
    assert link["format"] == "uri"


def _params_of(name: str) -> list[dict[str, Any]]:
    if not name.endswith("Params"):
        return []
    return list(COMPONENTS[name]["properties"].values())


@pytest.mark.parametrize("event", list(EventType))
def test_every_webhook_event_has_its_typed_body_and_a_valid_example(event: EventType) -> None:
    model = EVENT_MODELS[event]
    body = SCHEMA["webhooks"][event.value]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == _ref(model.__name__)
    assert COMPONENTS[model.__name__]["properties"]["data"] != {"type": "object"}
    example = body["examples"][event.value]["value"]
    assert example == example_body(event, EVENTS[event])
    model.model_validate(example)


def test_every_reference_resolves() -> None:
    """A route FastAPI documents on its own (a 422 without the app's problem) points at
    schemas the document drops; validators and generators then refuse the whole file."""
    refs: set[str] = set()

    def collect(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(SCHEMA)
    missing = {ref for ref in refs if ref.removeprefix("#/components/schemas/") not in COMPONENTS}
    assert not missing
