"""`fcplane sync` (a live function or project to files) and `fcplane fun2s`."""

from __future__ import annotations

import io
import posixpath
import zipfile
from pathlib import Path
from typing import Any

from service.client.connection import Api, Target
from service.client.errors import OK, ClientError
from service.client.output import Output


def extract(data: bytes, directory: Path, force: bool) -> list[str]:
    """Unpack a sync zip into ``directory``: its file names, refusing names that
    leave it and, without ``force``, files that exist."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ClientError("the server's answer is not a zip file") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        for member in members:
            normal = posixpath.normpath(member.filename)
            if normal.startswith(("/", "../")) or normal == "..":
                raise ClientError(f"the zip names {member.filename!r}, outside the directory")
        existing = [m.filename for m in members if (directory / m.filename).exists()]
        if existing and not force:
            raise ClientError(
                f"{directory / existing[0]} exists ({len(existing)} file(s) would be "
                "overwritten): choose another directory with -d, or pass --force"
            )
        for member in members:
            path = directory / member.filename
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(archive.read(member))
                mode = (member.external_attr >> 16) & 0o777
                if mode:
                    path.chmod(mode)
            except OSError as exc:
                raise ClientError(f"cannot write {path}: {exc.strerror or exc}") from None
    return [m.filename for m in members]


def _written(out: Output, directory: Path, names: list[str], what: str) -> int:
    yamls = [n for n in names if n.endswith((".yaml", ".yml")) and "/" not in n]
    out.line(f"Wrote {what} to {directory}: {', '.join(yamls) or ''} ({len(names)} files).")
    out.document({"directory": str(directory), "files": names})
    return OK


def sync_function(
    out: Output, where: Target, name: str, account: str | None, directory: Path, force: bool
) -> int:
    from service.client.functions import locate

    with Api(where) as api:
        alias, function = locate(api, name, account)
        data = api.request("GET", f"/v1/accounts/{alias}/functions/{function}/sync").content
    return _written(out, directory, extract(data, directory, force), f"function {function}")


def sync_project(
    out: Output,
    where: Target,
    name: str | None,
    access: str | None,
    template: Path | None,
    directory: Path,
    force: bool,
) -> int:
    if name is None:
        from service.client.source import load

        name = load(template, None).name
    params = {"access": access} if access else None
    with Api(where) as api:
        data = api.request("GET", f"/v1/projects/{name}/sync", params=params).content
    return _written(out, directory, extract(data, directory, force), f"project {name}")


def fun2s(
    out: Output,
    where: Target,
    template: Path,
    target: Path | None,
    project: str | None,
    access: str,
    force: bool,
) -> int:
    try:
        text = template.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ClientError(f"cannot read {template}: {exc}") from None
    body: dict[str, Any] = {"template": text, "access": access}
    if project:
        body["project"] = project
    with Api(where) as api:
        result = api.post("/v1/fun2s", body)
    for item in result.get("unmapped") or []:
        out.warn(f"not converted: {item.get('path')}: {item.get('reason')}")
    for warning in result.get("warnings") or []:
        out.warn(warning)
    syaml = str(result.get("syaml", ""))
    if target is not None:
        if target.exists() and not force:
            raise ClientError(f"{target} exists: pass --force to overwrite it")
        try:
            target.write_text(syaml)
        except OSError as exc:
            raise ClientError(f"cannot write {target}: {exc.strerror or exc}") from None
        out.line(f"Wrote {target}.")
    elif not out.json:
        print(syaml, end="" if syaml.endswith("\n") else "\n")
    out.document(result)
    return OK
