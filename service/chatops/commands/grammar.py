"""One command grammar for every platform: ``plan hello --env prod``.

Words are split like a shell does (``"two words"`` and ``'two words'`` are one
argument); ``--flag value`` and ``--flag=value`` give a flag a value, and a
flag declared as a switch (``--check``) takes none. Chat clients turn straight
quotes into curly ones, so those count as quotes too. A command that breaks its
spec raises :class:`GrammarError` whose message says what is wrong and shows the
usage, never a traceback.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

# Slack, Teams and phones "smarten" quotes; a user typing "two words" means straight ones.
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
# Where a platform leaves the bot's own name in the text (a mention, "fcplane plan ...").
_BOT_WORDS = {"fcplane", "/fcplane", "@fcplane"}
MAX_TEXT = 500


class GrammarError(ValueError):
    """The command cannot be understood; the message is for the user."""

    def __init__(self, message: str, usage: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage


@dataclass(frozen=True)
class Flag:
    name: str
    help: str
    switch: bool = False  # takes no value
    metavar: str = "VALUE"


@dataclass(frozen=True)
class Spec:
    """What one command accepts: positional arguments (required ones first) and flags."""

    name: str
    summary: str
    args: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    flags: tuple[Flag, ...] = ()

    @property
    def usage(self) -> str:
        words = [self.name, *(f"<{a}>" for a in self.args), *(f"[{a}]" for a in self.optional)]
        for flag in self.flags:
            words.append(f"[--{flag.name}]" if flag.switch else f"[--{flag.name} {flag.metavar}]")
        return " ".join(words)

    def flag(self, name: str) -> Flag | None:
        return next((f for f in self.flags if f.name == name), None)


@dataclass(frozen=True)
class Parsed:
    """A command as typed: its name, positional arguments and flags."""

    name: str
    args: list[str] = field(default_factory=list)
    flags: dict[str, str] = field(default_factory=dict)

    def arg(self, index: int) -> str | None:
        return self.args[index] if index < len(self.args) else None

    def has(self, flag: str) -> bool:
        return flag in self.flags


def split(text: str) -> list[str]:
    """The words of a command, quotes honoured; the bot's own name in front dropped."""
    if len(text) > MAX_TEXT:
        raise GrammarError(f"the command is too long ({len(text)} characters; at most {MAX_TEXT})")
    try:
        words = shlex.split(text.translate(_QUOTES))
    except ValueError:
        raise GrammarError(
            "a quote is not closed; put the quoted words between two quotes"
        ) from None
    while words and words[0].lower() in _BOT_WORDS:
        words.pop(0)
    return words


def parse(words: list[str], spec: Spec) -> Parsed:
    """Check ``words`` (the command name excluded) against ``spec``."""
    args: list[str] = []
    flags: dict[str, str] = {}
    position = 0
    while position < len(words):
        word = words[position]
        position += 1
        if not word.startswith("--") or word == "--":
            args.append(word)
            continue
        name, has_value, value = word[2:].partition("=")
        flag = spec.flag(name)
        if flag is None:
            known = ", ".join(f"--{f.name}" for f in spec.flags) or "none"
            raise GrammarError(
                f"`{spec.name}` has no flag --{name} (its flags: {known})", spec.usage
            )
        if name in flags:
            raise GrammarError(f"--{name} is given twice", spec.usage)
        if flag.switch:
            if has_value:
                raise GrammarError(f"--{name} takes no value", spec.usage)
            flags[name] = "true"
            continue
        if not has_value:
            if position >= len(words) or words[position].startswith("--"):
                raise GrammarError(f"--{name} needs a value ({flag.metavar})", spec.usage)
            value = words[position]
            position += 1
        if not value:
            raise GrammarError(f"--{name} needs a value ({flag.metavar})", spec.usage)
        flags[name] = value
    if len(args) < len(spec.args):
        missing = spec.args[len(args)]
        raise GrammarError(f"`{spec.name}` needs <{missing}>", spec.usage)
    if len(args) > len(spec.args) + len(spec.optional):
        extra = " ".join(args[len(spec.args) + len(spec.optional) :])
        raise GrammarError(f"`{spec.name}` does not take `{extra}`", spec.usage)
    return Parsed(spec.name, args, flags)


def parse_duration(text: str) -> int:
    """``30s``, ``2m``, ``1h`` or plain seconds (``45``) → seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    number, unit = (text[:-1], text[-1].lower()) if text[-1:].isalpha() else (text, "s")
    if unit not in units or not (number.isascii() and number.isdigit()) or int(number) == 0:
        raise GrammarError(
            f"duration `{text}`: give a positive number of seconds, minutes or hours "
            "(`30s`, `2m`, `1h`)"
        )
    return int(number) * units[unit]


def parse_load(text: str) -> tuple[str, float]:
    """``10users`` / ``10u`` (closed loop) or ``50rps`` (open loop) → ("users"|"rps", n)."""
    lowered = text.lower()
    for suffix, kind in (("users", "users"), ("user", "users"), ("u", "users"), ("rps", "rps")):
        if lowered.endswith(suffix):
            number = lowered[: -len(suffix)]
            try:
                value = float(number)
            except ValueError:
                break
            if value > 0 and (kind == "rps" or value.is_integer()):
                return kind, value
            break
    raise GrammarError(
        f"load `{text}`: give simulated users (`10users`) or requests per second (`50rps`)"
    )
