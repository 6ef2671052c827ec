"""Versioned models on disk, picked up by running processes without a restart.

Layout under ``root`` (the data directory)::

    models/<name>/<version>/model.joblib, info.json
    models/<name>/CURRENT            the active version, one line

``save`` writes a new version into a temporary directory and renames it into place (a rename is
atomic on one file system), then replaces ``CURRENT`` the same way, so a reader sees either the
old model or the whole new one. ``latest`` stats ``CURRENT`` and loads only when it changed;
that is one ``stat`` per call in the steady state, cheap enough to do on every request.

Nothing here raises to the caller on a missing or broken model: it is logged and ``latest``
answers None, so that intake goes on without a model (keyword rules take over).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jiesu.triage.classifier import INFO_FILE, MODEL_FILE, TextClassifier

log = logging.getLogger("jiesu.triage")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
CURRENT = "CURRENT"


@dataclass
class _Loaded:
    stamp: tuple[Any, ...]
    version: str | None
    classifier: TextClassifier | None


# Shared by every ModelStore of a process: callers may build a store per request.
_cache: dict[tuple[str, str], _Loaded] = {}
_lock = threading.Lock()


def _check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise ValueError(f"invalid model name {name!r}: letters, digits, '_', '-', '.'; at most 64")
    return name


class ModelStore:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _dir(self, name: str) -> Path:
        return self.root / "models" / _check_name(name)

    # --- writing

    def save(self, name: str, classifier: TextClassifier, *, activate: bool = True, keep: int | None = None) -> str:
        """Store ``classifier`` as a new version of ``name`` and (by default) make it current.
        Answers the version, a sortable UTC time stamp. ``keep`` prunes older versions."""
        base = self._dir(name)
        base.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        version, n = stamp, 1
        while (base / version).exists():
            n += 1
            version = f"{stamp}-{n:02d}"
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=base))
        try:
            classifier.info["version"] = version
            classifier.save(tmp)
            os.rename(tmp, base / version)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if activate:
            self.activate(name, version)
        if keep:
            self.prune(name, keep)
        return version

    def activate(self, name: str, version: str) -> None:
        """Make ``version`` the one ``latest`` answers (also to roll back)."""
        base = self._dir(name)
        if not (base / version / MODEL_FILE).is_file():
            raise ValueError(f"no version {version!r} of model {name!r}")
        fd, tmp = tempfile.mkstemp(prefix=".current-", dir=base)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(version + "\n")
        os.replace(tmp, base / CURRENT)

    def prune(self, name: str, keep: int) -> list[str]:
        """Delete all but the newest ``keep`` versions (never the current one)."""
        current = self.current(name)
        removed = []
        for v in self.versions(name)[: -keep or None]:
            if v != current:
                shutil.rmtree(self._dir(name) / v, ignore_errors=True)
                removed.append(v)
        return removed

    # --- reading

    def versions(self, name: str) -> list[str]:
        """Stored versions of ``name``, oldest first."""
        try:
            base = self._dir(name)
            return sorted(p.name for p in base.iterdir() if not p.name.startswith(".") and (p / MODEL_FILE).is_file())
        except (OSError, ValueError):
            return []

    def current(self, name: str) -> str | None:
        try:
            return (self._dir(name) / CURRENT).read_text(encoding="utf-8").strip() or None
        except (OSError, ValueError):
            return None

    def _stamp(self, name: str) -> tuple[Any, ...] | None:
        base = self._dir(name)
        try:
            st = (base / CURRENT).stat()
            return ("current", st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            pass
        try:  # no CURRENT: the newest stored version, noticed by the directory's mtime
            st = base.stat()
            return ("dir", st.st_mtime_ns)
        except OSError:
            return None

    def latest(self, name: str) -> tuple[str, TextClassifier] | None:
        """(version, classifier) of the current version of ``name``; None when there is none or it
        cannot be loaded (logged). Loads only when ``CURRENT`` changed since the last call."""
        try:
            key = (str(self.root.resolve()), _check_name(name))
            stamp = self._stamp(name)
        except (OSError, ValueError):
            log.exception("model store: cannot read model %r under %s", name, self.root)
            return None
        if stamp is None:
            return None
        cached = _cache.get(key)
        if cached is None or cached.stamp != stamp:
            with _lock:
                cached = _cache.get(key)
                if cached is None or cached.stamp != stamp:
                    cached = self._load(name, stamp, cached)
                    _cache[key] = cached
        if cached.classifier is None or cached.version is None:
            return None
        return cached.version, cached.classifier

    def _load(self, name: str, stamp: tuple[Any, ...], previous: _Loaded | None) -> _Loaded:
        stored = self.versions(name)
        version = self.current(name) if stamp[0] == "current" else (stored[-1] if stored else None)
        if version is None:
            return _Loaded(stamp, None, None)
        if previous is not None and previous.version == version and previous.classifier is not None:
            return _Loaded(stamp, version, previous.classifier)  # CURRENT touched, same version
        try:
            classifier = TextClassifier.load(self._dir(name) / version)
        except Exception:  # a broken model must never take the caller down
            log.exception("model store: version %s of model %r could not be loaded", version, name)
            return _Loaded(stamp, version, None)
        log.info("model store: loaded version %s of model %r", version, name)
        return _Loaded(stamp, version, classifier)

    def load(self, name: str, version: str) -> TextClassifier:
        """One stored version, uncached; raises (OSError, ValueError) if it cannot be read."""
        if version.startswith(".") or "/" in version or "\\" in version:
            raise ValueError(f"invalid version {version!r}")
        return TextClassifier.load(self._dir(name) / version)

    def info(self, name: str, version: str | None = None) -> dict[str, Any] | None:
        """The stored ``info.json`` of a version (default: the current one), or None."""
        version = version or self.current(name)
        if not version:
            return None
        try:
            data = json.loads((self._dir(name) / version / INFO_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None


def forget() -> None:
    """Drop every cached model (tests)."""
    with _lock:
        _cache.clear()
