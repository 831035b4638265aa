"""actions: hooks, kinds, global and per resource, regex keys, allow_failure."""

from __future__ import annotations

from tests.projects.spec.support import HEADER, failure, parse, position

TEXT = (
    HEADER
    + """vars:
  region: cn-hangzhou
actions:
  pre-${regex('deploy|local')}:
    - run: echo ${vars.region}
      path: ./scripts
  success-deploy:
    - plugin: ./plugins/notify.js
      args: {channel: ops}
  fail-${regex('^remove$')}:
    - run: echo only-on-remove
  complete-deploy:
    - component: fc3 invoke
resources:
  api:
    component: fc3
    actions:
      pre-deploy:
        - run: npm install
          path: ./code
          allow_failure: {exit_code: [1], command: [deploy]}
      post-deploy:
        - component: fc3 version publish --description "${this.props.functionName} v1"
        - run: curl ${resources.db.output.url}
    props:
      functionName: api
  db:
    component: fc3
    allow_failure: true
    actions:
      fail-deploy:
        - run: echo db failed
          allow_failure: false
"""
)


def test_global_actions() -> None:
    project = parse(TEXT)
    assert [(a.hook, a.command, a.kind, a.value, a.path, a.args) for a in project.actions] == [
        ("pre", "true", "run", "echo cn-hangzhou", "./scripts", None),
        ("success", "deploy", "plugin", "./plugins/notify.js", None, {"channel": "ops"}),
        ("fail", "false", "run", "echo only-on-remove", None, None),
        ("complete", "deploy", "component", "fc3 invoke", None, None),
    ]
    assert {a.resource for a in project.actions} == {None}
    assert project.actions[0].line == position(TEXT, "- run: echo ${vars.region}")[0]
    assert project.actions[0].file == "s.yaml"
    assert any("component actions only run at resource level" in w for w in project.warnings)


def test_resource_actions() -> None:
    project = parse(TEXT)
    install, publish, curl = project.resources["api"].actions
    assert (install.hook, install.command, install.kind, install.path) == (
        "pre",
        "deploy",
        "run",
        "./code",
    )
    assert install.allow_failure == {"exit_code": [1], "command": ["deploy"]}
    # post- is read as complete-, with a warning.
    assert (publish.hook, publish.kind) == ("complete", "component")
    assert publish.value == 'fc3 version publish --description "api v1"'
    assert curl.value == "curl ${resources.db.output.url}"  # kept for run time
    assert {a.resource for a in project.resources["api"].actions} == {"api"}
    assert publish.allow_failure is False
    assert any("'post-' hooks are renamed" in w for w in project.warnings)


def test_a_resource_allow_failure_wins_over_its_actions() -> None:
    (action,) = parse(TEXT).resources["db"].actions
    assert action.allow_failure is True


def test_action_errors() -> None:
    def actions(block: str) -> str:
        return HEADER + "resources:\n  a:\n    component: fc3\n    actions:\n" + block

    not_a_list = actions("      pre-deploy:\n        run: x\n")
    error = failure(not_a_list)
    assert error.reason == "project action pre-deploy is invalid, it must be array"
    assert (error.line, error.column) == position(not_a_list, "pre-deploy")
    assert (
        "unknown action hook 'before'"
        in failure(actions("      before-deploy:\n        - run: x\n")).reason
    )
    assert (
        "needs run, plugin or component"
        in failure(actions("      pre-deploy:\n        - path: x\n")).reason
    )
    bad_key = actions("      pre-${env('X')}:\n        - run: x\n")
    error = failure(bad_key)
    assert error.reason == "env() cannot be used in a key: only regex() can"
    assert (error.line, error.column) == position(bad_key, "${env('X')}")
