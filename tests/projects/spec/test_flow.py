"""flow: validated against output edges; the deploy entry gives the layers."""

from __future__ import annotations

from tests.projects.spec.support import HEADER, failure, parse, position

RESOURCES = """resources:
  db:
    component: fc3
    props: {functionName: db}
  api:
    component: fc3
    props:
      url: ${resources.db.output.url}
  web:
    component: fc3
    props: {functionName: web}
"""


def with_flow(flow: str) -> str:
    return HEADER + "flow:\n" + flow + RESOURCES


def test_without_flow_layers_are_the_dependency_order_one_at_a_time() -> None:
    project = parse(HEADER + RESOURCES)
    assert project.flow is False
    assert project.layers == [["db"], ["api"], ["web"]]


def test_flow_gives_parallel_layers() -> None:
    project = parse(with_flow("  deploy:\n    - [db, web]\n    - [api]\n"))
    assert project.flow is True
    assert project.layers == [["db", "web"], ["api"]]


def test_a_regex_key_matches_deploy_and_the_first_match_wins() -> None:
    project = parse(
        with_flow(
            "  ${regex('^dep')}:\n    - [db]\n    - [api, web]\n"
            "  deploy:\n    - [web, db]\n    - [api]\n"
        )
    )
    assert project.layers == [["db"], ["api", "web"]]


def test_a_flow_for_other_commands_leaves_the_order_alone() -> None:
    project = parse(with_flow("  info:\n    - [web]\n"))
    assert project.flow is True
    assert project.layers == [["db"], ["api"], ["web"]]


def test_flow_contradicting_an_output_edge_is_an_error() -> None:
    text = with_flow("  deploy:\n    - [api, web]\n    - [db]\n")
    error = failure(text)
    assert error.reason == "flow is invalid, db must be executed before api"
    assert (error.line, error.column) == position(text, "deploy:")


def test_same_layer_as_a_dependency_is_too_early() -> None:
    assert (
        "db must be executed before api"
        in failure(with_flow("  deploy:\n    - [db, api, web]\n")).reason
    )


def test_unknown_resource_in_flow() -> None:
    error = failure(with_flow("  deploy:\n    - [db]\n    - [nope]\n"))
    assert error.reason == "Resource nope is not found. Please check the content of flow."


def test_malformed_flow() -> None:
    assert "data format is invalid" in failure(with_flow("  deploy: [db, api]\n")).reason


def test_resources_the_flow_leaves_out_are_not_deployed_with_a_warning() -> None:
    project = parse(with_flow("  deploy:\n    - [db]\n    - [api]\n"))
    assert project.layers == [["db"], ["api"]]
    assert "flow 'deploy' does not list resource 'web': it is not deployed" in project.warnings


def test_other_commands_flows_only_warn() -> None:
    project = parse(with_flow("  info:\n    - [api]\n    - [db]\n"))
    assert project.layers == [["db"], ["api"], ["web"]]
    assert any("flow 'info' would fail" in w for w in project.warnings)
