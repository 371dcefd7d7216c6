"""Every message the code marks for translation has a Vietnamese translation in locale/vi."""

import re
from pathlib import Path

CATALOG = Path(__file__).resolve().parents[2] / "locale" / "vi" / "LC_MESSAGES" / "django.po"
ENTRY = re.compile(r'^msgid ((?:".*"\n)+)msgstr ((?:".*"\n)+)', re.MULTILINE)


def _joined(block: str) -> str:
    return "".join(re.findall(r'"(.*)"', block))


def test_catalog_has_no_untranslated_or_fuzzy_entries():
    text = CATALOG.read_text(encoding="utf-8")
    entries = [(_joined(i), _joined(s)) for i, s in ENTRY.findall(text)]
    assert len(entries) > 150
    missing = [msgid for msgid, msgstr in entries if msgid and not msgstr]
    assert missing == []
    assert "#, fuzzy\nmsgid" not in text


def test_compiled_catalog_matches_the_sources():
    """The .mo that Django reads holds every translation of the .po (compilemessages was run)."""
    import gettext

    with CATALOG.with_suffix(".mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    text = CATALOG.read_text(encoding="utf-8")
    entries = [(_joined(i), _joined(s)) for i, s in ENTRY.findall(text) if _joined(i)]
    stale = [msgid for msgid, msgstr in entries if compiled.gettext(_unescape(msgid)) != _unescape(msgstr)]
    assert stale == []


def _unescape(value: str) -> str:
    return value.encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
