"""A project's source, from submitted files to the resolved document for one account.

What an s.yaml means depends on where it deploys: ``${config('AccountID')}``
is the target account's, env.yaml picks per environment. So a revision keeps
the source, and every plan or deploy resolves it again for its account.
Account secrets are never handed to the resolver: ``${config('AccessKeySecret')}``
resolves to a marker, and a resource that would carry it is refused (it
would sit in function revisions and in FC's console in clear).
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator, Mapping

from service.kit.crypto import SecretBox
from service.kit.errors import InvalidInput
from service.kit.redact import REDACTED, looks_secret
from service.models import Account, ProjectRevision
from service.projects.spec import Project, SpecError, parse_project

_ENV_CONTEXT = "projects.env"
# ${config()} keys whose values fcplane never writes into a resource.
SECRET_CONFIG_KEYS = ("AccessKeySecret", "SecurityToken")
SECRET_MARKER = "\x00fcplane-account-secret\x00"


class SourceInvalid(InvalidInput):
    code, title = "invalid_project", "Invalid project"


def spec_problem(error: SpecError) -> SourceInvalid:
    """A parse or resolve error as a 422 that names the file, line and expression."""
    return SourceInvalid(
        str(error),
        field=error.file,
        file=error.file,
        line=error.line,
        column=error.column,
        expression=error.expression,
        reason=error.reason,
    )


def seal_env(box: SecretBox, env: Mapping[str, str]) -> bytes | None:
    return box.seal(json.dumps(dict(env), sort_keys=True), _ENV_CONTEXT) if env else None


def open_env(box: SecretBox, sealed: bytes | None) -> dict[str, str]:
    if sealed is None:
        return {}
    opened: dict[str, str] = json.loads(box.open(sealed, _ENV_CONTEXT))
    return opened


def shown_env(env: Mapping[str, str]) -> dict[str, str]:
    return {k: REDACTED if looks_secret(k) else v for k, v in sorted(env.items())}


def code_path(value: str) -> str:
    """``./src/`` and ``src`` name the same directory."""
    normalized = posixpath.normpath(value.replace("\\", "/"))
    return "." if normalized in ("", ".") else normalized.removeprefix("./")


class _Config(Mapping[str, str]):
    """``${config()}`` values of an account; the secrets only as a marker."""

    def __init__(self, account_id: str, access_key_id: str, region: str) -> None:
        self._values = {
            "AccountID": account_id,
            "AccessKeyID": access_key_id,
            "Region": region,
            **{key: SECRET_MARKER for key in SECRET_CONFIG_KEYS},
        }

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def account_config(account: Account) -> Mapping[str, str]:
    return _Config(account.account_id, account.access_key_id, account.region)


# Submit-time checks know no account yet: placeholders of the right shape.
PLACEHOLDER_CONFIG = _Config("0000000000000000", "placeholder-access-key-id", "cn-hangzhou")


def parse(
    files: Mapping[str, str],
    main: str,
    env: Mapping[str, str],
    config: Mapping[str, str],
    environment: str | None,
) -> Project:
    if main not in files:
        raise SourceInvalid(f"main: {main!r} is not one of the files", field="main")
    try:
        return parse_project(files, main=main, env=env, config=config, environment=environment)
    except SpecError as error:
        raise spec_problem(error) from None


def account_alias(revision: ProjectRevision, access: str) -> str:
    return revision.environments.get(access, access)
