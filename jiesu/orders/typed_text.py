"""What a typed or pasted text keeps: the characters a person meant. Django-free.

Text pasted into a desk form from a chat window, a PDF or a legacy system brings characters no
one can see: C0/C1 controls (BEL, ESC, form feed, NUL) that show as boxes on the order page, and
the bidirectional embedding/override/isolate controls that make a text display in an order other
than the one it is stored in (the "Trojan Source" trick). None carries meaning in an order, so
they are removed rather than refused: the call-taker with a caller on the line should not have
to hunt for an invisible character. Line breaks and tabs stay.

Only what a person types into a form is cleaned here (``jiesu.desk.forms.TypedText``, used by
the desk's, the portal's and the insight screens' forms). What a system sends through the API,
Open311 or an import is stored as sent — a record is evidence — and shown escaped (tests/
test_bad_input.py); NUL, which no text column holds, is refused there.
"""

from __future__ import annotations

import re

# C0 controls but tab (\x09), line feed (\x0a) and carriage return (\x0d); DEL and the C1
# controls; the bidi embeddings and overrides (U+202A–U+202E) and isolates (U+2066–U+2069).
# One regular expression: a scan in C on every text of every form.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def without_invisible(text: str) -> str:
    """``text`` without control and bidi-override characters (tab, line breaks kept)."""
    return _INVISIBLE.sub("", text) if _INVISIBLE.search(text) else text
