"""What a support agent types into the search box, and how names and addresses
are folded so that they match loosely."""

from __future__ import annotations

import re
from dataclasses import dataclass

from webapp.domain.phone import PhoneError, normalise_phone

# Words that say what kind of place follows ("ул. Ленина, д. 5"). They are in
# almost every address, so they tell nothing apart and only slow matching down.
ADDRESS_WORDS = frozenset({
    "ул", "улица", "пр", "просп", "проспект", "пер", "переулок", "бул", "бульвар", "ш",
    "шоссе", "наб", "набережная", "пл", "площадь", "туп", "тупик", "проезд", "мкр", "мкрн",
    "микрорайон", "д", "дом", "к", "корп", "корпус", "стр", "строение", "кв", "квартира",
    "оф", "офис", "г", "город", "пос", "поселок", "пгт", "с", "село", "дер", "деревня", "обл",
    "область", "р", "н", "рн", "район", "респ", "республика", "край", "ао",
})  # fmt: skip
WORD = re.compile(r"[^\W_]+")
PHONE_LIKE = re.compile(r"[\d\s()+\-.]+")
RECEIPT_NUMBER = re.compile(r"HO-[0-9A-Z]{4}-[0-9A-Z]{4}")
MIN_PHONE_DIGITS = 10
MIN_FUZZY_CHARACTERS = 3
# How much of the query must be found in a name or address (0..1).
SIMILARITY_THRESHOLD = 0.5


def words_of(text: str) -> list[str]:
    """Return the words that identify a name or an address, folded for comparison."""
    folded = text.casefold().replace("ё", "е")
    return [w for w in WORD.findall(folded) if w not in ADDRESS_WORDS]


def searchable_text(*parts: str) -> str:
    """Return the text a handover is found by: its name and address, folded."""
    return " ".join(w for part in parts for w in words_of(part))


def trigrams(text: str) -> frozenset[str]:
    """Return the trigrams of each word, padded as pg_trgm pads them: "  w", " wo", "wor", "rd "."""
    grams = set()
    for word in text.split():
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(grams)


def similarity(query: frozenset[str], document: str) -> float:
    """Return the share of the query's trigrams that the document holds, in any word order."""
    if not query:
        return 0.0
    return len(query & trigrams(document)) / len(query)


def fragments(word: str) -> tuple[str, ...]:
    """Return the pieces to look a word up by, padded as the index pads words
    ("  word "): a document that has the word, even with one letter typed wrong,
    holds at least one of them.

    Short words must be found whole ("5" is a house, not part of "15"); a word
    of three to five letters may be the start of a longer one ("Ленин");
    longer words are split in two, and one typo spoils at most one half.
    """
    if len(word) < 3:
        return (f"  {word} ",)
    if len(word) < 6:
        return (f"  {word}",)
    half = len(word) // 2
    return (f"  {word[:half]}", f"{word[half:]} ")


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
    fuzzy = searchable_text(text)
    has_letters = any(c.isalpha() for c in fuzzy)
    if not has_letters or len(fuzzy.replace(" ", "")) < MIN_FUZZY_CHARACTERS:
        fuzzy = ""
    return Query(text, tuple(sorted(i for i in identifiers if i)), phone, fuzzy)
