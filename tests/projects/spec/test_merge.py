"""template + resource extend (with ignore), and file-level extend."""

from __future__ import annotations

from service.projects.spec import Pending
from tests.projects.spec.support import HEADER, failure, parse, position

TEMPLATED = (
    HEADER
    + """vars:
  region: cn-shanghai
template:
  base:
    region: cn-hangzhou
    runtime: python3.10
    vpcConfig: vpc-1
    triggers: [{triggerName: t1}, {triggerName: t2}]
    logConfig: {project: p, logstore: l}
    environmentVariables: {A: a, B: b}
resources:
  a:
    component: fc3
    extend:
      name: base
      ignore: [vpcConfig, logConfig.logstore]
    props:
      region: ${vars.region}
      triggers: [{triggerName: mine}]
      environmentVariables: {B: override, C: "${this.props.runtime}"}
  b:
    component: fc3
    extend: {name: base, ignore: vpcConfig}
"""
)


def test_template_merges_under_props_with_ignore() -> None:
    project = parse(TEMPLATED)
    assert project.resources["a"].props == {
        "region": "cn-shanghai",  # props win
        "runtime": "python3.10",
        "triggers": [{"triggerName": "mine"}],  # lists are replaced, not spliced
        "logConfig": {"project": "p"},  # a dotted ignore path
        "environmentVariables": {"A": "a", "B": "override", "C": "python3.10"},
    }
    b = project.resources["b"].props
    assert "vpcConfig" not in b  # `ignore` given as one string
    assert b["logConfig"] == {"project": "p", "logstore": "l"}


def test_unknown_template_is_an_error() -> None:
    text = HEADER + "resources:\n  a:\n    component: fc3\n    extend: {name: nope}\n"
    error = failure(text)
    assert error.reason == "unknown template 'nope'"
    assert (error.line, error.column) == position(text, "nope")


def test_templates_are_compiled_in_the_global_scope() -> None:
    text = (
        HEADER
        + "template:\n  t:\n    description: ${this.name}\n"
        + "resources:\n  a:\n    component: fc3\n    extend: {name: t}\n"
    )
    assert "only defined inside a resource" in failure(text).reason


BASE = """edition: 3.0.0
name: app
access: default
vars:
  region: cn-hangzhou
  service: {name: base-svc, description: from base}
actions:
  pre-deploy:
    - run: echo base
resources:
  api:
    component: fc3
    props:
      region: ${vars.region}
      service: ${vars.service}
      code: ${path('./code')}
      triggers: [{triggerName: a}, {triggerName: b}]
      url: ${resources.db.output.url}
  db:
    component: fc3
    props:
      functionName: db
"""
CHILD = """extend: ../base/s.yaml
vars:
  service: {name: child-svc}
resources:
  api:
    props:
      service: {description: from child}
      triggers: [{triggerName: c}]
  extra:
    component: fc3
    props:
      region: ${vars.region}
"""


def test_file_extend_parses_both_then_merges() -> None:
    project = parse(CHILD, {"base/s.yaml": BASE, "base/code/x.py": ""}, main="prod/s.yaml")
    api = project.resources["api"]
    assert api.props["service"] == {"name": "child-svc", "description": "from child"}
    assert api.props["triggers"] == [{"triggerName": "c"}]
    assert api.props["code"] == "base/code"  # path() from the base's directory
    assert isinstance(api.props["url"], Pending)
    assert api.line == position(CHILD, "  api:")[0]  # reported in the main file
    assert list(project.resources) == ["api", "db", "extra"]
    assert project.resources["extra"].props == {"region": "cn-hangzhou"}
    assert project.name == "app"
    assert project.edition == "3.0.0"
    assert [a.value for a in project.actions] == ["echo base"]
    assert project.layers == [["db"], ["api"], ["extra"]]
    assert project.warnings == []


def test_file_extend_missing_base_and_env_conflict() -> None:
    error = failure(CHILD, main="prod/s.yaml")
    assert error.reason == "extend file '../base/s.yaml' not found"
    assert error.line == 1
    conflict = failure(CHILD, {"base/s.yaml": BASE}, main="prod/s.yaml", environment="dev")
    assert "env and extend cannot be combined" in conflict.reason
