"""Small HTML pages for the links in emails (verify an address, reset a password,
unsubscribe...): a title, a few paragraphs and at most one form, every text escaped.

A link's GET only shows the page; its form's POST acts. Mail scanners and link previews
fetch links, and must not spend a token or change a setting by doing so.
"""

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from fastapi.responses import HTMLResponse

# Tokens travel in these pages' addresses: no referrer leaves them, no cache keeps them,
# and nothing but the page's own form and inline style may run.
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;"
    "line-height:1.5;color:#222}label{display:block;margin:.8rem 0 .2rem}"
    "input{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box}"
    "button{margin-top:1rem;font-size:1rem;padding:.5rem 1.2rem}"
)


@dataclass(frozen=True)
class Field:
    """One input of a form; ``hidden`` ones carry a value (a token) to the POST."""

    name: str
    kind: Literal["hidden", "password", "email", "text"] = "hidden"
    value: str = ""
    label: str = ""
    autocomplete: str | None = None
    min_length: int | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class Form:
    action: str
    button: str
    fields: Sequence[Field] = ()


def _field(field: Field) -> str:
    attributes = {
        "type": field.kind,
        "name": field.name,
        "id": field.name,
        "value": field.value if field.kind == "hidden" else None,
        "autocomplete": field.autocomplete,
        "minlength": None if field.min_length is None else str(field.min_length),
        "maxlength": None if field.max_length is None else str(field.max_length),
    }
    written = " ".join(
        f'{name}="{html.escape(value)}"' for name, value in attributes.items() if value is not None
    )
    required = "" if field.kind == "hidden" else " required"
    tag = f"<input {written}{required}>"
    if field.kind == "hidden" or not field.label:
        return tag
    return f'<label for="{html.escape(field.name)}">{html.escape(field.label)}</label>{tag}'


def render(
    title: str, paragraphs: Sequence[str], form: Form | None = None, status_code: int = 200
) -> HTMLResponse:
    """The page, every text escaped; ``paragraphs`` are plain text."""
    body = "".join(f"<p>{html.escape(paragraph)}</p>" for paragraph in paragraphs)
    if form is not None:
        inputs = "".join(_field(field) for field in form.fields)
        body += (
            f'<form method="post" action="{html.escape(form.action)}">{inputs}'
            f'<button type="submit">{html.escape(form.button)}</button></form>'
        )
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · Rapport</title><style>{STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status_code, headers=HEADERS)
