"""Backup and restore of the whole database, online (the server keeps running and writing).

- SQLite: the online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot
  page by page into a new database file; restore copies the file back the same way, so that
  other connections see either the old or the restored database, never half of each.
- PostgreSQL: ``pg_dump --format=custom`` (one snapshot transaction) and ``pg_restore --clean
  --if-exists --single-transaction`` (all or nothing).

``fingerprint`` reads every table row by row (ordered by primary key) for the round-trip check.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.apps import apps
from django.db import connections


class BackupError(Exception):
    pass


def _settings(alias: str = "default") -> dict[str, Any]:
    return connections[alias].settings_dict


def _vendor(alias: str = "default") -> str:
    return connections[alias].vendor


def _pg_env(db: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    args = ["--host", str(db.get("HOST") or "127.0.0.1"), "--port", str(db.get("PORT") or 5432),
            "--username", str(db.get("USER") or "postgres")]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return path


def backup(target: Path, alias: str = "default") -> Path:
    """Write a consistent copy of the database to ``target`` while it stays in use."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    db = _settings(alias)
    tmp = target.with_name(target.name + ".partial")
    tmp.unlink(missing_ok=True)
    if _vendor(alias) == "sqlite":
        source = sqlite3.connect(str(db["NAME"]), timeout=30)
        dest = sqlite3.connect(str(tmp))
        try:
            with dest:
                source.backup(dest)  # all pages in one step: one consistent snapshot
        finally:
            dest.close()
            source.close()
    elif _vendor(alias) == "postgresql":
        args, env = _pg_env(db)
        subprocess.run([_tool("pg_dump"), *args, "--format=custom", "--no-owner", "--file", str(tmp),  # noqa: S603
                        str(db["NAME"])], env=env, check=True, capture_output=True)
    else:
        raise BackupError(f"no backup for {_vendor(alias)}")
    os.replace(tmp, target)  # a backup file is whole or absent, never half-written
    return target


def restore(source: Path, alias: str = "default") -> None:
    """Replace the database's content with the backup in ``source`` (all or nothing)."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    db = _settings(alias)
    connections[alias].close()
    if _vendor(alias) == "sqlite":
        with source.open("rb") as f:
            if f.read(16) != b"SQLite format 3\x00":
                raise BackupError(f"{source} is not an SQLite backup")
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dest = sqlite3.connect(str(db["NAME"]), timeout=30)
        try:
            src.backup(dest)
        finally:
            dest.close()
            src.close()
    elif _vendor(alias) == "postgresql":
        args, env = _pg_env(db)
        result = subprocess.run([_tool("pg_restore"), *args, "--clean", "--if-exists", "--no-owner",  # noqa: S603
                                 "--single-transaction", "--dbname", str(db["NAME"]), str(source)],
                                env=env, capture_output=True, text=True)
        if result.returncode:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()[:2000]}")
    else:
        raise BackupError(f"no restore for {_vendor(alias)}")


def table_rows(model, alias: str = "default") -> list[tuple]:
    fields = [f.attname for f in model._meta.concrete_fields]
    rows = model._base_manager.using(alias).order_by("pk").values_list(*fields)
    return [tuple(str(v) for v in row) for row in rows]


def fingerprint(alias: str = "default") -> dict[str, tuple[int, str]]:
    """table → (row count, SHA-256 of its rows in primary-key order), for every model."""
    out = {}
    for model in apps.get_models(include_auto_created=True):
        if not model._meta.managed or model._meta.proxy:
            continue
        rows = table_rows(model, alias)
        digest = hashlib.sha256("\n".join(map(repr, rows)).encode()).hexdigest()
        out[model._meta.db_table] = (len(rows), digest)
    return out
