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

A word is cut by its neighbours, and a query of two to four characters has none, so a query's
words and the same characters' words inside a sentence can differ. Two cases lost real matches:

- A compound jieba does not know is cut into a word and a lone character (楼道灯 → 楼道 灯), and
  in a sentence that character goes with what follows: through a dictionary word (楼道灯不亮 →
  楼道 灯不亮, 楼道灯泡 → 楼道 灯泡) or a word jieba's HMM makes up (楼道灯坏了 → 楼道 灯坏). The
  documents held no 灯 and 楼道灯 found nothing. Such a character is now matched as the start of
  a word (``prefixes``: 楼道 and 灯*).
- A domain word that the sentence cuts otherwise: 夜间施工噪音 is cut 夜间施工 噪音, 小区物业管理权
  小区 物业 管理权, 街道办事处 街道 办事处, so the queries 施工噪音, 物业管理 and 街道办 (one
  dictionary word each) found nothing. Documents now also hold every word of the domain
  dictionary that occurs in the text, however it was cut (``document_words``).

Measured on 6,000 real citizen messages (TipDM 2020, ~390 characters each), a match being a
message that holds the query's characters: the domain dictionary's 2–4-character words as
queries found 97.4 % of their matches, now 100 %; a list of 60 common queries (楼道灯, 路灯, 停车,
狗 …) 98.8 → 99.0 %. The documents grew by 0.05 words on average (98.2 → 98.3); queries of a
word and a lone character read the lists of every word starting with it (灯: 灯光, 灯泡 …).

Not done, and why: indexing every character, or every dictionary word inside the text (jieba's
*full* mode), found 100 % of those queries too but doubled the words per document (98 → 192,
202), i.e. the index, its writes and the number of single characters in PostgreSQL's word
statistics, on which the search's plans depend (jiesu.search.selectors), and also finds words
that straddle two others (调解 in 协调解决). Indexing the characters of the words the HMM made up
(+7 % words) added only 0.03 points once lone characters are prefixes. Still missed: a character
inside or at the end of a word (狗 in 宠物狗, a query of 狗 alone in 狗叫), and words the sentence
cuts across (小区 in 盛庭岚小区内: 小 区内); search the word the text uses. Rows indexed before
the domain words were added lack them until ``jiesu reindex_search`` (search migration 0003 does
it for up to 200,000 orders); the prefix needs no re-index.
"""

from __future__ import annotations

import re
from functools import lru_cache

from jiesu.triage.text import _keep, _segmenter, _wordlike, dictionary_words, normalise

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
    for word in _domain_words_in(text):
        seen.setdefault(word, None)
    return list(seen)


def document(*parts: str) -> str:
    """The index document: the words joined by single spaces."""
    return " ".join(document_words(*parts))


# One Chinese character (``prefixes``).
_HAN_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@lru_cache(maxsize=1)
def _domain_words_by_start() -> dict[str, tuple[str, ...]]:
    """The domain dictionary's words of two characters or more, by their first two."""
    out: dict[str, list[str]] = {}
    for w in dict.fromkeys(w.lower() for w in dictionary_words()):
        if len(w) > 1 and _keep(w):
            out.setdefault(w[:2], []).append(w)
    return {k: tuple(v) for k, v in out.items()}


def _domain_words_in(text: str) -> list[str]:
    """The domain dictionary's words that occur in ``text``, wherever jieba cut it. Only the
    words that start with one of the text's pairs of characters are looked for (a set
    intersection, then a few ``in``)."""
    low = text.lower()
    by_start = _domain_words_by_start()
    pairs = by_start.keys() & {a + b for a, b in zip(low, low[1:], strict=False)}
    return [w for pair in pairs for w in by_start[pair] if len(w) == 2 or w in low]


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


def prefixes(words: list[str]) -> set[str]:
    """The query words matched as the start of a word: a lone Chinese character in a query that
    has longer words too. A query of a compound jieba does not know is cut into a word and a
    character (楼道灯 → 楼道 灯), and in a sentence the character goes with what follows through
    a dictionary word (楼道灯不亮: 楼道 灯不亮; 楼道灯泡: 楼道 灯泡): 灯 as a prefix finds those.
    A query of one character alone stays exact: as a prefix it would read the lists of every
    word starting with it (水: 水管, 水费, 水压 …), a large share of the orders."""
    if not any(len(w) > 1 for w in words):
        return set()
    return {w for w in words if len(w) == 1 and _HAN_WORD.fullmatch(w)}


def fts5_match(words: list[str]) -> str:
    """An FTS5 MATCH expression: every word as a quoted string (implicit AND), ``prefixes`` as
    prefix queries. Quoting keeps FTS5 operators (AND, OR, NOT, *, ^, :) in user input literal."""
    starts = prefixes(words)
    return " ".join('"' + w.replace('"', '""') + '"' + ("*" if w in starts else "") for w in words)


def tsquery(words: list[str]) -> str:
    """A PostgreSQL ``tsquery`` literal: every word quoted as a lexeme, joined by &, ``prefixes``
    as prefix lexemes (``:*``). The input form (not to_tsquery) takes quoted lexemes as they are,
    without a parser that could drop Chinese characters under some locales."""
    starts = prefixes(words)
    return " & ".join("'" + w.replace("\\", "\\\\").replace("'", "''") + "'" + (":*" if w in starts else "")
                      for w in words)
