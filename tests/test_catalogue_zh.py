"""The Chinese catalogue is complete and compiled: Chinese is the users' first language."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import jiesu

LC = Path(jiesu.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES"


def _entries() -> list[tuple[str, str]]:
    """(msgid, first msgstr) pairs from the .po file; enough of the format for this check."""
    text = (LC / "django.po").read_text(encoding="utf-8")
    entries = []
    for block in text.split("\n\n")[1:]:
        lines = [ln for ln in block.splitlines() if not ln.startswith("#")]
        key, parts, current = "", {"msgid": "", "msgstr": ""}, None
        for line in lines:
            m = re.match(r'^(msgid|msgid_plural|msgstr(?:\[0\])?) "(.*)"$', line)
            if m:
                key = m.group(1)
                current = "msgstr" if key.startswith("msgstr") else ("msgid" if key == "msgid" else None)
                if current:
                    parts[current] = m.group(2)
            elif line.startswith('"') and current:
                parts[current] += line[1:-1]
        if parts["msgid"]:
            entries.append((parts["msgid"], parts["msgstr"]))
    return entries


def test_every_message_is_translated():
    untranslated = [msgid for msgid, msgstr in _entries() if not msgstr]
    assert untranslated == []


def test_compiled_catalogue_matches_the_source():
    with (LC / "django.mo").open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    stale = [m for m, s in _entries() if "\\" not in m and s != m and compiled.gettext(m) == m]
    assert stale == [], "run `make messages` and commit the .mo"
