"""How a project file is wrong, said with the place it is wrong at."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mark:
    """A place in one of the project's files; line and column are 1-based."""

    file: str
    line: int | None = None
    column: int | None = None


class SpecError(Exception):
    """A project file that cannot be parsed or resolved.

    ``str()`` reads like a compiler message, ``s.yaml:12:9: unknown function 'foo' in
    ${foo()}``, so it can be shown as is; the parts are kept for structured problems.
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str,
        line: int | None = None,
        column: int | None = None,
        expression: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.file = file
        self.line = line
        self.column = column
        self.expression = expression

    @classmethod
    def at(cls, mark: Mark, reason: str, expression: str | None = None) -> SpecError:
        return cls(
            reason, file=mark.file, line=mark.line, column=mark.column, expression=expression
        )

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.reason}"
        return f"{text} in {self.expression}" if self.expression else text


class ExpressionProblem(Exception):
    """What is wrong inside one ``${...}``.

    Raised where the fault is found, deep in evaluation, and turned into a
    SpecError by the code that knows where the expression was written.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
