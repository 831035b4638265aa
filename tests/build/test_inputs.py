"""What a build accepts as input, checked before pip or npm run: requirements.txt lines,
runtimes, source zips. No sandbox needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.build import BuildFailed, BuildRequest, build, target_for
from service.build.archive import Source
from service.build.requirements import parse
from tests.build.conftest import make_zip

MAX = 10 << 20


def _parse(files: dict[str, str | bytes]) -> tuple[list[str], list[str], list[str]]:
    found = parse(Source(make_zip(files), MAX))
    return found.named, [f"{r.kind}:{r.path}" for r in found.local], found.warnings


def test_named_requirements_hashes_includes_and_local_paths() -> None:
    named, local, warnings = _parse(
        {
            "requirements.txt": (
                "# a comment\n"
                "Six >= 1.16  # trailing comment\n"
                "-r more/base.txt\n"
                "-i https://mirrors.example.com/pypi/simple\n"
                "idna==3.20 \\\n"
                "    --hash=sha256:" + "a" * 64 + "\n"
                "./vendor/lib\n"
                "wheels/x-1.0-py3-none-any.whl\n"
                "attrs; python_version >= '3.8'\n"
            ),
            "more/base.txt": "requests[socks]==2.34.2\n",
            "vendor/lib/pyproject.toml": "[project]\nname='lib'\n",
            "wheels/x-1.0-py3-none-any.whl": b"PK",
        }
    )

    assert named == [
        "six>=1.16",
        "requests[socks]==2.34.2",
        "idna==3.20 --hash=sha256:" + "a" * 64,
        'attrs; python_version >= "3.8"',
    ]
    assert local == ["project:vendor/lib", "wheel:wheels/x-1.0-py3-none-any.whl"]
    assert len(warnings) == 1
    assert "requirements.txt line 4: -i ignored" in warnings[0]


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("-e ./lib", "editable requirements"),
        ("pkg @ https://example.com/pkg.whl", "URLs are not supported"),
        ("git+https://github.com/x/y.git", "URLs are not supported"),
        ("file:///etc/passwd", "URLs are not supported"),
        ("/srv/fcplane-data/x.whl", "absolute paths are not supported"),
        ("../outside/x.tar.gz", "outside the package"),
        ("./missing", "is not in the source package"),
        ("six --install-option=--prefix=/", "--install-option is not supported"),
        ("--no-such-option", "not supported"),
        ("six=>1", "not a valid requirement"),
        ("-r ../../etc/requirements.txt", "outside the package"),
    ],
)
def test_refused_lines_say_which_line_and_why(line: str, why: str) -> None:
    with pytest.raises(BuildFailed) as failed:
        _parse({"requirements.txt": f"six\n{line}\n"})
    assert failed.value.code == "invalid_requirements"
    assert failed.value.reason.startswith("requirements.txt line 2: ")
    assert why in failed.value.reason


def test_the_normalized_text_ignores_order_spelling_and_comments() -> None:
    first = parse(Source(make_zip({"requirements.txt": "six==1.17.0\nidna\n"}), MAX))
    second = parse(Source(make_zip({"requirements.txt": "# deps\nidna  \nSix == 1.17.0\n"}), MAX))
    assert first.normalized() != ""
    assert first.normalized() == second.normalized() == "idna\nsix==1.17.0\n"


def test_runtimes() -> None:
    assert target_for("python3.12").describe()["python_version"] == "3.12"
    for runtime in ("custom.debian10", "java11", "python3", "nope"):
        with pytest.raises(BuildFailed) as failed:
            target_for(runtime)
        assert failed.value.code == "unsupported_runtime"
        assert "python3.10" in failed.value.reason  # says what can be built


def test_a_node_runtime_without_node_on_the_machine_is_unsupported_clearly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no node, no npm
    with pytest.raises(BuildFailed) as failed:
        target_for("nodejs18")
    assert failed.value.code == "unsupported_runtime"
    assert "node and npm are not installed" in failed.value.reason


@pytest.mark.parametrize(
    ("source", "output", "code", "why"),
    [
        (b"not a zip", "code", "invalid_source", "not a zip file"),
        (make_zip({"../evil.py": "x"}), "code", "invalid_source", "unsafe path"),
        (make_zip({"index.py": "x"}), "layer", "invalid_source", "requirements.txt lists none"),
        (make_zip({"requirements.txt": "-e .\n"}), "code", "invalid_requirements", "editable"),
    ],
)
async def test_bad_sources_fail_before_anything_runs(
    tmp_path: Path, source: bytes, output: str, code: str, why: str
) -> None:
    request = BuildRequest(source, "python3.10", "layer" if output == "layer" else "code")
    with pytest.raises(BuildFailed) as failed:
        await build(request, cache_dir=tmp_path / "cache", work_dir=tmp_path / "work")
    assert failed.value.code == code
    assert why in failed.value.reason
    assert not (tmp_path / "work").exists()
