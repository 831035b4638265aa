"""FC API route handlers, one module per resource; importing them registers the routes."""

from service.emulator.routes import (
    aliases,
    async_invocation,
    configs,
    custom_domains,
    functions,
    invoke,
    layers,
    tags,
    triggers,
    versions,
)

__all__ = [
    "aliases",
    "async_invocation",
    "configs",
    "custom_domains",
    "functions",
    "invoke",
    "layers",
    "tags",
    "triggers",
    "versions",
]
