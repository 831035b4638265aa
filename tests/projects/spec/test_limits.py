"""Pathological inputs fail fast with a SpecError; YAML reads as js-yaml reads it."""

from __future__ import annotations

import time

import pytest

from service.projects.spec import SpecError, parse_project
from tests.projects.spec.support import HEADER, failure, one_resource, parse


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["edition: 3.0.0", "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 10):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]")
    started = time.monotonic()
    error = failure("\n".join(lines) + "\n")
    assert "alias bomb" in error.reason
    assert time.monotonic() - started < 5


def test_recursive_alias_and_deep_nesting_are_refused() -> None:
    assert "nesting deeper" in failure("edition: 3.0.0\nx: &a [*a]\n").reason
    assert "nesting deeper" in failure("edition: 3.0.0\nx: " + "[" * 500 + "]" * 500 + "\n").reason


def test_expression_nesting_is_bounded() -> None:
    deep = "(" * 200 + "1" + ")" * 200
    assert "nested deeper" in failure(one_resource(f"      a: ${{{deep}}}\n")).reason
    negations = "!" * 200 + "true"
    assert "nested deeper" in failure(one_resource(f"      a: ${{{negations}}}\n")).reason
    chain = "+".join(["1"] * 500)
    assert "nested deeper" in failure(one_resource(f"      a: ${{{chain}}}\n")).reason
    members = "vars" + ".a" * 300
    assert "nested deeper" in failure(one_resource(f"      a: ${{{members}}}\n")).reason


def test_references_that_multiply_structure_are_refused() -> None:
    lines = ["vars:", "  v0: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"]
    for level in range(1, 9):
        lines.append(f"  v{level}: [" + ", ".join([f'"${{vars.v{level - 1}}}"'] * 10) + "]")
    text = one_resource("      x: ${vars.v8}\n", extra="\n".join(lines) + "\n")
    started = time.monotonic()
    assert "once shared references are expanded" in failure(text).reason
    assert time.monotonic() - started < 5


def test_strings_that_multiply_are_refused() -> None:
    lines = ["vars:", "  s0: " + "x" * 50]
    for level in range(1, 9):
        lines.append(f"  s{level}: " + "".join([f"${{vars.s{level - 1}}}"] * 10))
    text = one_resource("      x: ${vars.s8}\n", extra="\n".join(lines) + "\n")
    assert "more than 1000000 characters" in failure(text).reason


def test_reference_chains_are_bounded() -> None:
    # Declared last-first, so resolving v99 follows the whole chain at once.
    lines = ["vars:"] + [f"  v{i}: ${{vars.v{i - 1}}}" for i in range(99, 0, -1)] + ["  v0: end"]
    text = one_resource("      x: ${vars.v99}\n", extra="\n".join(lines) + "\n")
    assert "references nested deeper" in failure(text).reason


def test_yaml_core_schema_scalars() -> None:
    resolved = (
        parse(
            one_resource(
                "      yes: yes\n      on: on\n      time: 12:30\n      octal: 0o17\n"
                "      hex: 0x1F\n      float: 1.5e3\n      inf: .inf\n      flag: True\n"
                "      none: ~\n      date: 2024-01-01\n      version: 3.0.0\n"
            )
        )
        .resources["a"]
        .props
    )
    assert resolved == {
        "yes": "yes",
        "on": "on",
        "time": "12:30",
        "octal": 15,
        "hex": 31,
        "float": 1500.0,
        "inf": float("inf"),
        "flag": True,
        "date": "2024-01-01",
        "version": "3.0.0",
    }


def test_merge_keys_and_anchors() -> None:
    text = one_resource(
        "      base: &base {memorySize: 128, timeout: 3}\n"
        "      fn:\n        <<: *base\n        timeout: 30\n"
    )
    assert parse(text).resources["a"].props["fn"] == {"memorySize": 128, "timeout": 30}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            HEADER + "resources:\n  a: {component: fc3, props: {x: 1, x: 2}}\n",
            "duplicated mapping key",
        ),
        ("edition: 3.0.0\nx: [\n", "expected"),
        ("edition: 3.0.0\nx: !Ref y\n", "unsupported YAML tag"),
        ("- a\n- b\n", "must be a mapping"),
        ("edition: 1.0.0\nservices: {}\n", "edition 1.0.0 is not supported"),
        ("name: x\nresources: {}\n", "edition is missing"),
        ("edition: 3.0.0\nservices:\n  a: {component: fc}\n", "replaced by 'resources'"),
        (HEADER + "resources:\n  a:\n    props: {}\n", "needs a component"),
        (HEADER + "resources:\n  a: fc3\n", "must be a mapping"),
    ],
)
def test_malformed_documents(text: str, reason: str) -> None:
    error = failure(text)
    assert reason in error.reason
    assert error.file == "s.yaml"


def test_missing_main_file() -> None:
    with pytest.raises(SpecError, match="file not found") as caught:
        parse_project({"other.yaml": "edition: 3.0.0\n"}, env={}, config={})
    assert caught.value.file == "s.yaml"


def test_json_nesting_is_bounded() -> None:
    deep = "[" * 500 + "]" * 500
    text = one_resource("      a: ${json(file('deep.json'))}\n")
    assert "nested deeper" in failure(text, {"deep.json": deep}).reason
