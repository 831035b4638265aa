"""The JavaScript meaning of values, where a ``${}`` result depends on it.

Upstream evaluates expressions as JavaScript, so ``"port-${1.0}"`` is
``port-1``, a missing key is ``undefined`` (not an error until it is the
result), and ``a || b`` falls back on ``""`` and ``0``. These helpers give the
Python values the same behaviour.
"""

from __future__ import annotations

import math
from typing import Any, Final

from service.projects.spec.errors import ExpressionProblem


class _Undefined:
    """JavaScript's ``undefined``: a key or variable that is not there."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Final = _Undefined()


def is_nothing(value: Any) -> bool:
    return value is None or value is UNDEFINED


def number_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:  # Python 1e-07, JavaScript 1e-7
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else "+"
        text = f"{mantissa}e{sign}{int(exponent.lstrip('+-'))}"
    return text


def to_text(value: Any) -> str:
    """``String(value)``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if value is UNDEFINED:
        return "undefined"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, list):
        return ",".join("" if is_nothing(v) else to_text(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    raise ExpressionProblem("this value only exists after deployment and cannot be used here")


def truthy(value: Any) -> bool:
    if is_nothing(value) or value is False or value == "":
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value != 0 and not math.isnan(value)
    return True


def to_number(value: Any) -> float | int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if value is None:
        return 0
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return 0
        try:
            return int(stripped) if stripped.lstrip("+-").isdigit() else float(stripped)
        except ValueError:
            return math.nan
    return math.nan


def strict_equal(left: Any, right: Any) -> bool:
    numbers = (int, float)
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, numbers) and isinstance(right, numbers):
        return left == right
    if isinstance(left, list | dict) or isinstance(right, list | dict):
        return left is right  # objects compare by identity
    return type(left) is type(right) and left == right


def loose_equal(left: Any, right: Any) -> bool:
    if is_nothing(left) or is_nothing(right):
        return is_nothing(left) and is_nothing(right)
    if isinstance(left, str) != isinstance(right, str) and not isinstance(left, list | dict):
        return to_number(left) == to_number(right)
    return strict_equal(left, right)


def binary(op: str, left: Any, right: Any) -> Any:
    if op in ("===", "!=="):
        return strict_equal(left, right) == (op == "===")
    if op in ("==", "!="):
        return loose_equal(left, right) == (op == "==")
    if op == "+":
        if isinstance(left, str | list | dict) or isinstance(right, str | list | dict):
            return to_text(left) + to_text(right)
        return to_number(left) + to_number(right)
    if op in ("<", ">", "<=", ">="):
        if isinstance(left, str) and isinstance(right, str):
            pair: tuple[Any, Any] = (left, right)
        else:
            pair = (to_number(left), to_number(right))
        return {
            "<": pair[0] < pair[1],
            ">": pair[0] > pair[1],
            "<=": pair[0] <= pair[1],
            ">=": pair[0] >= pair[1],
        }[op]
    a, b = to_number(left), to_number(right)
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        return math.nan if op == "%" or a == 0 else math.copysign(math.inf, a)
    if op == "/":
        return a // b if isinstance(a, int) and isinstance(b, int) and a % b == 0 else a / b
    return math.fmod(a, b)


def unary(op: str, value: Any) -> Any:
    if op == "!":
        return not truthy(value)
    number = to_number(value)
    return -number if op == "-" else number
