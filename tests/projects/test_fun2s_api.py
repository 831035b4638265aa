"""POST /v1/fun2s over HTTP: every Funcraft template of the reference set converts, and
the s.yaml it answers parses and resolves as a project."""

from __future__ import annotations

import httpx
import pytest

from service.projects.spec import parse_project
from tests.projects.shared import fixture_names, sdevs_fixtures

TEMPLATES = [f"fun2s-pairs/{n}" for n in fixture_names("fun2s-pairs", "*/template.yml")] + [
    f"funcraft/{n}" for n in fixture_names("funcraft", "*.y*ml")
]


@pytest.mark.parametrize("path", TEMPLATES)
async def test_every_funcraft_template_converts_to_an_s_yaml_that_parses(
    client: httpx.AsyncClient, path: str
) -> None:
    template = sdevs_fixtures().joinpath(path).read_text()
    response = await client.post("/v1/fun2s", json={"template": template, "project": "migrated"})
    assert response.status_code == 200, response.text
    converted = response.json()
    project = parse_project(
        {"s.yaml": converted["syaml"]}, env={}, config={"AccountID": "1234567890"}
    )
    assert project.name == "migrated"
    assert {r.component for r in project.resources.values()} <= {"fc3"}
    for resource in project.resources.values():
        assert resource.props["functionName"]
    for item in converted["unmapped"]:
        assert item["path"]
        assert item["reason"]


async def test_what_cannot_be_mapped_is_listed_with_the_reason(client: httpx.AsyncClient) -> None:
    template = sdevs_fixtures().joinpath("fun2s-pairs/rds-trigger/template.yml").read_text()
    converted = (await client.post("/v1/fun2s", json={"template": template})).json()
    reasons = " ".join(u["reason"] for u in converted["unmapped"])
    assert "RDS" in reasons


async def test_a_template_that_is_not_yaml_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/fun2s", json={"template": "Resources: [unclosed"})
    assert response.status_code == 422
    assert response.json()["field"] == "template"
