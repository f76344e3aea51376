"""Every kind of email, rendered from its template with sample facts: the text part
says what the HTML part says, member-written text arrives as text, and no email links
to the API docs or shows a rating but the reader's own."""

import re
from html.parser import HTMLParser

import pytest

from services.notifier.notifications import catalogue, rendering
from services.notifier.notifications.messages import Recipient, compose
from services.notifier.notifications.samples import FACTS, KIND_FACTS, Sample, every_sample, sample

SAMPLES = every_sample()
URL = re.compile(r"https?://[^\s<>\"']+")


class _Visible(HTMLParser):
    """The text a reader sees in an HTML email, and the addresses its links open."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hrefs: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("style", "title", "head") or "preheader" in (found.get("class") or ""):
            self._hidden += 1
        if tag == "a" and found.get("href"):
            self.hrefs.append(str(found["href"]))
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title", "head", "div") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible(document: str) -> tuple[str, list[str]]:
    parser = _Visible()
    parser.feed(document)
    return " ".join("".join(parser.parts).split()), parser.hrefs


def _facts_of(found: Sample) -> list[str]:
    facts = {**FACTS, **KIND_FACTS.get(found.kind, {})}
    lines = []
    for value in facts.values():
        if isinstance(value, str):
            lines += [line for line in value.split("\n") if line]
    return lines


@pytest.mark.parametrize("found", SAMPLES, ids=[f"{s.locale}-{s.kind}" for s in SAMPLES])
def test_every_kinds_text_part_has_the_facts_and_links_of_its_html_part(found: Sample) -> None:
    shown, hrefs = visible(found.email.html)
    # An address shown as a fact (a webhook endpoint's) is no link in either part.
    urls = {url for url in URL.findall(found.email.text) if url not in shown}
    assert set(hrefs) == urls, found.kind
    # The facts, beside the links (an id in a link is no fact shown).
    text = found.email.text
    for href in hrefs:
        text = text.replace(href, " ")
    text = " ".join(text.split())
    for fact in _facts_of(found):
        assert (fact in shown) == (fact in text), (found.kind, fact)
    assert found.email.subject and found.email.subject in found.email.html  # the <title>
    if found.action_url is not None:
        assert found.action_url in hrefs


@pytest.mark.parametrize("found", SAMPLES, ids=[f"{s.locale}-{s.kind}" for s in SAMPLES])
def test_every_kind_has_its_template_a_language_and_no_link_to_the_api_docs(
    found: Sample,
) -> None:
    assert rendering.kind_template(found.kind) == f"kinds/{found.kind}.jinja"
    assert re.search(r'<html lang="[a-z]{2}', found.email.html)
    assert 'name="color-scheme"' in found.email.html
    assert "prefers-color-scheme: dark" in found.email.html
    for docs in ("/docs", "/redoc", "openapi"):
        assert docs not in found.email.html + found.email.text
    # Every link says where it goes: no "click here", no bare address as its label.
    for label in re.findall(r"<a [^>]*>([^<]*)</a>", found.email.html):
        assert label.strip() and not label.startswith("http") and "click here" not in label


@pytest.mark.parametrize("found", SAMPLES, ids=[f"{s.locale}-{s.kind}" for s in SAMPLES])
def test_no_email_shows_a_rating_but_the_readers_own(found: Sample) -> None:
    words = (found.email.text + found.email.html).lower()
    if found.kind == "nudge":  # "You rated Alan a 9": the reader's own rating
        assert "you rated alan turing a 9" in words
        return
    assert "rating" not in words and "rated" not in words and "/10" not in words


def test_a_note_with_markup_arrives_as_text() -> None:
    note = '<script>alert("x")</script> <b>Let\'s</b> meet & <a href="https://evil">talk</a>'
    name = '<img src=x onerror="alert(1)">'
    declined = sample("invitation_declined", note=note, invitee=name, invitee_headline="<i>")
    page = declined.email.html
    assert "<script" not in page and "<img" not in page and "<i>" not in page
    assert "https://evil" not in visible(page)[1]
    assert "&lt;script&gt;" in page and "&lt;b&gt;Let" in page
    assert note in visible(page)[0]  # the reader sees the markup as characters
    assert f"> {note}" in declined.email.text  # the text part quotes it as written
    assert declined.email.subject == f"A note from {name}"


def test_the_decline_note_puts_the_decliners_words_and_who_they_are_first() -> None:
    declined = sample("invitation_declined")
    shown, hrefs = visible(declined.email.html)
    note_at = shown.index("let's meet first")
    assert shown.index("Katherine Johnson, Mathematician at NASA") > note_at
    assert '<blockquote class="quote"' in declined.email.html
    assert hrefs == [u for u in hrefs if "email-preferences" in u]  # no button to press


def test_a_language_without_a_kinds_heading_uses_its_own_subject(tmp_path: object) -> None:
    folder = catalogue.FOLDER
    reader = Recipient("Ada", locale="en")
    message = compose("question_answered", {"inviter": "Bob"}, reader, folder)
    assert '<h1 class="heading">Bob answered your question</h1>' in message.html
