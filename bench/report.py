"""How a benchmark prints its figures and keeps them: one JSON file per benchmark under
bench/results/, one entry per database and size, so that runs at several sizes sit side by side."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def print_figures(results: dict[str, float], ratios: dict[str, float], width: int = 28) -> None:
    for k, v in results.items():
        print(f"{k:>{width}}: {v:10.2f} ms")
    for k, v in ratios.items():
        print(f"{k:>{width}}: {v:10.2f} ×")


def keep(name: str, key: str, out: dict) -> Path:
    path = Path(__file__).parent / "results" / f"{name}.json"
    path.parent.mkdir(exist_ok=True)
    previous = json.loads(path.read_text()) if path.exists() else {}
    previous[key] = out
    path.write_text(json.dumps(previous, indent=2, ensure_ascii=False) + "\n")
    print(f"written: {path}")
    return path


def fresh_django() -> None:
    """Django on a fresh database (a temporary SQLite one unless ``JIESU_DATA_DIR`` or
    ``JIESU_DATABASE_URL`` say otherwise), migrated, with tasks run at once so that every figure
    includes the work a worker would do later."""
    os.environ.setdefault("JIESU_DATA_DIR", tempfile.mkdtemp(prefix="jiesu-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiesu.settings")
    os.environ["JIESU_TASK_BACKEND"] = "django_tasks.backends.immediate.ImmediateBackend"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
