"""What a support agent types into the search box, and how names and addresses
are folded so that they match loosely."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from webapp.domain.phone import PhoneError, normalise_phone

# Words that say what kind of place follows ("ул. Ленина, д. 5"). They are in
# almost every address, so they tell nothing apart and only slow matching down.
ADDRESS_WORDS = frozenset({
    "ул", "улица", "пр", "просп", "проспект", "пер", "переулок", "бул", "бульвар", "ш", "наб",
    "пл", "туп", "мкр", "мкрн", "микрорайон", "д", "дом", "к", "корп", "корпус", "стр",
    "строение", "кв", "квартира", "оф", "офис", "г", "город", "пос", "поселок", "пгт", "с",
    "село", "дер", "деревня", "обл", "область", "р", "н", "рн", "район", "респ", "республика",
    "край", "ао",
})  # fmt: skip
# Not "набережная", "площадь", "шоссе", "проезд", "тупик": each is also a street's
# name ("ул. Набережная"), and a name must stay findable.
WORD = re.compile(r"[^\W_]+")
PHONE_LIKE = re.compile(r"[\d\s()+\-.]+")
RECEIPT_NUMBER = re.compile(r"HO-[0-9A-Z]{4}-[0-9A-Z]{4}")
MIN_PHONE_DIGITS = 10
MIN_FUZZY_CHARACTERS = 3
MAX_FUZZY_WORDS = 8  # a name and an address rarely need more; each word costs a lookup
# How much of the query must be found in a name or address (0..1).
SIMILARITY_THRESHOLD = 0.5


def words_of(text: str) -> list[str]:
    """Return the words that identify a name or an address, folded for comparison."""
    folded = text.casefold().replace("ё", "е")
    return [w for w in WORD.findall(folded) if w not in ADDRESS_WORDS]


def searchable_text(*parts: str) -> str:
    """Return the text a handover is found by: the words of its name and address,
    folded, each with a space before and after (" анна соколова пермь ленина 5 "),
    so that " лен" finds a word's start and "ина " a word's end."""
    words = [w for part in parts for w in words_of(part)]
    return f" {' '.join(words)} " if words else ""


@lru_cache(maxsize=65_536)  # names and streets repeat: each word is split once
def word_trigrams(word: str) -> frozenset[str]:
    """Return a word's trigrams, padded as pg_trgm pads them: "  w", " wo", "wor", "rd "."""
    padded = f"  {word} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


def similarity(query: str, document: str) -> float:
    """Return the share of the query words' trigrams found in the document, each query
    word compared with the document word closest to it (so word order does not
    matter, and trigrams scattered over other words do not count)."""
    document_words = [word_trigrams(w) for w in document.split()]
    found = total = 0
    for word in query.split():
        grams = word_trigrams(word)
        total += len(grams)
        found += max((len(grams & other) for other in document_words), default=0)
    return found / total if total else 0.0


# Longer pieces find hardly fewer documents but cost more: each of their
# trigrams is one more list for the index to read. Ranking sorts the rest out.
MAX_PIECE = 6


def whole(word: str) -> tuple[str, ...]:
    """Return the piece that finds the word as typed: a short one whole ("5" is a
    house, not part of "15"), a longer one by its start ("ленин", "владим")."""
    return (f" {word} ",) if len(word) < 3 else (f" {word[:MAX_PIECE]}",)


def fragments(word: str) -> tuple[str, ...]:
    """Return pieces of the word such that a document holding it, even with one
    letter typed wrong, holds at least one of them: its start and its end, which
    do not overlap, so one typo spoils at most one. Every piece has at least three
    characters, as a trigram index needs."""
    if len(word) < 4:
        return whole(word)
    half = min(len(word) // 2, MAX_PIECE - 1)
    return (f" {word[:half]}", f"{word[-half:]} ")


@dataclass(frozen=True)
class Query:
    """A search as typed, and the readings of it that the database can look up."""

    text: str
    identifiers: tuple[str, ...]  # account, contract, order or receipt number
    phone: str | None  # E.164
    fuzzy: str  # folded words for names and addresses; empty when there are none

    @property
    def is_empty(self) -> bool:
        return not self.text


def parse_query(text: str) -> Query:
    """Read what the caller dictated: a number, a phone in any common format, or words."""
    text = " ".join(text.split())
    identifiers = {text, text.replace(" ", "")}
    if RECEIPT_NUMBER.fullmatch(text.upper()):
        identifiers.add(text.upper())
    phone = None
    digits = sum(c.isdigit() for c in text)
    if PHONE_LIKE.fullmatch(text) and digits >= MIN_PHONE_DIGITS:
        try:
            phone = normalise_phone(text)
        except PhoneError:
            phone = None
    words = words_of(text)[:MAX_FUZZY_WORDS]
    fuzzy = " ".join(words)
    has_letters = any(c.isalpha() for c in fuzzy)
    if not has_letters or len(fuzzy.replace(" ", "")) < MIN_FUZZY_CHARACTERS:
        fuzzy = ""
    return Query(text, tuple(sorted(i for i in identifiers if i)), phone, fuzzy)
