"""Output references: pending while parsing, edges for the order, filled by resolve_outputs."""

from __future__ import annotations

import pytest

from service.projects.spec import Pending, SpecError, resolve_outputs
from tests.projects.spec.support import HEADER, failure, parse, position

SHOP = (
    HEADER
    + """vars:
  stage: test
resources:
  frontend:
    component: fc3
    props:
      functionName: shop-frontend
      environmentVariables:
        BACKEND: ${resources.backend.output.url.system_url}
        LABEL: "${vars.stage}: ${resources.backend.output.functionName}"
        CONFIG: ${resources.backend.output.config}
        PORT: ${json(resources.backend.output.body).port}
        SAME: ${this.props.environmentVariables.BACKEND}
  backend:
    component: fc3
    props:
      functionName: shop-backend
"""
)
OUTPUTS = {
    "backend": {
        "functionName": "shop-backend",
        "url": {"system_url": "https://x.fcapp.run"},
        "config": {"memory": 512, "tags": ["a"]},
        "body": '{"port": 9000}',
    }
}


def test_output_references_are_pending_and_order_the_deploy() -> None:
    project = parse(SHOP)
    frontend = project.resources["frontend"]
    assert frontend.pending
    assert not project.resources["backend"].pending
    assert frontend.depends_on == {"backend"}
    assert project.layers == [["backend"], ["frontend"]]
    backend = frontend.props["environmentVariables"]["BACKEND"]
    assert isinstance(backend, Pending)
    assert backend.resources == {"backend"}
    assert backend.single
    assert (backend.line, backend.column) == position(SHOP, "${resources.backend.output.url")
    assert frontend.props["functionName"] == "shop-frontend"


def test_resolve_outputs_fills_types_and_text() -> None:
    project = parse(SHOP)
    final = resolve_outputs(project.resources["frontend"], OUTPUTS)
    assert final["environmentVariables"] == {
        "BACKEND": "https://x.fcapp.run",
        "LABEL": "test: shop-backend",
        "CONFIG": {"memory": 512, "tags": ["a"]},  # a single token keeps its type
        "PORT": 9000,
        "SAME": "https://x.fcapp.run",
    }
    # The parsed resource is not changed.
    assert isinstance(project.resources["frontend"].props["environmentVariables"]["LABEL"], Pending)
    assert resolve_outputs(project.resources["backend"], {}) == {"functionName": "shop-backend"}


def test_a_path_missing_from_the_output_names_the_expression() -> None:
    project = parse(SHOP)
    outputs = {"backend": {**OUTPUTS["backend"], "url": {}}}
    with pytest.raises(SpecError) as caught:
        resolve_outputs(project.resources["frontend"], outputs)
    error = caught.value
    assert error.expression == "${resources.backend.output.url.system_url}"
    assert (error.line, error.column) == position(SHOP, "${resources.backend.output.url")
    assert error.file == "s.yaml"
    with pytest.raises(SpecError, match="has no outputs"):
        resolve_outputs(project.resources["frontend"], {})


def test_output_edges_come_only_from_props() -> None:
    text = (
        HEADER
        + "resources:\n"
        + "  a:\n    component: fc3\n    props:\n      x: ${resources.b.props.y}\n"
        + "    actions:\n      pre-deploy:\n        - run: echo ${resources.b.output.z}\n"
        + "  b:\n    component: fc3\n    props:\n      y: 1\n"
    )
    project = parse(text)
    assert project.resources["a"].depends_on == set()
    assert project.layers == [["a"], ["b"]]
    assert project.resources["a"].actions[0].value == "echo ${resources.b.output.z}"


def test_a_pending_prop_reached_by_reference_carries_its_dependency() -> None:
    text = (
        HEADER
        + "resources:\n"
        + "  a:\n    component: fc3\n    props:\n      url: ${resources.b.props.url}\n"
        + "  b:\n    component: fc3\n    props:\n      url: ${resources.c.output.url}\n"
        + "  c:\n    component: fc3\n"
    )
    project = parse(text)
    assert project.resources["a"].depends_on == {"c"}
    assert project.layers == [["c"], ["a"], ["b"]]
    assert resolve_outputs(project.resources["a"], {"c": {"url": "u"}}) == {"url": "u"}


def test_output_cycle_is_an_error_naming_the_chain() -> None:
    text = (
        HEADER
        + "resources:\n"
        + "  a:\n    component: fc3\n    props:\n      x: ${resources.b.output.x}\n"
        + "  b:\n    component: fc3\n    props:\n      y: ${resources.a.output.y}\n"
    )
    error = failure(text)
    assert error.reason == "cycle: a -> b -> a"
    assert error.expression == "${resources.b.output.x}"
    assert (error.line, error.column) == position(text, "${resources.b.output.x}")


def test_reading_its_own_output_is_a_cycle() -> None:
    text = HEADER + "resources:\n  a:\n    component: fc3\n    props:\n      x: ${this.output.x}\n"
    assert failure(text).reason == "cycle: a -> a"


def test_output_of_a_missing_resource_is_an_error() -> None:
    text = (
        HEADER
        + "resources:\n  a:\n    component: fc3\n    props:\n      x: ${resources.ghost.output.x}\n"
    )
    error = failure(text)
    assert error.reason == "unknown resource 'ghost'"
    assert (error.line, error.column) == position(text, "${resources.ghost.output.x}")


def test_functions_that_read_inputs_cannot_wait_for_outputs() -> None:
    text = (
        HEADER
        + "resources:\n  a:\n    component: fc3\n    props:\n"
        + "      x: ${file(resources.b.output.path)}\n  b:\n    component: fc3\n"
    )
    assert "only known after deployment" in failure(text).reason


def test_output_references_through_vars_and_templates_still_wait_and_order() -> None:
    text = """edition: 3.0.0
vars:
  url: ${resources.b.output.url}
template:
  t:
    endpoint: ${resources.b.output.url}/t
resources:
  a:
    component: fc3
    extend: {name: t}
    props:
      x: ${vars.url}
  b:
    component: fc3
"""
    project = parse(text)
    assert project.resources["a"].depends_on == {"b"}
    assert project.layers == [["b"], ["a"]]
    assert resolve_outputs(project.resources["a"], {"b": {"url": "U"}}) == {
        "endpoint": "U/t",
        "x": "U",
    }
