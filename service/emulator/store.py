"""Durable emulator state: one SQLite file of JSON documents plus content-addressed blobs.

Every resource is a JSON document addressed by ``(kind, scope, key)`` — e.g.
``("alias", "my-fn", "prod")``. A single connection behind a re-entrant lock
keeps writes serialised and safe under concurrent requests; WAL plus
``synchronous=FULL`` make each committed write survive a crash or restart.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from service.emulator.checksum import code_checksum

Doc = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    kind TEXT NOT NULL,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (kind, scope, key)
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


class Store:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._depth = 0
        self._conn = sqlite3.connect(
            data_dir / "emulator.sqlite3", check_same_thread=False, isolation_level=None
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(_SCHEMA)
        self.blobs = BlobStore(data_dir / "blobs", self)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def tx(self) -> Iterator[None]:
        """One atomic unit of work; nested calls join the outer transaction."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._conn.execute("COMMIT")

    def get(self, kind: str, scope: str, key: str) -> Doc | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT doc FROM docs WHERE kind=? AND scope=? AND key=?", (kind, scope, key)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def put(self, kind: str, scope: str, key: str, doc: Doc) -> None:
        with self.tx():
            self._conn.execute(
                "INSERT OR REPLACE INTO docs(kind, scope, key, doc) VALUES (?,?,?,?)",
                (kind, scope, key, json.dumps(doc, ensure_ascii=False)),
            )

    def insert(self, kind: str, scope: str, key: str, doc: Doc) -> bool:
        """Insert unless present; False when the key already exists."""
        with self.tx():
            try:
                self._conn.execute(
                    "INSERT INTO docs(kind, scope, key, doc) VALUES (?,?,?,?)",
                    (kind, scope, key, json.dumps(doc, ensure_ascii=False)),
                )
            except sqlite3.IntegrityError:
                return False
        return True

    def delete(self, kind: str, scope: str, key: str) -> bool:
        with self.tx():
            cur = self._conn.execute(
                "DELETE FROM docs WHERE kind=? AND scope=? AND key=?", (kind, scope, key)
            )
        return cur.rowcount > 0

    def delete_scope(self, kind: str, scope: str) -> None:
        with self.tx():
            self._conn.execute("DELETE FROM docs WHERE kind=? AND scope=?", (kind, scope))

    def list(self, kind: str, scope: str | None = None) -> list[tuple[str, str, Doc]]:
        """All ``(scope, key, doc)`` of a kind (optionally one scope), ordered by scope, key."""
        with self._lock:
            if scope is None:
                rows = self._conn.execute(
                    "SELECT scope, key, doc FROM docs WHERE kind=? ORDER BY scope, key", (kind,)
                ).fetchall()
            else:
                rows = self._conn.execute(
                    "SELECT scope, key, doc FROM docs WHERE kind=? AND scope=? ORDER BY key",
                    (kind, scope),
                ).fetchall()
        return [(s, k, dict(json.loads(d))) for s, k, d in rows]

    def next_id(self, counter: str) -> int:
        """A per-name sequence that never hands out the same number twice."""
        with self.tx():
            row = self._conn.execute(
                "SELECT value FROM counters WHERE name=?", (counter,)
            ).fetchone()
            value = 1 if row is None else int(row[0]) + 1
            self._conn.execute(
                "INSERT OR REPLACE INTO counters(name, value) VALUES (?, ?)", (counter, value)
            )
        return value

    def wipe(self) -> None:
        with self.tx():
            self._conn.execute("DELETE FROM docs")
            self._conn.execute("DELETE FROM counters")


class BlobStore:
    """Code zips stored once by sha256; their CRC-64 and size are computed once too."""

    def __init__(self, root: Path, store: Store) -> None:
        self.root = root
        self._store = store
        self._paths: dict[str, Path] = {}
        root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        found = self._paths.get(sha256)
        if found is None:  # Path joins are slow enough to show on the invoke hot path
            found = self._paths[sha256] = self.root / f"{sha256}.zip"
        return found

    def add(self, data: bytes) -> Doc:
        """Store ``data``; return ``{"sha256", "checksum", "size"}``."""
        sha = hashlib.sha256(data).hexdigest()
        known = self._store.get("blob", "", sha)
        if known is not None and self.path(sha).exists():
            return known
        target = self.path(sha)
        if not target.exists():
            fd, tmp = tempfile.mkstemp(dir=self.root, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        meta: Doc = {"sha256": sha, "checksum": code_checksum(data), "size": len(data)}
        self._store.put("blob", "", sha, meta)
        return meta

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()
