"""env.yaml: the chosen environment's access and overlays."""

from __future__ import annotations

from tests.projects.spec.support import HEADER, failure, parse, position

S_YAML = (
    HEADER
    + """env: config/env.yaml
vars:
  region: cn-hangzhou
resources:
  api:
    component: fc3
    props:
      region: ${vars.region}
      functionName: api
      timeout: 10
      memorySize: 128
  domain:
    component: fc3-domain
    props:
      domainName: auto
"""
)
ENV_YAML = """environments:
  - name: dev
    access: dev-access
    overlays:
      components:
        fc3:
          timeout: 60
          memorySize: 256
          description: ${this.name} of ${project}, was ${source.functionName}
      resources:
        api:
          timeout: 120
          tag: ${env('TAG', 'none')}
  - name: prod
    access: prod-access
    infraStack:
      region: cn-beijing
"""


def test_overlays_resources_over_components_over_the_file() -> None:
    project = parse(S_YAML, {"config/env.yaml": ENV_YAML}, environment="dev")
    assert project.access == "dev-access"
    assert project.resources["api"].props == {
        "region": "cn-hangzhou",
        "functionName": "api",
        "timeout": 120,
        "memorySize": 256,
        "description": "dev of demo, was api",
        "tag": "none",
    }
    assert project.resources["domain"].props == {"domainName": "auto"}
    assert project.env_used == {"TAG": None}


def test_infrastructure_region_applies_to_every_resource() -> None:
    project = parse(S_YAML, {"config/env.yaml": ENV_YAML}, environment="prod")
    assert project.access == "prod-access"
    assert {r.props["region"] for r in project.resources.values()} == {"cn-beijing"}


def test_no_environment_chosen_means_the_file_as_written() -> None:
    project = parse(S_YAML, {"config/env.yaml": ENV_YAML})
    assert project.access == "default"
    assert project.resources["api"].props["timeout"] == 10


def test_unknown_environment_or_missing_file_warns_and_runs_without() -> None:
    unknown = parse(S_YAML, {"config/env.yaml": ENV_YAML}, environment="qa")
    assert unknown.resources["api"].props["timeout"] == 10
    assert unknown.warnings == [
        "environment 'qa' is not in 'config/env.yaml'; running without environment"
    ]
    missing = parse(S_YAML, environment="dev")
    assert missing.access == "default"
    assert "config/env.yaml" in missing.warnings[0]


def test_env_yaml_expressions_are_checked_where_written() -> None:
    broken = ENV_YAML.replace("${env('TAG', 'none')}", "${vars.region}")
    error = failure(S_YAML, {"config/env.yaml": broken}, environment="dev")
    assert error.file == "config/env.yaml"
    assert (error.line, error.column) == position(broken, "${vars.region}")
    assert "not defined in env.yaml" in error.reason
