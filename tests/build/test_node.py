"""Node.js builds: npm ci with scripts off on the host, install scripts in the sandbox."""

from __future__ import annotations

import io
import json
import shutil
import socket
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from service.build import BuildFailed
from service.functions.codezip import inspect_zip
from tests.build.conftest import Build, contents, names

SECRET = "fcplane-node-secret-51d2"


@pytest.fixture(autouse=True)
def _npm() -> None:
    # Node.js builds are optional on a server (without node they say so, see test_inputs).
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed")


def _tgz(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _project(tmp_path: Path, install_js: str) -> dict[str, str | bytes]:
    """An app depending on a vendored tarball whose install script runs install.js."""
    app = tmp_path / "app"
    (app / "vendor").mkdir(parents=True)
    package = {
        "name": "dep",
        "version": "1.0.0",
        "main": "index.js",
        "scripts": {"install": "node install.js"},
    }
    tarball = _tgz(
        {
            "package.json": json.dumps(package),
            "index.js": "module.exports = 'dep'\n",
            "install.js": install_js,
        }
    )
    (app / "vendor" / "dep-1.0.0.tgz").write_bytes(tarball)
    manifest = {
        "name": "app",
        "version": "1.0.0",
        "dependencies": {"dep": "file:vendor/dep-1.0.0.tgz"},
    }
    (app / "package.json").write_text(json.dumps(manifest))
    subprocess.run(
        ["npm", "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"],
        cwd=app,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return {
        "index.js": "module.exports.handler = (e, c, cb) => cb(null, require('dep'))\n",
        "package.json": (app / "package.json").read_text(),
        "package-lock.json": (app / "package-lock.json").read_text(),
        "vendor/dep-1.0.0.tgz": tarball,
        "node_modules/stale.js": "left over from the developer's machine",
    }


async def test_install_scripts_run_in_the_sandbox_offline_and_see_no_secrets(
    run_build: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_file = tmp_path / "fcplane-data" / "secret.key"
    secret_file.parent.mkdir()
    secret_file.write_text(SECRET)
    monkeypatch.setenv("FCPLANE_SECRET_KEY", SECRET)
    listener = socket.create_server(("127.0.0.1", 0))
    install_js = f"""
const fs = require('fs'), net = require('net');
const found = {{ env: Object.keys(process.env) }};
try {{ found.secret = fs.readFileSync({json.dumps(str(secret_file))}, 'utf8'); }}
catch (e) {{ found.secret = 'unreadable: ' + e.code; }}
const sock = net.connect({listener.getsockname()[1]}, '127.0.0.1');
sock.on('connect', () => {{ found.network = 'connected'; done(); }});
sock.on('error', (e) => {{ found.network = 'refused: ' + e.code; done(); }});
function done() {{ fs.writeFileSync('found.json', JSON.stringify(found)); }}
"""
    files = _project(tmp_path, install_js)

    result = await run_build(files, "nodejs20")

    package = names(result.package)
    assert {"index.js", "node_modules/dep/index.js", "node_modules/dep/found.json"} <= set(package)
    assert "node_modules/stale.js" not in package  # the build's node_modules replaces it
    assert inspect_zip(result.package).sha256 == result.sha256
    assert SECRET.encode() not in contents(result.package)
    found = json.loads(_read(result.package, "node_modules/dep/found.json"))
    assert found["secret"] == "unreadable: ENOENT"
    assert found["network"].startswith("refused")
    assert not [key for key in found["env"] if key.startswith("FCPLANE")]
    (dep,) = result.manifest["packages"]
    assert (dep["name"], dep["version"], dep["install_script"]) == ("dep", "1.0.0", True)
    assert any("install scripts ran in the sandbox" in w for w in result.manifest["warnings"])
    listener.close()

    layer = await run_build(files, "nodejs20", output="layer")
    assert layer.manifest["dependencies_reused"]  # the lock did not change
    assert all(name.startswith("nodejs/node_modules/") for name in names(layer.package))
    assert (await run_build(files, "nodejs20")).cached


def _read(package: bytes, name: str) -> str:
    return zipfile.ZipFile(io.BytesIO(package)).read(name).decode()


async def test_a_lock_pointing_elsewhere_is_refused_before_npm_runs(run_build: Build) -> None:
    lock = {
        "name": "app",
        "lockfileVersion": 3,
        "packages": {
            "": {"dependencies": {"x": "1.0.0"}},
            "node_modules/x": {
                "version": "1.0.0",
                "resolved": "http://127.0.0.1:5432/x-1.0.0.tgz",
            },
        },
    }
    files: dict[str, str | bytes] = {
        "package.json": json.dumps({"name": "app", "dependencies": {"x": "1.0.0"}}),
        "package-lock.json": json.dumps(lock),
    }
    with pytest.raises(BuildFailed) as failed:
        await run_build(files, "nodejs20")
    assert failed.value.code == "invalid_requirements"
    assert "127.0.0.1:5432" in failed.value.reason

    del files["package-lock.json"]
    with pytest.raises(BuildFailed) as failed:
        await run_build(files, "nodejs20")
    assert failed.value.code == "invalid_source"
    assert "package-lock.json" in failed.value.reason
