"""The ``${...}`` expression language: finding the tokens in a string, parsing one.

Serverless Devs compiles what is inside ``${}`` as JavaScript (an art-template
fork). Project files use a small part of it — names, ``a.b`` and ``a['b']``,
calls of the built-in functions, string and number literals, ``||``/``&&``,
``? :``, comparisons and ``+`` — and that part is what this parser accepts.
Nothing here runs user text; anything outside the part is a clear error.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from service.projects.spec.errors import ExpressionProblem
from service.projects.spec.limits import (
    MAX_EXPRESSION_CHARS,
    MAX_EXPRESSION_DEPTH,
    MAX_SYNTAX_DEPTH,
)

# ---------------------------------------------------------------- tokens in text


@dataclass(frozen=True)
class Token:
    """One ``${...}`` in a string: ``source`` as written, ``inner`` between the braces."""

    source: str
    inner: str
    occurrence: int  # how many `${` precede it in the string: locates it in the source


def split_template(text: str) -> list[str | Token]:
    """Literal text and tokens, in order.

    As upstream (regex ``/\\${([\\w\\W]*?)}/``), the first ``}`` closes a token, so an
    object literal cannot appear inside one; a ``${`` that is never closed is text.
    """
    parts: list[str | Token] = []
    position = 0
    while True:
        start = text.find("${", position)
        end = text.find("}", start + 2) if start >= 0 else -1
        if end < 0:
            break
        if start > position:
            parts.append(text[position:start])
        occurrence = text.count("${", 0, start)
        parts.append(Token(text[start : end + 1], text[start + 2 : end], occurrence))
        position = end + 1
    if position < len(text):
        parts.append(text[position:])
    return parts


def has_tokens(text: str) -> bool:
    return any(isinstance(p, Token) for p in split_template(text))


# ---------------------------------------------------------------- syntax tree


@dataclass(frozen=True)
class Node:
    """A node of a parsed expression."""


@dataclass(frozen=True)
class Literal(Node):
    value: Any


@dataclass(frozen=True)
class Name(Node):
    id: str


@dataclass(frozen=True)
class Member(Node):
    object: Node
    key: Node
    optional: bool = False  # `a?.b`


@dataclass(frozen=True)
class Call(Node):
    function: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Logical(Node):
    op: str  # || && ??
    left: Node
    right: Node


@dataclass(frozen=True)
class Conditional(Node):
    test: Node
    consequent: Node
    alternate: Node


@dataclass(frozen=True)
class ArrayLiteral(Node):
    items: tuple[Node, ...]


# ---------------------------------------------------------------- tokenizer

_PUNCTUATION = sorted(
    "=== !== == != <= >= && || ?? ?. . , ( ) [ ] ! ? : + - * / % < >".split(),
    key=len,
    reverse=True,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_KEYWORDS = {"true": True, "false": False, "null": None}


@dataclass(frozen=True)
class _Lexeme:
    kind: str  # name | number | string | op | end
    value: Any
    position: int


def _lex(text: str) -> list[_Lexeme]:
    out: list[_Lexeme] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c.isalpha() or c in "_$":
            j = i + 1
            while j < len(text) and (text[j].isalnum() or text[j] in "_$"):
                j += 1
            out.append(_Lexeme("name", text[i:j], i))
            i = j
        elif c.isdigit() or (c == "." and text[i + 1 : i + 2].isdigit()):
            i = _number(text, i, out)
        elif c in "'\"":
            i = _string(text, i, out)
        elif c == "`":
            raise ExpressionProblem("template literals (`...`) are not supported")
        else:
            op = next((p for p in _PUNCTUATION if text.startswith(p, i)), None)
            if op is None:
                raise ExpressionProblem(f"unexpected character '{c}'")
            out.append(_Lexeme("op", op, i))
            i += len(op)
    out.append(_Lexeme("end", None, len(text)))
    return out


def _number(text: str, i: int, out: list[_Lexeme]) -> int:
    j = i
    if text.startswith(("0x", "0X"), i):
        j = i + 2
        while j < len(text) and text[j] in "0123456789abcdefABCDEF":
            j += 1
        out.append(_Lexeme("number", int(text[i:j], 16), i))
        return j
    while j < len(text) and (text[j].isdigit() or text[j] == "."):
        j += 1
    if j < len(text) and text[j] in "eE":
        k = j + 1 + (text[j + 1 : j + 2] in ("+", "-"))
        if text[k : k + 1].isdigit():
            j = k
            while j < len(text) and text[j].isdigit():
                j += 1
    literal = text[i:j]
    try:
        value: float | int = float(literal) if any(c in literal for c in ".eE") else int(literal)
    except ValueError:
        raise ExpressionProblem(f"invalid number '{literal}'") from None
    out.append(_Lexeme("number", value, i))
    return j


def _string(text: str, i: int, out: list[_Lexeme]) -> int:
    quote, j, chars = text[i], i + 1, []
    while j < len(text) and text[j] != quote:
        if text[j] == "\\" and j + 1 < len(text):
            escaped = text[j + 1]
            if escaped in "ux":
                size = 4 if escaped == "u" else 2
                digits = text[j + 2 : j + 2 + size]
                try:
                    chars.append(chr(int(digits, 16)))
                except ValueError:
                    raise ExpressionProblem(f"invalid escape \\{escaped}{digits}") from None
                j += 2 + size
                continue
            chars.append(_ESCAPES.get(escaped, escaped))
            j += 2
            continue
        chars.append(text[j])
        j += 1
    if j >= len(text):
        raise ExpressionProblem("unterminated string")
    out.append(_Lexeme("string", "".join(chars), i))
    return j + 1


# ---------------------------------------------------------------- parser

_EQUALITY = ("===", "!==", "==", "!=")
_RELATIONAL = ("<", ">", "<=", ">=")


class _Parser:
    def __init__(self, text: str) -> None:
        self.lexemes = _lex(text)
        self.at = 0
        self.depth = 0

    def peek(self) -> _Lexeme:
        return self.lexemes[self.at]

    def take(self) -> _Lexeme:
        lexeme = self.lexemes[self.at]
        self.at += 1
        return lexeme

    def accept(self, *ops: str) -> str | None:
        lexeme = self.peek()
        if lexeme.kind == "op" and lexeme.value in ops:
            self.at += 1
            return str(lexeme.value)
        return None

    def expect(self, op: str) -> None:
        if self.accept(op) is None:
            raise ExpressionProblem(f"expected '{op}' {self.where()}")

    def where(self) -> str:
        lexeme = self.peek()
        return "at the end" if lexeme.kind == "end" else f"at '{lexeme.value}'"

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise ExpressionProblem("empty expression")
        node = self.expression()
        if self.peek().kind != "end":
            raise ExpressionProblem(f"unexpected {self.where()}")
        return node

    def expression(self) -> Node:
        self.depth += 1
        if self.depth > MAX_EXPRESSION_DEPTH:
            raise ExpressionProblem(f"nested deeper than {MAX_EXPRESSION_DEPTH} levels")
        try:
            test = self.logical()
            if self.accept("?") is None:
                return test
            consequent = self.expression()
            self.expect(":")
            return Conditional(test, consequent, self.expression())
        finally:
            self.depth -= 1

    def logical(self) -> Node:
        node = self.both()
        while (op := self.accept("||", "??")) is not None:
            node = Logical(op, node, self.both())
        return node

    def both(self) -> Node:
        node = self.equality()
        while self.accept("&&") is not None:
            node = Logical("&&", node, self.equality())
        return node

    def equality(self) -> Node:
        node = self.relational()
        while (op := self.accept(*_EQUALITY)) is not None:
            node = Binary(op, node, self.relational())
        return node

    def relational(self) -> Node:
        node = self.additive()
        while (op := self.accept(*_RELATIONAL)) is not None:
            node = Binary(op, node, self.additive())
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while (op := self.accept("+", "-")) is not None:
            node = Binary(op, node, self.multiplicative())
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while (op := self.accept("*", "/", "%")) is not None:
            node = Binary(op, node, self.unary())
        return node

    def unary(self) -> Node:
        op = self.accept("!", "-", "+")
        if op is None:
            return self.postfix()
        self.depth += 1
        if self.depth > MAX_EXPRESSION_DEPTH:
            raise ExpressionProblem(f"nested deeper than {MAX_EXPRESSION_DEPTH} levels")
        try:
            return Unary(op, self.unary())
        finally:
            self.depth -= 1

    def postfix(self) -> Node:
        node = self.primary()
        while True:
            if (op := self.accept(".", "?.")) is not None:
                if op == "?." and self.accept("[") is not None:
                    node = Member(node, self.expression(), optional=True)
                    self.expect("]")
                    continue
                name = self.take()
                if name.kind != "name":
                    raise ExpressionProblem(f"expected a property name after '{op}'")
                node = Member(node, Literal(name.value), optional=op == "?.")
            elif self.accept("[") is not None:
                node = Member(node, self.expression())
                self.expect("]")
            elif self.peek().kind == "op" and self.peek().value == "(":
                if not isinstance(node, Name):
                    raise ExpressionProblem("only the built-in functions can be called")
                self.take()
                node = Call(node.id, self.arguments(")"))
            else:
                return node

    def arguments(self, closing: str) -> tuple[Node, ...]:
        args: list[Node] = []
        if self.accept(closing) is not None:
            return ()
        while True:
            args.append(self.expression())
            if self.accept(closing) is not None:
                return tuple(args)
            self.expect(",")

    def primary(self) -> Node:
        lexeme = self.take()
        if lexeme.kind in ("number", "string"):
            return Literal(lexeme.value)
        if lexeme.kind == "name":
            if lexeme.value in _KEYWORDS:
                return Literal(_KEYWORDS[lexeme.value])
            return Name(lexeme.value)
        if lexeme.kind == "op" and lexeme.value == "(":
            node = self.expression()
            self.expect(")")
            return node
        if lexeme.kind == "op" and lexeme.value == "[":
            return ArrayLiteral(self.arguments("]"))
        self.at -= 1
        raise ExpressionProblem(f"unexpected {self.where()}")


def parse_expression(text: str) -> Node:
    """The syntax tree of what is inside one ``${}``; ExpressionProblem if it is not valid."""
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionProblem(f"expression longer than {MAX_EXPRESSION_CHARS} characters")
    node = _Parser(text).parse()
    if _depth(node) > MAX_SYNTAX_DEPTH:
        raise ExpressionProblem(f"nested deeper than {MAX_SYNTAX_DEPTH} levels")
    return node


def _depth(root: Node) -> int:
    deepest = 0
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        for field in fields(node):
            value = getattr(node, field.name)
            for child in value if isinstance(value, tuple) else (value,):
                if isinstance(child, Node):
                    stack.append((child, depth + 1))
    return deepest
