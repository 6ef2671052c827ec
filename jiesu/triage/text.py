"""Text preparation for triage: normalising, segmenting into words, dropping stop words.

Chinese has no spaces, so every model and rule works on words cut by rjieba (the Rust port of
jieba; same dictionary and the same cuts). Hotline vocabulary that jieba's general dictionary
splits (噪音扰民 → 噪音 扰民, 占道经营 → 占 道 经营) is kept whole by the domain dictionary in
``data/dictionary.txt``. rjieba has no ``load_userdict``; ``Jieba.add_word`` does the same thing
line by line, so no max-match pass is needed.

The words are added to the instance rjieba itself builds when it is imported (behind
``rjieba.cut``), not to a second one: each instance holds its own copy of jieba's dictionary,
about 25 MB in every process (docs/benchmarks.md, session 7). So ``rjieba.cut`` in a process that
has segmented here cuts with the domain dictionary too, which is what Jiesu's other users of it
(the hotspot clustering's fallback) want.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import rjieba

DATA = Path(__file__).resolve().parent / "data"
MAX_CHARS = 5000  # as intake (jiesu.orders.actions.base.MAX_TEXT)

_CHINESE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SPACE = re.compile(r"\s+")
# A token is kept only if it has a letter, a digit or a CJK character in it: punctuation, symbols
# and emoji carry no topic.
_WORDLIKE = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _is_control(ch: str) -> bool:
    # Cc (C0/C1 controls), Cf (zero-width and bidi marks, BOM), Cs (lone surrogates, which no
    # encoder accepts), Co/Cn (private use, unassigned). Whitespace controls are handled first.
    return unicodedata.category(ch)[0] == "C"


def normalise(text: object) -> str:
    """NFKC (full-width letters, digits and punctuation to their plain forms), control characters
    removed, whitespace collapsed to single spaces, at most ``MAX_CHARS`` characters.

    Anything that is not a string (None, a number) becomes its text or ``""``; never raises.
    """
    if text is None:
        return ""
    if not isinstance(text, str):
        text = str(text)
    # Cap early so that a 100,000-character paste costs no more than a full message.
    text = text[: MAX_CHARS * 2]
    text = unicodedata.normalize("NFKC", text)
    text = _SPACE.sub(" ", text)
    # isprintable() is False for every C* category (and for spaces other than " ", which the
    # line above has replaced): the common clean text skips the per-character pass.
    if not text.isprintable():
        text = _SPACE.sub(" ", "".join(ch for ch in text if not _is_control(ch)))
    return text.strip()[:MAX_CHARS]


def has_chinese(text: object) -> bool:
    return isinstance(text, str) and bool(_CHINESE.search(text))


def _read_lines(path: Path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    return frozenset(_read_lines(DATA / "stopwords.txt"))


@lru_cache(maxsize=1)
def dictionary_words() -> tuple[str, ...]:
    return tuple(line.split()[0] for line in _read_lines(DATA / "dictionary.txt"))


_lock = threading.Lock()
_jieba: rjieba.Jieba | None = None


def _segmenter() -> rjieba.Jieba:
    """The domain-aware segmenter, made once. ``add_word`` mutates the Rust object, so it is
    done under a lock before the instance is published here; afterwards only ``cut`` (read-only).
    rjieba's own instance when it has one (see the module's docstring), else a new one."""
    global _jieba
    if _jieba is None:
        with _lock:
            if _jieba is None:
                default = getattr(rjieba, "_DEFAULT_JIEBA", None)
                jb = default if isinstance(default, rjieba.Jieba) else rjieba.Jieba()
                for line in _read_lines(DATA / "dictionary.txt"):
                    parts = line.split()
                    freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
                    tag = parts[2] if len(parts) > 2 else None
                    jb.add_word(parts[0], freq, tag)
                _jieba = jb
    return _jieba


def add_words(words: Iterable[str]) -> None:
    """Teach the segmenter more words (e.g. category keywords an admin typed). Not for use while
    other threads segment: call it at start-up."""
    jb = _segmenter()
    with _lock:
        for w in words:
            w = w.strip()
            if w and not jb.has_word(w):
                jb.add_word(w, None, None)


def segment(text: object, *, drop_stopwords: bool = True, normalised: bool = False) -> list[str]:
    """The words of ``text``: normalised, cut by rjieba with the domain dictionary, without
    whitespace, punctuation, symbols and (unless ``drop_stopwords=False``) stop words.

    Text already segmented elsewhere ("市 西湖 建筑 集团", like the TipDM training file) comes back
    as nearly the same words: jieba never joins across a space, and a single word cut alone stays
    whole, so a model can take raw and pre-segmented text alike."""
    clean = text if normalised and isinstance(text, str) else normalise(text)
    if not clean:
        return []
    if drop_stopwords:
        return [tok for tok in _segmenter().cut(clean) if _keep(tok)]
    return [tok for tok in _segmenter().cut(clean) if _wordlike(tok)]


@lru_cache(maxsize=100_000)
def _wordlike(token: str) -> bool:
    return bool(_WORDLIKE.search(token))


@lru_cache(maxsize=100_000)
def _keep(token: str) -> bool:
    return token not in stopwords() and _wordlike(token)
