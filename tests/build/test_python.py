"""Python builds end to end: real pip on the configured indexes, the real sandbox, the emulator."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from alibabacloud_fc20230330 import models as fc_models
from alibabacloud_fc20230330.client import Client
from alibabacloud_tea_openapi.models import Config

from service.build import BuildFailed
from service.emulator.server import EmbeddedEmulator, start_in_thread
from service.functions.codezip import inspect_zip
from tests.build.conftest import INDEX_PY, SIX, Build, names, sdist


@pytest.fixture(scope="module")
def fc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """The emulator (its real sandbox) through the official SDK, without auth."""
    emulator: EmbeddedEmulator = start_in_thread(
        "127.0.0.1", 0, tmp_path_factory.mktemp("emulator"), None
    )
    try:
        yield Client(
            Config(
                access_key_id="ak",
                access_key_secret="sk",
                region_id="cn-hangzhou",
                endpoint=emulator.endpoint,
                protocol="http",
                read_timeout=30000,
            )
        )
    finally:
        emulator.stop()


def _zip_field(package: bytes) -> fc_models.InputCodeLocation:
    return fc_models.InputCodeLocation(zip_file=base64.b64encode(package).decode())


def _invoke(fc: Client, name: str) -> bytes:
    response = fc.invoke_function(name, fc_models.InvokeFunctionRequest(body=b"{}"))
    assert "x-fc-error-type" not in response.headers, response.body.read()
    body: bytes = response.body.read()
    return body


async def test_code_package_holds_source_and_dependencies_and_runs_on_the_emulator(
    run_build: Build, fc: Client
) -> None:
    result = await run_build({"index.py": INDEX_PY, "requirements.txt": f"{SIX}\n"})

    assert not result.cached
    assert result.sha256 == hashlib.sha256(result.package).hexdigest()
    files = names(result.package)
    assert {"index.py", "requirements.txt", "six.py", "six-1.17.0.dist-info/METADATA"} <= set(files)
    assert files == sorted(files)  # reproducible: sorted entries, fixed timestamps
    (six,) = result.manifest["packages"]
    assert (six["name"], six["version"], six["source"]) == ("six", "1.17.0", "index")
    assert six["size"] > 0
    assert six["wheel"] == "six-1.17.0-py2.py3-none-any.whl"
    assert result.manifest["target"]["python_version"] == "3.10"
    assert result.manifest["target"]["platform"] == "manylinux2014_x86_64"
    assert not any(name.endswith("direct_url.json") for name in files)
    assert inspect_zip(result.package).sha256 == result.sha256  # fcplane stores it as is
    # the emulator runs it in its sandbox, where nothing but /code is importable
    fc.create_function(
        fc_models.CreateFunctionRequest(
            body=fc_models.CreateFunctionInput(
                function_name="built",
                runtime="python3.10",
                handler="index.handler",
                code=_zip_field(result.package),
            )
        )
    )
    assert _invoke(fc, "built") == b"1.17.0"


async def test_the_same_build_is_cached_and_no_cache_rebuilds(run_build: Build) -> None:
    files = {"index.py": INDEX_PY, "requirements.txt": f"{SIX}\n"}
    first = await run_build(files)
    progress: list[str] = []
    again = await run_build(files, progress=progress)

    assert again.cached
    assert again.package == first.package
    assert not any("installing" in p or "resolving" in p for p in progress)

    progress.clear()
    rebuilt = await run_build(files, no_cache=True, progress=progress)
    assert not rebuilt.cached
    assert any("installing 1 package(s) in the sandbox" in p for p in progress)
    assert rebuilt.sha256 == first.sha256  # the same inputs give the same bytes
    # a changed source with the same requirements reinstalls nothing
    progress.clear()
    changed = await run_build({**files, "index.py": INDEX_PY + "# v2\n"}, progress=progress)
    assert not changed.cached
    assert changed.manifest["dependencies_reused"]
    assert not any("installing" in p for p in progress)


async def test_a_layer_has_fcs_layout_and_is_reused_by_its_resolution(
    run_build: Build, fc: Client
) -> None:
    layer = await run_build({"requirements.txt": f"{SIX}\n", "other.py": "x"}, output="layer")
    assert set(names(layer.package)) >= {"python/six.py", "python/six-1.17.0.dist-info/RECORD"}
    assert all(name.startswith("python/") for name in names(layer.package))
    assert layer.manifest["layout"] == "python/"

    # other requirements text, same resolution: nothing installed, the same bytes
    same = await run_build({"requirements.txt": "six  # unpinned\n"}, output="layer")
    assert not same.cached
    assert same.manifest["dependencies_reused"]
    assert same.sha256 == layer.sha256

    # the layer works on the emulator: FC puts /opt/python on the import path
    created = fc.create_layer_version(
        "six",
        fc_models.CreateLayerVersionRequest(
            body=fc_models.CreateLayerVersionInput(
                code=_zip_field(layer.package), compatible_runtime=["python3.10"]
            )
        ),
    ).body
    fc.create_function(
        fc_models.CreateFunctionRequest(
            body=fc_models.CreateFunctionInput(
                function_name="with-layer",
                runtime="python3.10",
                handler="index.handler",
                code=_zip_field((await run_build({"index.py": INDEX_PY})).package),
                layers=[created.layer_version_arn],
            )
        )
    )
    assert _invoke(fc, "with-layer") == b"1.17.0"


async def test_a_requirement_nobody_publishes_fails_with_pips_message(run_build: Build) -> None:
    with pytest.raises(BuildFailed) as failed:
        await run_build({"requirements.txt": "fcplane-no-such-package-x7q==1.0\n"})

    assert failed.value.code == "resolution_failed"
    assert "fcplane-no-such-package-x7q==1.0" in failed.value.reason
    assert "No matching distribution found for fcplane-no-such-package-x7q" in failed.value.log


async def test_a_requirement_without_a_wheel_is_built_from_its_sdist_in_the_sandbox(
    run_build: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    links = tmp_path / "links"
    links.mkdir()
    setup = (
        "from setuptools import setup\n"
        f"setup(name='fcplane-probe', version='1.0', packages=['fcplane_probe'], "
        f"install_requires=['{SIX}'])\n"
    )
    sdist(links, "fcplane-probe", "1.0", setup)
    # one more find-links directory in the host's pip configuration
    monkeypatch.setenv("PIP_FIND_LINKS", f"/opt/wheels {links}")

    result = await run_build({"requirements.txt": "fcplane-probe\n"}, output="layer")

    by_name = {p["name"]: p for p in result.manifest["packages"]}
    assert by_name["fcplane-probe"]["source"] == "sdist"
    assert by_name["fcplane-probe"]["from"] == "fcplane_probe-1.0.tar.gz"
    assert by_name["six"]["source"] == "index"  # its dependency, resolved as usual
    assert "python/fcplane_probe/__init__.py" in names(result.package)
    assert any("built from source in the sandbox" in w for w in result.manifest["warnings"])
    # the sdist is built once: a changed input reuses the wheel and the tree
    progress: list[str] = []
    again = await run_build(
        {"requirements.txt": "fcplane-probe==1.0\n"}, output="layer", progress=progress
    )
    assert again.sha256 == result.sha256
    assert any("reusing the wheels built before" in p for p in progress)
    assert again.manifest["packages"] == result.manifest["packages"]
