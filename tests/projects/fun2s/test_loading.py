"""Reading the template: safe, bounded, js-yaml's scalars, and clear errors."""

from __future__ import annotations

import time

import pytest

from service.projects.fun2s import TemplateError, convert_template
from service.projects.fun2s.loader import MAX_CHARS
from tests.projects.fun2s.builders import props, template, unmapped_at, warned


def _bomb(levels: int = 9) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels + 1):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\nResources: *a9\n"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (_bomb(), "aliases are expanded"),
        ("Resources: &r {x: *r}\n", "nested deeper"),
        ("[" * 50_000 + "]" * 50_000, "nested"),
        ("a: " + "x" * (MAX_CHARS + 1), "larger than"),
    ],
    ids=["alias-bomb", "recursive-alias", "deep-nesting", "too-large"],
)
def test_hostile_input_is_refused_quickly(text: str, fragment: str) -> None:
    started = time.monotonic()
    with pytest.raises(TemplateError, match=fragment):
        convert_template(text)
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("Resources:\n  a: {Type: x}\n  a: {Type: y}\n", 3, "duplicate key 'a'"),
        ("Resources: [1,\n", 2, "not valid YAML"),
        ("a: 1\n---\nb: 2\n", 2, "not valid YAML"),
        ("x: !!python/object/apply:os.system [ls]\n", 1, "not valid YAML"),
        ("- 1\n", 1, "not a mapping"),
    ],
)
def test_errors_name_file_and_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(TemplateError) as caught:
        convert_template(text, filename="app/template.yml")
    assert caught.value.file == "app/template.yml"
    assert caught.value.line == line
    assert fragment in caught.value.reason
    assert str(caught.value).startswith(f"app/template.yml:{line}: ")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("edition: 3.0.0\nresources: {}\n", "looks like an s.yaml"),
        ("a: 1\nResources: []\n", "template.yml:2: Resources is not a mapping"),
        ("Transform: Other\nResources: {}\n", "template.yml:1: Transform"),
        ("Resources:\n  r: {Type: 'ALIYUN::ECS::Instance'}\n", "not a Funcraft template"),
    ],
)
def test_what_is_not_a_funcraft_template_is_refused(text: str, fragment: str) -> None:
    with pytest.raises(TemplateError) as caught:
        convert_template(text)
    assert fragment in str(caught.value)
    assert str(caught.value).startswith("template.yml")


def test_scalars_read_as_funcraft_read_them() -> None:
    text = template(function={"EnvironmentVariables": {"A": "x"}}).replace(
        "A: x", "A: on\n          B: 2018-04-03\n          C: yes\n          D: true"
    )
    variables = props(convert_template(text))["environmentVariables"]
    assert variables == {"A": "on", "B": "2018-04-03", "C": "yes", "D": "true"}


def test_ros_intrinsics_load_safely_and_resolve_or_are_reported() -> None:
    text = """
ROSTemplateFormatVersion: '2015-09-01'
Transform: 'Aliyun::Serverless-2018-04-03'
Parameters:
  Memory: {Type: Number, Default: 256}
  Bucket: {Type: String}
Resources:
  svc:
    Type: 'Aliyun::Serverless::Service'
    Properties:
      Role: !GetAtt MyRole.Arn
    fn:
      Type: 'Aliyun::Serverless::Function'
      Properties:
        Handler: index.handler
        Runtime: python3
        CodeUri: ./
        MemorySize: !Ref Memory
        EnvironmentVariables:
          BUCKET: !Ref Bucket
          REGION: {Ref: 'ALIYUN::Region'}
          JOINED: !Join ['-', [a, b]]
"""
    conversion = convert_template(text)
    made = props(conversion)
    assert made["memorySize"] == 256
    assert made["environmentVariables"] == {"REGION": "${vars.region}"}
    assert "role" not in made
    assert warned(conversion, "Resources.svc.fn.Properties.MemorySize", "default 256")
    assert "GetAtt" in unmapped_at(conversion, "Resources.svc.Properties.Role").reason
    env = "Resources.svc.fn.Properties.EnvironmentVariables"
    assert "Bucket" in unmapped_at(conversion, f"{env}.BUCKET").reason
    assert "Join" in unmapped_at(conversion, f"{env}.JOINED").reason
    assert unmapped_at(conversion, "Parameters")
