"""Bounds on the work one project file may cause.

Project files come from users; each bound turns a pathological input (an alias
bomb, a ten-thousand-deep list, an expression nested past reason) into a
SpecError instead of a hang or a blown stack.
"""

MAX_FILE_CHARS = 1_000_000
# YAML nodes counted after alias expansion: `&a [*b, *b, ...]` chains grow exponentially.
MAX_YAML_NODES = 100_000
MAX_YAML_DEPTH = 64
MAX_EXPRESSION_CHARS = 2_000
MAX_EXPRESSION_DEPTH = 32  # parentheses, calls, unary operators
# The syntax tree: `a.b.c...` and `1+1+...` chains parse without recursion but
# evaluate recursively, so their depth is bounded too.
MAX_SYNTAX_DEPTH = 64
# `${}` references followed at once: vars.a -> vars.b -> resources.x.props.c -> ...
MAX_REFERENCE_DEPTH = 64
# Resolved values share structure (`${vars.big}` used twice is one object); a
# consumer serialising them pays for every appearance, so that is what counts.
MAX_RESOLVED_NODES = 200_000
MAX_STRING_CHARS = 1_000_000
