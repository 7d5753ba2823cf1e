"""Sentiment of customer feedback text in Chinese and English, as Polars expressions.

A compact lexicon (``sentiment_lexicon.yaml``) counted with vectorised string expressions: no
Python loop over rows, no per-row UDF, no model to download. The text goes through a fixed
sequence of whole-column string passes:

1. **Fold** full-width ASCII to half-width (what NFKC would do for it; Polars has no NFKC),
   curly quotes and dashes to ASCII, traditional characters of the lexicon to simplified, control
   characters to spaces; then lowercase.
2. **Aliases**: blank out look-alikes (``不好意思``, ``差不多``, ``快递``, ``有没有``), rewrite
   ``n't`` to `` not`` and ``好`` used as "very" (``好慢``) to ``很``.
3. **Pad** every ASCII word with spaces, so English entries match whole words only.
4. **Negation**: a negator, a few function words at most, then an entry flips it:
   ``不太满意`` / ``not very good`` count as a strong negative, ``没有问题`` / ``not bad`` as a
   weak positive. Complaint words (退款, refund) are never flipped.
5. **Entries**: one leftmost-longest pass (``replace_many``) over all entries, intensifiers
   (``很``, ``太``, ``very``) and contrast words (``但是``, ``but``), so ``差评`` wins over ``差``
   and ``太值`` over ``太``.

Every hit is replaced by marker characters, one per half hit; an intensifier becomes a boost
marker, worth half a hit when it stands right before a hit ("很好", "太慢", "非常不满意"). The score
is computed from how many of each marker a text holds:

    P, N  = positive and negative hits (strong 1, weak 0.5, intensified +0.5), with hits after the
            last contrast word (但是, but) weighted 1.5 and those before it 0.5 (VADER's "but" rule,
            Hutto & Gilbert 2014)
    score = (P - N) / (P + N + 1)

The ``+ 1`` damps thin evidence: one plain hit scores ±0.5, a weak one ±0.33, three ±0.75; the
score stays inside (-1, 1). It is null when the text is null, blank or has no hit at all, so the
caller can tell "no opinion" from "mixed" (0.0).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

import polars as pl
import yaml

from tierwise.errors import ConfigError

LEXICON_FILE: Final = "sentiment_lexicon.yaml"

# Marker characters written in place of hits. Control characters cannot survive step 1 (it turns
# them into spaces), so a marker always comes from the lexicon. One _POS or _NEG is half a hit.
# Replacements carry no spaces, so "很好" and " very  good " both become _BOOST right before _POS.
_POS: Final = "\x01"
_NEG: Final = "\x02"
_CONTRAST: Final = "\x03"
_BOOST: Final = "\x04"

_EN_ENTRY = re.compile(r"[a-z0-9]+(?: [a-z0-9]+)*")
_ASCII_WORD_CHAR = re.compile(r"[a-zA-Z0-9\s]")

# (section, strength) -> markers written for a hit of that kind
_CLASSES: Final = {
    ("positive", "strong"): _POS * 2,
    ("positive", "weak"): _POS,
    ("negative", "strong"): _NEG * 2,
    ("negative", "weak"): _NEG,
}
_COMPLAINT: Final = _NEG * 2
# A negated negative is mild praise ("not bad", "没问题"); a negated positive is a clear complaint
# ("不满意", "not good"), as in most lexicon systems (e.g. VADER's negation scalar).
_NEGATED_NEGATIVE: Final = _POS
_NEGATED_POSITIVE: Final = _NEG * 2


@dataclass(frozen=True)
class _Compiled:
    """Everything ``sentiment_expr`` needs, built once from the lexicon."""

    fold_from: list[str]
    fold_to: list[str]
    alias_from: list[str]
    alias_to: list[str]
    negated_positive: str
    negated_negative: str
    entry_from: list[str]
    entry_to: list[str]


def sentiment_expr(text: pl.Expr) -> pl.Expr:
    """Sentiment score in [-1, 1] of a string column (Float64; null without any signal).

    >>> import polars as pl
    >>> df = pl.DataFrame({"t": ["质量很好，下次还会买", "not happy with the delay", "订单号123"]})
    >>> df.select(sentiment_expr(pl.col("t")).round(2))["t"].to_list()
    [0.71, -0.67, None]
    """
    c = _compiled()
    markers = (
        text.cast(pl.String)
        .str.replace_many(c.fold_from, c.fold_to)
        .str.to_lowercase()
        .str.replace_many(c.alias_from, c.alias_to, leftmost=True)
        # " very  good  product ": two spaces between words, so entries can demand their own.
        .str.replace_all(r"[\s\-]*([a-z0-9]+)[\s\-]*", " ${1} ")
        .str.replace_all(c.negated_positive, _NEGATED_POSITIVE)
        .str.replace_all(c.negated_negative, _NEGATED_NEGATIVE)
        .str.replace_many(c.entry_from, c.entry_to, leftmost=True)
    )
    # A struct binds the marker string once: every count below reads the field instead of
    # re-running the passes above (Polars does not reliably share repeated sub-expressions).
    m = pl.field("m")
    tail = m.str.extract(r"\x03([^\x03]*)$", 1).fill_null("")  # after the last _CONTRAST
    head_weight = pl.when(m.str.contains(_CONTRAST, literal=True)).then(0.5).otherwise(1.0)

    def hits(marker: str) -> pl.Expr:
        def units(s: pl.Expr) -> pl.Expr:
            plain = s.str.count_matches(marker, literal=True)
            boosted = s.str.count_matches(_BOOST + marker, literal=True)
            return (plain + boosted).cast(pl.Float64)

        whole, after = units(m), units(tail)
        return (head_weight * (whole - after) + 1.5 * after) / 2.0

    pos, neg = pl.field("pos"), pl.field("neg")
    score = pl.when(pos + neg > 0).then((pos - neg) / (pos + neg + 1.0)).otherwise(None)
    return (
        pl.struct(markers.alias("m"))
        .struct.with_fields(pos=hits(_POS), neg=hits(_NEG))
        .struct.with_fields(score=score)
        .struct.field("score")
        .alias(text.meta.output_name(raise_if_undetermined=False) or "sentiment")
    )


def sentiment_label(score: pl.Expr, *, pos: float = 0.2, neg: float = -0.2) -> pl.Expr:
    """``'positive'`` (score >= pos), ``'negative'`` (score <= neg), ``'neutral'`` or null.

    >>> import polars as pl
    >>> df = pl.DataFrame({"s": [0.5, 0.0, -0.33, None]})
    >>> df.select(sentiment_label(pl.col("s")))["s"].to_list()
    ['positive', 'neutral', 'negative', None]
    """
    if not -1.0 <= neg < pos <= 1.0:
        raise ConfigError(
            f"sentiment_label thresholds must satisfy -1 <= neg < pos <= 1 (got neg={neg}, "
            f"pos={pos}). Pass e.g. pos=0.2, neg=-0.2."
        )
    s = pl.field("s")
    label = (
        pl.when(s >= pos)
        .then(pl.lit("positive"))
        .when(s <= neg)
        .then(pl.lit("negative"))
        .when(s.is_not_null())
        .then(pl.lit("neutral"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    # Bound once through a struct, so an expensive `score` (sentiment_expr) is computed once.
    return (
        pl.struct(score.alias("s"))
        .struct.with_fields(label=label)
        .struct.field("label")
        .alias(score.meta.output_name(raise_if_undetermined=False) or "sentiment")
    )


# --- building the passes from the lexicon ---------------------------------------------------


@functools.cache
def _compiled() -> _Compiled:
    raw = resources.files("tierwise.features").joinpath(LEXICON_FILE).read_text(encoding="utf-8")
    return _compile(yaml.safe_load(raw))


def _compile(lex: Any) -> _Compiled:
    if not isinstance(lex, dict) or lex.get("version") != 1:
        raise ConfigError(f"{LEXICON_FILE}: expected a mapping with 'version: 1'.")
    entries = _entries(lex)

    fold = _fold_table(_mapping(lex, "traditional"))
    aliases = _aliases(lex, entries)

    zh_neg = _section(lex, "negation", "zh")
    en_neg = _section(lex, "negation", "en")

    def negation(polarity: str, *, zh_extra: Iterable[str] = ()) -> str:
        zh = [*entries[(polarity, "strong", "zh")], *entries[(polarity, "weak", "zh")], *zh_extra]
        en = [*entries[(polarity, "strong", "en")], *entries[(polarity, "weak", "en")]]
        return f"{_zh_negation(zh_neg, zh)}|{_en_negation(en_neg, en)}"

    # One replace_many over every entry: patterns are tried longest first, so at any position the
    # longest entry wins whatever its class ("差评" over "差", "no complaints" over "complaints").
    table: dict[str, str] = {}
    where: dict[str, str] = {}

    def add(pattern: str, markers: str, place: str) -> None:
        if pattern in table and table[pattern] != markers:
            raise ConfigError(
                f"{LEXICON_FILE}: {pattern.strip()!r} is in both {where[pattern]} and {place}. "
                "Keep it in one of them."
            )
        table[pattern], where[pattern] = markers, place

    for (polarity, strength, lang), items in entries.items():
        markers = _COMPLAINT if polarity == "complaint" else _CLASSES[(polarity, strength)]
        for item in items:
            place = f"{polarity}.{strength}.{lang}" if strength else f"{polarity}.{lang}"
            add(_pad(item) if lang == "en" else item, markers, place)
    for section, marker in (("contrast", _CONTRAST), ("intensifiers", _BOOST)):
        for lang in ("zh", "en"):
            for word in _strings(lex, section, lang):
                add(_pad(word) if lang == "en" else word, marker, f"{section}.{lang}")
    entry_from = sorted(table, key=lambda p: (-len(p), p))

    return _Compiled(
        fold_from=list(fold),
        fold_to=list(fold.values()),
        alias_from=list(aliases),
        alias_to=list(aliases.values()),
        # Chinese has no word boundaries, so "没有差评" would read as 没有 + 差 (not bad) + 评:
        # a negated complaint is matched first and stays a complaint (same markers as
        # _NEGATED_POSITIVE). English complaints need no such guard: entries end at a space.
        negated_positive=negation("positive", zh_extra=entries[("complaint", "", "zh")]),
        negated_negative=negation("negative"),
        entry_from=entry_from,
        entry_to=[table[p] for p in entry_from],
    )


def _fold_table(traditional: Mapping[str, str]) -> dict[str, str]:
    """Single characters to replace before lowercasing."""
    fold = {chr(cp): unicodedata.normalize("NFKC", chr(cp)) for cp in range(0xFF01, 0xFF5F)}
    fold |= {"\u3000": " ", "\u00a0": " ", "‘": "'", "’": "'", "‛": "'", "′": "'", "“": '"'}
    fold |= {"”": '"', "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "－": "-"}
    fold |= {"\u200b": "", "\u200c": "", "\ufeff": ""}
    fold |= {chr(cp): " " for cp in [*range(0x00, 0x20), 0x7F]}
    for source, target in traditional.items():
        if len(source) != 1 or len(target) != 1 or source == target:
            raise ConfigError(
                f"{LEXICON_FILE}: traditional.{source} must map one character to another "
                f"(got {target!r})."
            )
        fold[source] = target
    return fold


def _aliases(
    lex: Mapping[str, Any], entries: Mapping[tuple[str, str, str], list[str]]
) -> dict[str, str]:
    """Literal replacements before negation: generated 好-rewrites, then the lexicon's own."""
    zh_entries = {e for (_p, _s, lang), items in entries.items() if lang == "zh" for e in items}
    # "好慢" is "so slow", "好喜欢" is "really like": 好 right before an entry is an intensifier.
    aliases = {"好" + e: "很" + e for e in zh_entries if "好" + e not in zh_entries}
    aliases |= dict.fromkeys(_strings(lex, "aliases", "neutral"), " ")
    aliases |= _mapping(lex, "aliases", "rewrite")
    return {k: aliases[k] for k in sorted(aliases, key=lambda p: (-len(p), p))}


def _entries(lex: Mapping[str, Any]) -> dict[tuple[str, str, str], list[str]]:
    """(polarity, strength, lang) -> entries; lang is zh, en or symbols, strength '' for complaint."""
    out: dict[tuple[str, str, str], list[str]] = {}
    for polarity in ("positive", "negative"):
        for strength in ("strong", "weak"):
            for lang in ("zh", "en", "symbols"):
                out[(polarity, strength, lang)] = _strings(lex, polarity, strength, lang)
    for lang in ("zh", "en"):
        out[("complaint", "", lang)] = _strings(lex, "complaint", lang)
    return out


def _zh_negation(spec: Mapping[str, Any], terms: Iterable[str]) -> str:
    negators = _alternation(_strings(spec, "negators", where="negation.zh"))
    fillers = _alternation(_strings(spec, "fillers", where="negation.zh"))
    n = _int(spec, "max_fillers", "negation.zh")
    return f"(?:{negators})(?:{fillers}){{0,{n}}}(?:{_alternation(terms)})"


def _en_negation(spec: Mapping[str, Any], terms: Iterable[str]) -> str:
    # On padded text: " not  very  good " -- every word has a space of its own on each side.
    negators = _alternation(_strings(spec, "negators", where="negation.en"))
    fillers = _alternation(_strings(spec, "fillers", where="negation.en"))
    n = _int(spec, "max_fillers", "negation.en")
    padded_terms = [_pad(t).strip() for t in terms]
    return f" (?:{negators})(?:  (?:{fillers})){{0,{n}}}  (?:{_alternation(padded_terms)}) "


def _pad(phrase: str) -> str:
    """An English entry as it appears in padded text: ``"worth it"`` -> ``" worth  it "``."""
    return " " + "  ".join(phrase.split(" ")) + " "


def _alternation(words: Iterable[str]) -> str:
    # Longest first: the regex engine takes the first alternative that matches, not the longest.
    unique = sorted(set(words), key=lambda w: (-len(w), w))
    return "|".join(re.escape(w).replace(r"\ ", " ") for w in unique)


def _section(lex: Mapping[str, Any], *path: str) -> Mapping[str, Any]:
    node: Any = lex
    for i, key in enumerate(path):
        if not isinstance(node, dict) or key not in node:
            raise ConfigError(f"{LEXICON_FILE}: missing key {'.'.join(path[: i + 1])}.")
        node = node[key]
    if not isinstance(node, dict):
        raise ConfigError(f"{LEXICON_FILE}: {'.'.join(path)} must be a mapping.")
    return node


def _mapping(lex: Mapping[str, Any], *path: str) -> dict[str, str]:
    node = _section(lex, *path)
    bad = [k for k, v in node.items() if not isinstance(k, str) or not isinstance(v, str)]
    if bad:
        raise ConfigError(f"{LEXICON_FILE}: {'.'.join(path)}.{bad[0]} must map text to text.")
    return dict(node)


def _strings(lex: Mapping[str, Any], *path: str, where: str = "") -> list[str]:
    """The list at ``path``, checked for the form its language needs."""
    node: Any = _section(lex, *path[:-1]) if len(path) > 1 else lex
    name = ".".join(filter(None, [where, *path]))
    items = node.get(path[-1])
    if not isinstance(items, list):
        raise ConfigError(f"{LEXICON_FILE}: {name} must be a list.")
    lang = path[-1]
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item:
            # YAML reads a bare `no` as False and `12315` as a number: quote them.
            raise ConfigError(f"{LEXICON_FILE}: {name}[{i}] must be quoted text (got {item!r}).")
        english = lang == "en" or where.endswith(".en")
        if english and not _EN_ENTRY.fullmatch(item):
            raise ConfigError(
                f"{LEXICON_FILE}: {name}[{i}] {item!r} must be lowercase ASCII words separated "
                "by single spaces (apostrophes and hyphens are removed before matching)."
            )
        if lang in ("zh", "symbols") and not where and _ASCII_WORD_CHAR.search(item):
            raise ConfigError(
                f"{LEXICON_FILE}: {name}[{i}] {item!r} holds ASCII letters, digits or spaces; "
                "put it under en."
            )
    return list(items)


def _int(spec: Mapping[str, Any], key: str, where: str) -> int:
    value = spec.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 6:
        raise ConfigError(f"{LEXICON_FILE}: {where}.{key} must be a whole number 0..6.")
    return value
