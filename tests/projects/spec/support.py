"""Helpers for the spec tests: parse an s.yaml given as text, or expect its error."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from service.projects.spec import Project, SpecError, parse_project

HEADER = "edition: 3.0.0\nname: demo\naccess: default\n"
CONFIG = {"AccountID": "1234567890", "AccessKeyID": "ak-id"}


def parse(
    text: str,
    files: Mapping[str, str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config: Mapping[str, str] | None = None,
    environment: str | None = None,
    main: str = "s.yaml",
) -> Project:
    return parse_project(
        {main: text, **(files or {})},
        main=main,
        env=env or {},
        config=CONFIG if config is None else config,
        environment=environment,
    )


def failure(
    text: str,
    files: Mapping[str, str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    environment: str | None = None,
    main: str = "s.yaml",
) -> SpecError:
    with pytest.raises(SpecError) as caught:
        parse(text, files, env=env, environment=environment, main=main)
    return caught.value


def one_resource(props: str, *, extra: str = "") -> str:
    """An s.yaml with resource ``a`` whose props are ``props`` (already indented 6)."""
    return f"{HEADER}{extra}resources:\n  a:\n    component: fc3\n    props:\n{props}"


def position(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the first ``needle`` in ``text``."""
    before = text[: text.index(needle)]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
