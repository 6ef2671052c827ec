"""The words that go into the order index and the words a query looks for (DESIGN §9).

Django-free: the same rules build the SQLite FTS5 and the PostgreSQL tsvector documents, and the
tests check them without a database.

Chinese has no spaces, so the database's own tokenizers cannot find words in it (SQLite's
trigram tokenizer also returns nothing for two-character queries such as 路灯 or 噪音, the most
common ones). The application therefore cuts the text with rjieba and the domain dictionary
(jiesu.triage.text) and stores the words joined by single spaces; the databases only split on
spaces.

- Documents are cut in jieba's *search* mode, which adds the shorter words inside a long one
  (噪音扰民 → 噪音 扰民 噪音扰民; 路灯杆 → 路灯 路灯杆), so that a query for the short word finds
  the long one.
- Queries are cut in the normal mode (the longest words), and every word must be present.
"""

from __future__ import annotations

import re

from jiesu.triage.text import _keep, _segmenter, _wordlike, normalise

# Order numbers are YYYYMMDD + 6 digits; a digits-only query of 8+ characters is a number.
NUMBER_RE = re.compile(r"\d{8,20}")
MAX_QUERY_WORDS = 8


def document_words(*parts: str) -> list[str]:
    """The distinct index words of an order's summary, text and address, in first-seen order."""
    text = normalise(" ".join(p for p in parts if p))
    if not text:
        return []
    seen: dict[str, None] = {}
    for tok in _segmenter().cut_for_search(text):
        tok = tok.strip().lower()
        if tok and " " not in tok and _keep(tok):
            seen.setdefault(tok, None)
    return list(seen)


def document(*parts: str) -> str:
    """The index document: the words joined by single spaces."""
    return " ".join(document_words(*parts))


def query_words(query: str) -> list[str]:
    """The words every match must contain. Stop words are dropped unless nothing else is left
    (a query of only 的 still looks for 的)."""
    text = normalise(query)
    if not text:
        return []
    cut = [t.strip().lower() for t in _segmenter().cut(text)]
    words = [t for t in cut if t and " " not in t and _wordlike(t)]
    kept = [t for t in words if _keep(t)] or words
    out: dict[str, None] = {}
    for w in kept:
        out.setdefault(w, None)
    return list(out)[:MAX_QUERY_WORDS]


def is_number(query: str) -> bool:
    return bool(NUMBER_RE.fullmatch(query.strip()))


def fts5_match(words: list[str]) -> str:
    """An FTS5 MATCH expression: every word as a quoted string (implicit AND). Quoting keeps
    FTS5 operators (AND, OR, NOT, *, ^, :) in user input literal."""
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def tsquery(words: list[str]) -> str:
    """A PostgreSQL ``tsquery`` literal: every word quoted as a lexeme, joined by &. The input
    form (not to_tsquery) takes quoted lexemes as they are, without a parser that could drop
    Chinese characters under some locales."""
    return " & ".join("'" + w.replace("\\", "\\\\").replace("'", "''") + "'" for w in words)
