"""The one command grammar: words, quotes, flags, durations and loads."""

from __future__ import annotations

import pytest

from service.chatops.commands.grammar import (
    Flag,
    GrammarError,
    Spec,
    parse,
    parse_duration,
    parse_load,
    split,
)

SPEC = Spec(
    "plan",
    "what a deploy would change",
    args=("function",),
    optional=("extra",),
    flags=(Flag("env", "environment", metavar="E"), Flag("check", "check now", switch=True)),
)


def test_words_quotes_and_the_bots_own_name() -> None:
    assert split("plan hello --env prod") == ["plan", "hello", "--env", "prod"]
    assert split('@fcplane plan "two words"') == ["plan", "two words"]
    assert split("/fcplane fcplane plan 'a b'") == ["plan", "a b"]
    # Chat clients send curly quotes for straight ones.
    assert split("plan \u201ctwo words\u201d \u2018x y\u2019") == ["plan", "two words", "x y"]
    assert split("   ") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('plan "hello', "a quote is not closed"),
        ("x" * 501, "too long"),
    ],
)
def test_split_refuses_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(GrammarError, match=message):
        split(text)


def test_flags_with_values_switches_and_positionals() -> None:
    parsed = parse(["hello", "--env", "prod", "--check"], SPEC)
    assert parsed.args == ["hello"]
    assert parsed.flags == {"env": "prod", "check": "true"}
    assert parse(["--env=prod", "hello", "more"], SPEC).args == ["hello", "more"]
    assert parse(["hello"], SPEC).arg(1) is None


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ([], "`plan` needs <function>"),
        (["a", "b", "c"], "`plan` does not take `c`"),
        (["a", "--nope"], r"`plan` has no flag --nope \(its flags: --env, --check\)"),
        (["a", "--env"], r"--env needs a value \(E\)"),
        (["a", "--env", "--check"], "--env needs a value"),
        (["a", "--env="], "--env needs a value"),
        (["a", "--check=yes"], "--check takes no value"),
        (["a", "--env", "x", "--env", "y"], "--env is given twice"),
    ],
)
def test_parse_errors_name_the_problem_and_carry_the_usage(words: list[str], message: str) -> None:
    with pytest.raises(GrammarError, match=message) as caught:
        parse(words, SPEC)
    assert caught.value.usage == "plan <function> [extra] [--env E] [--check]"


def test_durations_and_loads() -> None:
    assert [parse_duration(t) for t in ("30s", "2m", "1h", "45", "10S")] == [30, 120, 3600, 45, 10]
    for bad in ("0s", "s", "1d", "-5", "1.5m"):
        with pytest.raises(GrammarError, match="duration"):
            parse_duration(bad)
    assert parse_load("10users") == ("users", 10)
    assert parse_load("1user") == ("users", 1)
    assert parse_load("3u") == ("users", 3)
    assert parse_load("50rps") == ("rps", 50)
    assert parse_load("2.5RPS") == ("rps", 2.5)
    for bad in ("10", "1.5users", "0rps", "manyusers", "rps"):
        with pytest.raises(GrammarError, match="load"):
            parse_load(bad)
