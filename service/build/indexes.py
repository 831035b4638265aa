"""Finding a source distribution without letting pip execute it.

``pip download`` of an sdist runs its build backend (``setup.py``) to read its
metadata, even with ``--no-deps``: on the host, that would run the package's
code next to fcplane's secrets. So when pip finds no wheel for a requirement,
the sdist is looked up and fetched here, as plain data, from the same places
pip used (it prints them: ``Looking in indexes:`` / ``Looking in links:``):
PEP 503 simple indexes (``file://`` or HTTP) and find-links directories or
pages. It is then built into a wheel in the sandbox, offline.

Credentials in index URLs are redacted in pip's output, so an index that needs
them is skipped here (its sdists cannot be built; wheels still come through pip).
"""

from __future__ import annotations

import hashlib
import shutil
import ssl
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlparse
from urllib.request import url2pathname

import httpx
from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.specifiers import SpecifierSet
from pip._vendor.packaging.utils import (
    InvalidSdistFilename,
    canonicalize_name,
    parse_sdist_filename,
)
from pip._vendor.packaging.version import Version

from .process import Deadline, host_environment

PYPI = "https://pypi.org/simple"
_SDIST_SUFFIXES = (".tar.gz", ".zip")
_HTTP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Locations:
    indexes: tuple[str, ...]
    links: tuple[str, ...]


@dataclass(frozen=True)
class Sdist:
    name: str
    version: Version
    filename: str
    url: str
    sha256: str | None


def _client() -> httpx.Client:
    """HTTP as pip does it here: its CA bundle (PIP_CERT) when one is configured."""
    cafile = host_environment().get("PIP_CERT")
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=cafile) if cafile else True
    return httpx.Client(follow_redirects=True, verify=verify)


def locations_from_pip(output: str) -> Locations:
    """The indexes and find-links pip says it searched (PyPI alone when it names none)."""
    indexes: tuple[str, ...] | None = None
    links: tuple[str, ...] = ()
    for line in output.splitlines():
        if line.startswith("Looking in indexes: "):
            indexes = tuple(u.strip() for u in line.split(": ", 1)[1].split(", "))
        elif line.startswith("Looking in links: "):
            links = tuple(u.strip() for u in line.split(": ", 1)[1].split(", "))
    if indexes is None:
        no_index = host_environment().get("PIP_NO_INDEX", "").lower() in ("1", "true", "yes")
        indexes = () if no_index else (PYPI,)
    return Locations(tuple(u for u in indexes if "****" not in u), links)


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            attributes = dict(attrs)
            href = attributes.get("href")
            if href:
                self.found.append((href, attributes))


def _read(url: str, deadline: Deadline, client: httpx.Client) -> bytes | None:
    """A page or file by URL or path; None when it is not there."""
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https"):
        response = client.get(url, timeout=min(_HTTP_TIMEOUT_S, max(deadline.remaining(), 0.1)))
        return response.content if response.status_code == 200 else None
    path = Path(url2pathname(parsed.path)) if parsed.scheme == "file" else Path(url)
    if path.is_dir():
        path = path / "index.html"
    return path.read_bytes() if path.is_file() else None


def _candidates(page_url: str, html: bytes) -> list[tuple[str, dict[str, str | None]]]:
    """The page's links; a remote page may only point to remote files (never to a file
    on this machine, which would then end up in a package)."""
    parser = _Anchors()
    parser.feed(html.decode("utf-8", errors="replace"))
    remote = urlparse(page_url).scheme in ("http", "https")
    links = [(urljoin(page_url, href), attrs) for href, attrs in parser.found]
    return [(u, a) for u, a in links if (urlparse(u).scheme in ("http", "https")) == remote]


def find_sdist(
    requirement: Requirement,
    python_version: str,
    locations: Locations,
    deadline: Deadline,
    *,
    pre: bool = False,
) -> Sdist | None:
    """The newest sdist that satisfies ``requirement`` for ``python_version``, or None."""
    name = canonicalize_name(requirement.name)
    found: list[Sdist] = []
    with _client() as client:
        pages = [f"{index.rstrip('/')}/{name}/" for index in locations.indexes]
        for page in [*pages, *locations.links]:
            deadline.check()
            anchors: list[tuple[str, dict[str, str | None]]]
            try:
                if "://" not in page and Path(page).is_dir():
                    anchors = [(str(p), {}) for p in sorted(Path(page).iterdir())]
                else:
                    html = _read(page, deadline, client)
                    anchors = _candidates(page, html) if html else []
            except (OSError, httpx.HTTPError):
                continue
            found += _matching(anchors, name, requirement.specifier, python_version, pre)
    if not found:
        return None
    return max(found, key=lambda s: s.version)


def _matching(
    anchors: list[tuple[str, dict[str, str | None]]],
    name: str,
    specifier: SpecifierSet,
    python_version: str,
    pre: bool,
) -> list[Sdist]:
    matching = []
    for url, attrs in anchors:
        bare, fragment = urldefrag(url)
        filename = unquote(bare.rsplit("/", 1)[-1])
        if not filename.endswith(_SDIST_SUFFIXES) or "data-yanked" in attrs:
            continue
        try:
            sdist_name, version = parse_sdist_filename(filename)
        except InvalidSdistFilename:
            continue
        if sdist_name != name or not specifier.contains(version, prereleases=pre or None):
            continue
        requires = attrs.get("data-requires-python")
        if requires and not SpecifierSet(requires).contains(python_version + ".0"):
            continue
        sha = fragment.removeprefix("sha256=") if fragment.startswith("sha256=") else None
        matching.append(Sdist(sdist_name, version, filename, bare, sha))
    return matching


def fetch(sdist: Sdist, target_dir: Path, deadline: Deadline, max_bytes: int) -> Path:
    """Copy or download the sdist (its sha256 checked when the index gave one)."""
    dest = target_dir / sdist.filename
    parsed = urlparse(sdist.url)
    if parsed.scheme in ("http", "https"):
        with (
            _client() as client,
            client.stream("GET", sdist.url, timeout=max(deadline.remaining(), 0.1)) as response,
        ):
            response.raise_for_status()
            written = 0
            with dest.open("wb") as out:
                for chunk in response.iter_bytes():
                    written += len(chunk)
                    if written > max_bytes:
                        raise OSError(f"{sdist.filename} is larger than {max_bytes} bytes")
                    out.write(chunk)
    else:
        local = Path(url2pathname(parsed.path)) if parsed.scheme == "file" else Path(sdist.url)
        shutil.copyfile(local, dest)
    if sdist.sha256 is not None:
        with dest.open("rb") as stream:
            digest = hashlib.file_digest(stream, "sha256").hexdigest()
        if digest != sdist.sha256:
            raise OSError(f"{sdist.filename}: sha256 {digest} does not match the index's")
    return dest
