"""``${}`` semantics: types, text, functions, scopes, and errors that point at the token."""

from __future__ import annotations

import pytest

from tests.projects.spec.support import HEADER, failure, one_resource, parse, position


def props(body: str, files: dict[str, str] | None = None, **env: str) -> dict[str, object]:
    project = parse(one_resource(body, extra=VARS), files, env=env)
    return project.resources["a"].props


VARS = """vars:
  size: 512
  ratio: 0.5
  on: true
  service: {name: svc, tags: [x, y]}
  region: cn-hangzhou
"""


def test_a_single_token_keeps_its_type() -> None:
    resolved = props(
        "      memory: ${vars.size}\n"
        "      ratio: ${vars.ratio}\n"
        "      enabled: ${vars.on}\n"
        "      service: ${vars.service}\n"
        "      tags: ${vars.service.tags}\n"
    )
    assert resolved == {
        "memory": 512,
        "ratio": 0.5,
        "enabled": True,
        "service": {"name": "svc", "tags": ["x", "y"]},
        "tags": ["x", "y"],
    }


def test_tokens_inside_text_are_stringified_as_javascript_does() -> None:
    resolved = props(
        "      a: fn-${vars.size}-${vars.ratio}-${vars.on}\n"
        "      b: list=${vars.service.tags}\n"
        "      c: '${vars.region}:${vars.size}'\n"
        "      d: n-${1.0}\n"
    )
    assert resolved == {"a": "fn-512-0.5-true", "b": "list=x,y", "c": "cn-hangzhou:512", "d": "n-1"}


def test_an_object_in_text_reads_object_object_with_a_warning() -> None:
    project = parse(one_resource("      a: s=${vars.service}\n", extra=VARS))
    assert project.resources["a"].props["a"] == "s=[object Object]"
    assert any("[object Object]" in w for w in project.warnings)


def test_env_value_default_and_record() -> None:
    resolved = props(
        "      a: ${env('SET', 'dflt')}\n"
        "      b: ${env('UNSET', 'dflt')}\n"
        "      c: ${env('EMPTY', 'empty-is-missing')}\n"
        '      d: ${env("UNSET2", vars.size)}\n',
        SET="given",
        EMPTY="",
    )
    assert resolved == {"a": "given", "b": "dflt", "c": "empty-is-missing", "d": 512}
    project = parse(
        one_resource("      a: ${env('SET', 'x')}-${env('UNSET', 'y')}\n"), env={"SET": "v"}
    )
    assert project.env_used == {"SET": "v", "UNSET": None}


def test_env_values_are_strings() -> None:
    assert props("      memory: ${env('MEM')}\n", MEM="1024") == {"memory": "1024"}


def test_env_without_default_and_unset_is_an_error_at_the_token() -> None:
    text = one_resource("      region: cn-${env('REGION')}\n")
    error = failure(text)
    assert (error.line, error.column) == position(text, "${env('REGION')}")
    assert error.expression == "${env('REGION')}"
    assert "env('REGION') not found" in error.reason


def test_env_dot_form_is_2x_syntax_and_refused() -> None:
    error = failure(one_resource("      region: ${env.REGION}\n"))
    assert error.expression == "${env.REGION}"
    assert "${env('X')}" in error.reason


def test_vars_nested_and_referring_to_each_other() -> None:
    text = one_resource(
        "      a: ${vars.full}\n",
        extra="vars:\n  name: svc\n  full: ${vars.name}-${vars.stage}\n  stage: prod\n",
    )
    project = parse(text)
    assert project.resources["a"].props == {"a": "svc-prod"}
    assert project.vars == {"name": "svc", "full": "svc-prod", "stage": "prod"}


def test_missing_var_is_an_error_naming_line_column_and_expression() -> None:
    text = one_resource("      timeout: ${vars.nope}\n", extra=VARS)
    error = failure(text)
    assert (error.file, error.line, error.column) == ("s.yaml", *position(text, "${vars.nope}"))
    assert error.expression == "${vars.nope}"
    assert (
        str(error) == f"s.yaml:{error.line}:{error.column}: vars.nope not found in ${{vars.nope}}"
    )


def test_unknown_function_names_line_column_and_expression() -> None:
    text = one_resource("      name: fn-${foo('x')}\n")
    error = failure(text)
    line, column = position(text, "${foo('x')}")
    assert str(error) == f"s.yaml:{line}:{column}: unknown function 'foo' in ${{foo('x')}}"


def test_position_inside_quoted_and_block_scalars() -> None:
    text = one_resource("      a: |\n        line one\n        two ${nope()}\n")
    error = failure(text)
    assert (error.line, error.column) == position(text, "${nope()}")
    quoted = one_resource('      a: "q ${vars.x} ${nope()}"\n', extra="vars:\n  x: 1\n")
    error = failure(quoted)
    assert (error.line, error.column) == position(quoted, "${nope()}")


def test_this_name_access_component_props() -> None:
    resolved = props(
        "      functionName: fn\n"
        "      code: ./code\n"
        "      environmentVariables:\n"
        "        NAME: ${this.name}\n"
        "        ACCESS: ${this.access}\n"
        "        COMPONENT: ${this.component}\n"
        "        FN: ${this.props.functionName}\n"
        "        CODE: ${this.props.code}/x\n"
    )
    assert resolved["environmentVariables"] == {
        "NAME": "a",
        "ACCESS": "default",
        "COMPONENT": "fc3",
        "FN": "fn",
        "CODE": "./code/x",
    }


def test_resources_props_of_a_later_resource_resolve_fully() -> None:
    text = (
        HEADER
        + "vars:\n  t: 30\nresources:\n"
        + "  a:\n    component: fc3\n    props:\n      timeout: ${resources.b.props.timeout}\n"
        + "      name: ${resources['b'].props.name}-a\n"
        + "  b:\n    component: fc3\n    props:\n"
        + "      timeout: ${vars.t}\n      name: b-${this.name}\n"
    )
    project = parse(text)
    assert project.resources["a"].props == {"timeout": 30, "name": "b-b-a"}
    assert project.resources["a"].depends_on == set()  # props references make no edge
    assert project.layers == [["a"], ["b"]]


def test_missing_resource_is_an_error() -> None:
    text = one_resource("      x: ${resources.ghost.props.x}\n")
    error = failure(text)
    assert (error.line, error.column) == position(text, "${resources.ghost.props.x}")
    assert error.reason == "unknown resource 'ghost'"


def test_missing_prop_of_another_resource_is_an_error() -> None:
    text = (
        HEADER
        + "resources:\n  a:\n    component: fc3\n    props:\n      x: ${resources.b.props.nope}\n"
        + "  b:\n    component: fc3\n    props:\n      y: 1\n"
    )
    assert "resources.b.props.nope not found" in failure(text).reason


def test_a_dash_in_a_resource_name_needs_brackets() -> None:
    text = (
        HEADER
        + "resources:\n  a:\n    component: fc3\n    props:\n"
        + "      x: ${resources.next-fn.output.url}\n"
        + "  next-fn:\n    component: fc3\n"
    )
    assert "resources['next-fn']" in failure(text).reason


def test_file_json_yaml_str_path_config() -> None:
    files = {
        "conf/app.json": '{"name": "svc", "limits": {"memory": 256}}',
        "conf/extra.yaml": "a: 1\nb: [x, y]\n",
        "motd.txt": "hello",
    }
    resolved = props(
        "      raw: ${file('./motd.txt')}\n"
        "      json: ${json(file('conf/app.json'))}\n"
        "      memory: ${json(file('conf/app.json')).limits.memory}\n"
        "      yaml: ${yaml(file('conf/extra.yaml'))}\n"
        "      text: ${str(vars.size)}\n"
        "      path: ${path('./conf')}\n"
        "      account: ${config('AccountID')}\n"
        "      cwd: ${cwd}\n",
        files,
    )
    assert resolved == {
        "raw": "hello",
        "json": {"name": "svc", "limits": {"memory": 256}},
        "memory": 256,
        "yaml": {"a": 1, "b": ["x", "y"]},
        "text": "512",
        "path": "conf",
        "account": "1234567890",
        "cwd": ".",
    }


def test_file_contents_with_tokens_are_compiled_once_more() -> None:
    assert props("      a: ${file('t.txt')}\n", {"t.txt": "r-${vars.region}"}) == {
        "a": "r-cn-hangzhou"
    }


def test_missing_file_and_missing_config_are_errors() -> None:
    assert (
        "file 'nope.json' not found"
        in failure(one_resource("      a: ${file('nope.json')}\n")).reason
    )
    error = failure(one_resource("      a: ${config('Nope')}\n"))
    assert error.reason == "config('Nope') not found"


def test_paths_resolve_from_the_file_they_are_written_in() -> None:
    project = parse(
        "edition: 3.0.0\nresources:\n  a:\n    component: ${path('../components/x')}\n"
        "    props:\n      code: ${path('./code')}\n",
        {"app/code/index.py": ""},
        main="app/s.yaml",
    )
    assert project.resources["a"].component == "components/x"
    assert project.resources["a"].props["code"] == "app/code"
    assert project.warnings == [
        "path('../components/x') is 'components/x', which is not among the project's files"
    ]


def test_javascript_operators() -> None:
    resolved = props(
        "      fallback: ${vars.missing || 'dflt'}\n"
        "      nullish: ${vars.missing ?? vars.size}\n"
        "      both: ${vars.on && vars.region}\n"
        "      pick: \"${vars.size > 256 ? 'big' : 'small'}\"\n"
        "      sum: ${vars.size + 1}\n"
        "      concat: ${'v' + vars.size}\n"
        "      equal: ${vars.region === 'cn-hangzhou'}\n"
        "      not: ${!vars.on}\n"
        "      length: ${vars.service.tags.length}\n"
        "      index: ${vars.service.tags[1]}\n"
        "      optional: ${vars.missing?.deep || 'none'}\n"
    )
    assert resolved == {
        "fallback": "dflt",
        "nullish": 512,
        "both": "cn-hangzhou",
        "pick": "big",
        "sum": 513,
        "concat": "v512",
        "equal": True,
        "not": False,
        "length": 2,
        "index": "y",
        "optional": "none",
    }


def test_false_is_a_value_but_null_keys_are_dropped() -> None:
    resolved = props("      off: ${!vars.on}\n      gone: null\n      list: [1, null]\n")
    assert resolved == {"off": False, "list": [1, None]}


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("${vars.size.a.b}", "cannot read 'b' of undefined"),
        ("${a +}", "unexpected at the end"),
        ("${'open}", "unterminated string"),
        ("${vars.size()}", "only the built-in functions can be called"),
        ("${regex('x')}", "belongs in action and flow keys"),
        ("${this.props.a}", "cycle: resources.a.props.a -> resources.a.props.a"),
        ("${resources.a.info.x}", "is not supported"),
        ("${`t`}", "template literals"),
    ],
)
def test_expression_errors(expression: str, reason: str) -> None:
    text = one_resource(f"      a: {expression}\n", extra=VARS)
    error = failure(text)
    assert reason in error.reason
    assert error.expression == expression
    assert (error.line, error.column) == position(text, expression)


def test_unclosed_token_is_text() -> None:
    assert props("      a: cost ${ not closed\n") == {"a": "cost ${ not closed"}


def test_keys_are_not_compiled() -> None:
    assert props("      environmentVariables:\n        ${vars.region}: x\n") == {
        "environmentVariables": {"${vars.region}": "x"}
    }


def test_props_cycle_names_the_chain() -> None:
    text = one_resource("      a: ${this.props.b}\n      b: x-${this.props.a}\n")
    error = failure(text)
    assert (
        error.reason == "cycle: resources.a.props.a -> resources.a.props.b -> resources.a.props.a"
    )


def test_vars_cycle() -> None:
    error = failure(HEADER + "vars:\n  a: ${vars.b}\n  b: ${vars.a}\nresources: {}\n")
    assert error.reason == "cycle: vars.a -> vars.b -> vars.a"


def test_this_and_resources_props_are_not_global() -> None:
    assert (
        "only defined inside a resource"
        in failure(HEADER + "vars:\n  a: ${this.name}\nresources: {}\n").reason
    )
    error = failure(
        HEADER + "vars:\n  a: ${resources.x.props.y}\nresources:\n  x:\n    component: fc3\n"
    )
    assert "only available inside a resource" in error.reason


def test_the_process_environment_is_never_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FCPLANE_SPEC_PROBE", "from-os")
    assert props("      a: ${env('FCPLANE_SPEC_PROBE', 'not-read')}\n") == {"a": "not-read"}


def test_resource_line_and_project_fields() -> None:
    text = one_resource("      a: 1\n", extra=VARS)
    project = parse(text)
    assert project.resources["a"].line == position(text, "  a:\n    component")[0]
    assert (project.name, project.access, project.edition, project.flow) == (
        "demo",
        "default",
        "3.0.0",
        False,
    )
    assert project.vars["service"] == {"name": "svc", "tags": ["x", "y"]}
    assert project.actions == []


def test_dotenv_files_among_the_files_add_variables_without_overriding() -> None:
    text = one_resource(
        "      code: ./src\n"
        "      a: ${env('FROM_ROOT')}\n"
        "      b: ${env('FROM_CODE')}\n"
        "      c: ${env('GIVEN')}\n"
        "      d: ${env('EXPANDED')}\n"
    )
    files = {
        ".env": "# root\nFROM_ROOT=root\nGIVEN=file\nFROM_CODE=root-loses\n"
        "EXPANDED=${FROM_ROOT}-x\n",
        "src/.env": "export FROM_CODE='code' # quoted\n",
    }
    project = parse(text, files, env={"GIVEN": "caller"})
    assert project.resources["a"].props == {
        "code": "./src",
        "a": "root",
        "b": "code",  # the code directory's .env is loaded first
        "c": "caller",
        "d": "root-x",
    }
