"""The message catalogue: every text a notification says, per language, in one place.

Each language is a TOML file in this folder named by its BCP 47 tag (``en.toml``,
``pt-BR.toml``...); a file dropped here is picked up without a code change. English is
complete; another language may lack kinds, which then read in English. A member's
locale is matched exactly, then by its language alone (``pt-BR`` → ``pt``), then English.
A table whose name starts with ``_`` is not a kind: it holds the phrases every email
shares (``_email``: the greeting, the footer...), looked up one by one the same way.

A kind's table has its ``subject`` and ``body`` (the message as the feed shows it), and
may have more phrases its email template places: ``heading``, ``action`` (the label of
the button that acts), and any other the kind's template names. A phrase a language
lacks reads in English, the rest of the kind staying in that language.
"""

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from types import MappingProxyType

DEFAULT_LOCALE = "en"
FOLDER = Path(__file__).parent


@dataclass(frozen=True)
class Texts:
    """One kind of message in one language: ``string.Template`` sources."""

    subject: str
    body: str
    # Every other phrase of the kind (heading, action...), by name.
    phrases: Mapping[str, str] = field(default_factory=dict)


@cache
def load(folder: Path = FOLDER) -> dict[str, dict[str, Texts]]:
    """Every catalogue in ``folder``, by locale tag; read once per process."""
    catalogues: dict[str, dict[str, Texts]] = {}
    for locale, entries in _files(folder).items():
        catalogues[locale] = {
            kind: Texts(
                subject=entry["subject"],
                body=entry["body"],
                phrases=MappingProxyType(
                    {k: v for k, v in entry.items() if k not in ("subject", "body")}
                ),
            )
            for kind, entry in entries.items()
            if not kind.startswith("_")
        }
    return catalogues


@cache
def _files(folder: Path) -> dict[str, dict[str, dict[str, str]]]:
    found = {}
    for path in sorted(folder.glob("*.toml")):
        with path.open("rb") as file:
            found[path.stem] = tomllib.load(file)
    return found


def phrase(table: str, name: str, locale: str | None = None, folder: Path = FOLDER) -> str:
    """One shared phrase (``table`` starts with ``_``) in ``locale`` or the nearest
    language that has it; ``KeyError`` if English lacks it."""
    files = _files(folder)
    for candidate in _candidates(locale):
        found = files.get(candidate, {}).get(table, {}).get(name)
        if found is not None:
            return found
    return files[DEFAULT_LOCALE][table][name]


def kinds(folder: Path = FOLDER) -> frozenset[str]:
    """Every kind of message, as the default catalogue names them."""
    return frozenset(load(folder)[DEFAULT_LOCALE])


def texts(kind: str, locale: str | None = None, folder: Path = FOLDER) -> Texts:
    """``kind``'s texts in ``locale`` or the nearest language we have; ``KeyError`` for a
    kind the default catalogue does not know."""
    catalogues = load(folder)
    english = catalogues[DEFAULT_LOCALE][kind]
    for candidate in _candidates(locale):
        found = catalogues.get(candidate, {}).get(kind)
        if found is not None:
            # The heading defaults to the kind's own subject, not to English's heading.
            fallback = {k: v for k, v in english.phrases.items() if k != "heading"}
            return replace(found, phrases=MappingProxyType({**fallback, **found.phrases}))
    return english


def locales(folder: Path = FOLDER) -> list[str]:
    """Every language shipped, English first."""
    return sorted(load(folder), key=lambda tag: (tag != DEFAULT_LOCALE, tag))


def _candidates(locale: str | None) -> list[str]:
    if not locale:
        return []
    language = locale.split("-")[0]
    # Tags are matched as written first, then case-insensitively by their language.
    return [locale, language, language.lower()]
