"""Decline note templates: bare ``{placeholder}`` fields, filled in without ``str.format``.

A format spec, a conversion, an attribute or an index would let a template fail at every
invitation (``{inviter_first_name:d}``) or grow without bound
(``{inviter_first_name:>1000000000}``), so none is accepted; and a template stored before
this rule is rendered only if it keeps it.
"""

import string
from collections.abc import Mapping

PLACEHOLDERS = ("inviter_first_name", "my_first_name")
_HINT = "use {inviter_first_name} or {my_first_name}"


def template_error(template: str) -> str | None:
    """What is wrong with ``template``, for a person to read; None when it may be used."""
    try:
        fields = [
            (name, spec, conversion)
            for _, name, spec, conversion in string.Formatter().parse(template)
            if name is not None
        ]
    except ValueError as exc:
        return (
            f"the note template is malformed: {exc}; {_HINT}, and write a literal brace "
            "as {{ or }}"
        )
    unknown = sorted({name for name, _, _ in fields if name not in PLACEHOLDERS})
    if unknown:
        return f"unknown placeholders {unknown}; {_HINT}"
    if any(spec or conversion for _, spec, conversion in fields):
        return (
            "placeholders are bare names, without a format spec or conversion "
            f"(nothing after ':' or '!'); {_HINT}"
        )
    return None


def render(template: str, values: Mapping[str, str], max_length: int, fallback: str) -> str:
    """``template`` with its placeholders filled in, cut to ``max_length``; ``fallback``
    (which keeps the rules) in its place when ``template`` breaks them."""
    if template_error(template) is not None:
        assert template_error(fallback) is None, "the fallback must keep the rules"
        template = fallback
    text = "".join(
        literal + (values[name] if name is not None else "")
        for literal, name, _, _ in string.Formatter().parse(template)
    )
    return text if len(text) <= max_length else text[: max_length - 1] + "…"
