"""The email templates (``templates/``), rendered with Jinja2: each kind's message as an
HTML fragment and its plain-text twin, and the base layout around them.

A kind's template (``templates/kinds/<kind>.jinja``) is one file for both formats: it
arranges the catalogue's phrases and the facts with the macros of ``parts.html`` or
``parts.txt`` (the same names), so the text part says what the HTML part says, link for
link. The HTML is rendered with autoescaping, so member-written text arrives as text.
The layout's CSS is inlined into the elements by css-inline for the mail clients that
drop ``<style>``; the media queries (narrow screens, dark mode) stay in a kept
``<style>`` for the clients that read it.
"""

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound
from markupsafe import Markup

FOLDER = Path(__file__).parent / "templates"
# A kind without a template of its own (a kind added to the catalogue alone) still
# reads well: heading, paragraphs and its button.
GENERIC = "kinds/_generic.jinja"
_BLANK_LINES = re.compile(r"\n{3,}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_INLINER = css_inline.CSSInliner(load_remote_stylesheets=False)


@cache
def _environment(html: bool) -> Environment:
    return Environment(
        loader=FileSystemLoader(FOLDER),
        # The text part is not HTML: escaping it would show &lt; to the reader.
        autoescape=html,  # noqa: S701
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # The templates ship with the code: no file check on every use.
        auto_reload=False,
    )


@cache
def kind_template(kind: str) -> str:
    """The template file of ``kind``, the generic one if it has none."""
    name = f"kinds/{kind}.jinja"
    try:
        _environment(True).get_template(name)
    except TemplateNotFound:
        return GENERIC
    return name


def tidy_text(text: str) -> str:
    """Plain text as a mail client shows it best: no trailing spaces, at most one blank
    line between paragraphs."""
    return _BLANK_LINES.sub("\n\n", _TRAILING_SPACE.sub("\n", text)).strip()


def render_kind(kind: str, context: Mapping[str, Any]) -> tuple[str, str]:
    """``kind``'s message: (HTML fragment, plain text)."""
    name = kind_template(kind)
    html = _environment(True).get_template(name).render(parts="parts.html", **context)
    text = _environment(False).get_template(name).render(parts="parts.txt", **context)
    return html.strip(), tidy_text(text)


def render_layout(context: Mapping[str, Any], content_html: str) -> tuple[str, str]:
    """The whole email around a message: (HTML document with its CSS inlined, text);
    ``context["content"]`` is the message's text. ``content_html`` was rendered by
    ``render_kind`` (escaped there), so it goes in as it is."""
    html = (
        _environment(True)
        .get_template("base.html")
        .render(
            {**context, "content": Markup(content_html)}  # noqa: S704 (escaped by render_kind)
        )
    )
    text = _environment(False).get_template("base.txt").render(**context)
    # Not tidied line by line: the signature separator is "-- " with its space.
    return _INLINER.inline(html), _BLANK_LINES.sub("\n\n", text).strip() + "\n"
