"""Name matching for Vietnamese names: one key per name, equal across Unicode forms, tone placement and case.

"Hoá" and "Hóa", "Thuỵ" and "Thụy", NFC and NFD spellings, and "THANH  hóa" all
give the same key, while different tones ("Hòa" and "Hóa") stay different.
The tone mark of each word is lifted off its vowel and appended to the word,
so where it was placed no longer matters.
"""

from __future__ import annotations

import re
import unicodedata

from config.errors import invalid

# The five Vietnamese tone marks as combining characters: grave, acute, hook above, tilde, dot below.
_TONES = {"\u0300": "1", "\u0301": "2", "\u0309": "3", "\u0303": "4", "\u0323": "5"}
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"\s+")


def clean_name(value: str) -> str:
    """The stored form of a name: NFC, no invisible characters, single spaces, trimmed."""
    value = _INVISIBLE.sub("", value)
    value = _SPACES.sub(" ", value).strip()
    return unicodedata.normalize("NFC", value)


def validate_name(raw: str | None, *, field: str, max_length: int, messages: tuple) -> str:
    """The cleaned name, or a DomainError on `field` with messages (when blank, when over max_length: %(max)d)."""
    blank, too_long = messages
    name = clean_name(raw or "")
    # The messages may be lazy: a bulk import validates thousands of names and translates only the failures.
    if not name:
        raise invalid(**{field: str(blank)})
    if len(name) > max_length:
        raise invalid(**{field: str(too_long) % {"max": max_length}})
    return name


def _word_key(word: str) -> str:
    tone = ""
    base = []
    for char in unicodedata.normalize("NFD", word):
        if char in _TONES:
            tone = _TONES[char]
        else:
            base.append(char)
    return unicodedata.normalize("NFC", "".join(base)) + tone


def name_key(value: str) -> str:
    """The matching key of a name: casefolded, tone marks moved to the end of each word."""
    cleaned = clean_name(value).casefold()
    return " ".join(_word_key(word) for word in cleaned.split(" ") if word)


def fold(value: str) -> str:
    """Strip every diacritic and đ, for tone-less search ("thanh hoa" finds "Thanh Hóa")."""
    decomposed = unicodedata.normalize("NFD", clean_name(value).casefold().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def has_diacritics(value: str) -> bool:
    return fold(value) != clean_name(value).casefold()
