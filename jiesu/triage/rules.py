"""Cold-start triage by keyword rules: request type, urgency, Art. 11 referrals, and a category
classifier from the categories' own keywords. Used when no model has been learnt yet, and for
the decisions a model must not make alone (an emergency goes to 110/119/120/122 at once, whatever
a category model thinks).

Rules are rows ``(target, label, keywords, weight)``; the defaults are ``data/rules.csv`` and an
admin may supply others (``RuleSet.from_rows``). A keyword matches as a substring of the
normalised text; ``A+B`` needs both parts. For emergencies, a *hedge* (容易起火, 火灾隐患, 去年着火)
in the same clause makes the match a risk or a memory rather than an emergency now.

Every function is pure and total: bad input (empty, no Chinese, very long, control characters)
gives the explicit ``UNKNOWN`` answer, never an exception.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from jiesu.triage.classifier import Prediction
from jiesu.triage.text import DATA, has_chinese, normalise

UNKNOWN = "unknown"
TYPES = ("consult", "help", "complaint", "report", "suggest", "praise", "other")
# DESIGN §4: rule label → (urgency code of the order, limit hint)
URGENCY = {
    "emergency": ("emergency", "2h"),
    "utility": ("urgent", "24h"),
    "general": ("normal", "7d"),
    "complex": ("normal", "15d"),
}
TARGETS = ("type", "urgency", "referral", "hedge")
REASONS = {
    "emergency": "an emergency for {to}: refer at once (Art. 11)",
    "legal_process": "a matter for litigation, arbitration, reconsideration, discipline or petition (Art. 11)",
    "secret": "state secrets, trade secrets or another person's private data (Art. 11)",
    "unlawful": "the request is unlawful or against public order (Art. 11)",
    "no_duty": "outside every unit's duty (Art. 11)",
}
_CLAUSE_END = re.compile(r"[，。！？；,.!?;\n]")
_HEDGE_BEFORE = 5  # characters looked at before a match (within its clause)
_HEDGE_AFTER = 4
_MISSING = object()
_CACHE = 8  # texts whose preparation and keyword scan a RuleSet remembers


@dataclass(frozen=True)
class Rule:
    target: str
    label: str
    keywords: tuple[str, ...]
    weight: float = 1.0


@dataclass(frozen=True)
class Referral:
    outcome: str  # jiesu.orders.states.Outcome value
    referred_to: str  # "110", "119", "120", "122" or ""
    reason: str
    words: list[str] = field(default_factory=list)
    confidence: float = 0.0


class Matcher:
    """All keywords found in a text: at each position, only the lengths of the keywords that
    start with that character are probed (one dictionary lookup each), instead of one scan per
    keyword (hundreds) or one probe per position and every keyword length."""

    def __init__(self, keywords: Iterable[str]) -> None:
        self.words = {k for k in keywords if k}
        self.lengths = sorted({len(k) for k in self.words})
        starts: dict[str, set[int]] = {}
        for k in self.words:
            starts.setdefault(k[0], set()).add(len(k))
        self._starts = {ch: tuple(sorted(lens)) for ch, lens in starts.items()}

    def find(self, text: str) -> list[tuple[str, int]]:
        """(keyword, position) for every occurrence, in order of position then length."""
        words, starts, out = self.words, self._starts, []
        for i, ch in enumerate(text):
            lens = starts.get(ch)
            if lens is None:
                continue
            for length in lens:
                piece = text[i : i + length]
                if len(piece) == length and piece in words:
                    out.append((piece, i))
        return out


def _prepare(text: object) -> str | None:
    """The text rules look at (normalised, lower-case), or None when there is nothing to read."""
    clean = normalise(text)
    return clean.lower() if clean and has_chinese(clean) else None


def _parts(keyword: str) -> list[str]:
    return [p for p in keyword.lower().split("+") if p]


_Entry = tuple[int, str, str, float, tuple[str, ...]]


class RuleSet:
    def __init__(self, rules: Iterable[Rule] | None = None) -> None:
        self.rules = list(rules) if rules is not None else load_default_rules()
        self._by_target: dict[str, list[Rule]] = {t: [] for t in TARGETS}
        for r in self.rules:
            self._by_target.setdefault(r.target, []).append(r)
        self._matcher = Matcher(p for r in self.rules if r.target != "hedge" for k in r.keywords for p in _parts(k))
        self._hedge_before = [k for r in self._by_target["hedge"] if r.label == "before" for k in r.keywords]
        self._hedge_after = [k for r in self._by_target["hedge"] if r.label == "after" for k in r.keywords]
        # Compiled once: per target, the keywords indexed by their first part, each as
        # (rank in rule order, label, keyword, weight, parts), so a scan only looks at the
        # keywords whose first part occurs in the text.
        self._index: dict[str, dict[str, list[_Entry]]] = {}
        for target, rules in self._by_target.items():
            index: dict[str, list[_Entry]] = {}
            rank = 0
            for rule in rules:
                for kw in rule.keywords:
                    parts = tuple(_parts(kw))
                    # A keyword with no parts ("+") needs nothing, so it matches any text.
                    index.setdefault(parts[0] if parts else "", []).append((rank, rule.label, kw, rule.weight, parts))
                    rank += 1
            self._index[target] = index
        # The last texts read and what was found in them: type, urgency and referral all read
        # the same text, and the engine asks for all three in a row.
        self._cache: dict[str, str | None] = {}
        self._scans: dict[str, dict[str, list[int]]] = {}

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> RuleSet:
        """Rules from ``(target, label, keywords, weight)`` rows or mappings with those keys
        (keywords space- or comma-separated). Malformed rows raise ``ValueError`` naming the row."""
        rules = []
        for n, row in enumerate(rows, start=1):
            if isinstance(row, Mapping):
                values = [row.get("target"), row.get("label"), row.get("keywords"), row.get("weight", 1)]
            else:
                values = list(row) + [1] * (4 - len(row))
            target, label, keywords, weight = values[:4]
            target = str(target or "").strip()
            if not target or target.startswith("#"):
                continue
            if target not in TARGETS:
                raise ValueError(f"rule {n}: unknown target {target!r} (one of {', '.join(TARGETS)})")
            words = tuple(w for w in re.split(r"[\s,，、]+", str(keywords or "")) if w)
            if not words:
                raise ValueError(f"rule {n}: no keywords")
            try:
                w = float(weight if weight not in (None, "") else 1)
            except (TypeError, ValueError):
                raise ValueError(f"rule {n}: weight {weight!r} is not a number") from None
            label = str(label or "").strip()
            _check_label(n, target, label)
            rules.append(Rule(target, label, words, w))
        return cls(rules)

    # --- matching

    def _prepare(self, text: object) -> str | None:
        """``_prepare(text)``, remembered for the last few texts."""
        if not isinstance(text, str):
            return _prepare(text)
        cache = self._cache
        clean = cache.get(text, _MISSING)
        if clean is not _MISSING:
            return clean  # type: ignore[return-value]
        clean = _prepare(text)
        if len(cache) >= _CACHE:
            cache.clear()
        cache[text] = clean
        return clean

    def scan(self, text: str) -> dict[str, list[int]]:
        """keyword part → its positions in ``text`` (prepared), remembered for the last few texts."""
        scans = self._scans
        found = scans.get(text)
        if found is None:
            found = {}
            for word, pos in self._matcher.find(text):
                found.setdefault(word, []).append(pos)
            if len(scans) >= _CACHE:
                scans.clear()
            scans[text] = found
        return found

    def _hits(self, text: str, target: str, hedged: bool = False) -> dict[str, list[tuple[str, float]]]:
        """label → [(keyword, weight)] for the rules of ``target`` that match ``text``, in rule order."""
        found = self.scan(text)
        index = self._index.get(target)
        if not index:
            return {}
        matched: list[_Entry] = list(index.get("", ()))
        for word in found:
            entries = index.get(word)
            if entries:
                matched.extend(entries)
        matched.sort(key=lambda e: e[0])
        out: dict[str, list[tuple[str, float]]] = {}
        for _rank, label, kw, weight, parts in matched:
            if len(parts) > 1 and not all(p in found for p in parts[1:]):
                continue
            if hedged and (not parts or all(self._hedged(text, pos, len(parts[0])) for pos in found[parts[0]])):
                continue
            out.setdefault(label, []).append((kw, weight))
        return out

    def _hedged(self, text: str, pos: int, length: int) -> bool:
        before = text[max(0, pos - _HEDGE_BEFORE) : pos]
        before = _CLAUSE_END.split(before)[-1]
        after = _CLAUSE_END.split(text[pos + length : pos + length + _HEDGE_AFTER])[0]
        return any(h in before for h in self._hedge_before) or any(h in after for h in self._hedge_after)

    @staticmethod
    def _best(hits: dict[str, list[tuple[str, float]]]) -> tuple[str, float, float, list[str]]:
        """(label, its score, confidence, words) of the best-scoring label; each keyword once."""
        scores = {lab: sum(w for _k, w in dict(kws).items()) for lab, kws in hits.items()}
        label = max(scores, key=lambda lab: (scores[lab], lab))
        total = sum(scores.values())
        # Grows with evidence, shrinks with competing labels; 1 point alone gives 0.5.
        conf = scores[label] / (total + 1.0)
        return label, scores[label], round(conf, 4), [k for k, _w in hits[label]]

    # --- the answers

    def classify_type(self, text: object) -> tuple[str, float]:
        """(request type code, confidence); ``("other", 0.2)`` when no rule matched, ``(UNKNOWN,
        0.0)`` when there is no Chinese text to read."""
        clean = self._prepare(text)
        if clean is None:
            return UNKNOWN, 0.0
        hits = self._hits(clean, "type")
        if not hits:
            return "other", 0.2
        label, _score, conf, _words = self._best(hits)
        return label, conf

    def classify_urgency(self, text: object) -> tuple[str, float, str | None]:
        """(urgency code, confidence, limit hint): emergency/2h, urgent/24h (water, power, gas,
        heating), normal/15d (complex), normal/7d otherwise; ``(UNKNOWN, 0.0, None)`` when there
        is nothing to read."""
        clean = self._prepare(text)
        if clean is None:
            return UNKNOWN, 0.0, None
        emergency = self._hits(clean, "urgency", hedged=True).get("emergency")
        hits = self._hits(clean, "urgency")
        hits.pop("emergency", None)
        if emergency:
            hits["emergency"] = emergency
        found = self.referral(clean)
        if found is not None and found.outcome == "emergency":
            hits.setdefault("emergency", []).append(("referral", 3.0))
        for level in ("emergency", "utility", "complex"):
            if level in hits:
                score = sum(w for _k, w in dict(hits[level]).items())
                code, limit = URGENCY[level]
                return code, round(min(0.95, score / (score + 1.0)), 4), limit
        code, limit = URGENCY["general"]
        return code, 0.5, limit

    def referral(self, text: object) -> Referral | None:
        """The Art. 11 referral or decline this text clearly calls for, or None. Emergencies
        first (the most urgent service wins when several match: a fire with a person trapped goes
        to 119)."""
        clean = self._prepare(text)
        if clean is None:
            return None
        hits = self._hits(clean, "referral", hedged=True)
        if not hits:
            return None
        order = ("emergency:119", "emergency:120", "emergency:110", "emergency:122")
        emergencies = [lab for lab in hits if lab.startswith("emergency:")]
        if emergencies:
            ranked = sorted(emergencies, key=lambda lab: (-sum(w for _k, w in hits[lab]),
                                                          order.index(lab) if lab in order else 9))
            chosen = {ranked[0]: hits[ranked[0]]}
        else:
            chosen = hits
        label, _score, conf, words = self._best(chosen)
        outcome, _sep, to = label.partition(":")
        reason = REASONS.get(outcome, outcome).format(to=to)
        return Referral(outcome=outcome, referred_to=to, reason=reason, words=words,
                        confidence=round(max(conf, 0.5), 4))


def _check_label(n: int, target: str, label: str) -> None:
    ok = {
        "type": lambda lab: lab in TYPES,
        "urgency": lambda lab: lab in URGENCY,
        "referral": lambda lab: lab.partition(":")[0] in REASONS,
        "hedge": lambda lab: lab in ("before", "after"),
    }[target]
    if not ok(label):
        raise ValueError(f"rule {n}: label {label!r} is not valid for target {target!r}")


def read_rules_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        lines = [line for line in f if line.strip() and not line.lstrip().startswith("#")]
    return list(csv.DictReader(lines))


def load_default_rules() -> list[Rule]:
    return RuleSet.from_rows(read_rules_csv(DATA / "rules.csv")).rules


# --------------------------------------------------------------------------- categories


class KeywordCategoryClassifier:
    """The category from the catalogue's own keywords, for a cold start.

    ``categories``: ``(code, name, keywords)`` tuples or mappings with ``code``, ``name``,
    ``keywords`` (space-separated) and optionally ``leaf`` (only leaves are suggested when
    given). A category's name counts as a keyword too. Longer keywords weigh more (路灯 says less
    than 路灯不亮). Confidence is capped at ``max_confidence``: keywords alone should propose,
    not dispatch.
    """

    def __init__(self, categories: Iterable[Sequence[Any] | Mapping[str, Any]], max_confidence: float = 0.8) -> None:
        self.max_confidence = max_confidence
        self.keywords: dict[str, list[str]] = {}
        self.classes: list[str] = []
        for row in categories:
            if isinstance(row, Mapping):
                code, name, kws = row.get("code"), row.get("name"), row.get("keywords")
                if row.get("leaf") is False:
                    continue
            else:
                code, name, kws = (list(row) + ["", ""])[:3]
            if not code:
                continue
            words = {w.lower() for w in re.split(r"[\s,，、]+", str(kws or "")) if len(w) >= 2}
            if name and len(str(name)) >= 2:
                words.add(str(name).lower())
            if words:
                code = str(code)
                self.classes.append(code)
                for w in words:
                    self.keywords.setdefault(w, []).append(code)
        self._matcher = Matcher(self.keywords)

    @overload
    def predict(self, texts: str) -> Prediction: ...  # type: ignore[overload-overlap]

    @overload
    def predict(self, texts: Sequence[str]) -> list[Prediction]: ...

    def predict(self, texts: str | Sequence[str]) -> Prediction | list[Prediction]:
        if isinstance(texts, str):
            return self._one(texts)
        return [self._one(t) for t in texts]

    def _one(self, text: object) -> Prediction:
        clean = _prepare(text)
        if clean is None:
            return Prediction(label="", confidence=0.0)
        scores: dict[str, float] = {}
        words: dict[str, list[str]] = {}
        for word in {w for w, _pos in self._matcher.find(clean)}:
            owners = self.keywords[word]
            weight = min(len(word), 4) / 2 / len(owners)  # a word shared by many says less
            for code in owners:
                scores[code] = scores.get(code, 0.0) + weight
                words.setdefault(code, []).append(word)
        if not scores:
            return Prediction(label="", confidence=0.0)
        total = sum(scores.values())
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        # score/(total+1): a lone weak hit stays unsure; agreement among hits raises it.
        alts = [(code, round(min(self.max_confidence, s / (total + 1.0)), 4)) for code, s in ranked[:10]]
        best = ranked[0][0]
        return Prediction(
            label=best, confidence=alts[0][1], alternatives=alts,
            words=sorted(words[best], key=lambda w: (-len(w), w)),
        )
