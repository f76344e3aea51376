"""The text types' JSON Schema patterns say exactly what their validators refuse, so a
client's generator (or schemathesis) makes only text the server takes."""

import re
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from rapport_common.web.inputs import MultiLine, OpaqueText, SingleLine

# Every character up to the CJK block, the separators and bidi controls among them;
# lone surrogates are not Unicode code points, so no pattern speaks of them.
CHARACTERS = [chr(code) for code in range(0x3000)]


@pytest.mark.parametrize("text_type", [SingleLine, MultiLine, OpaqueText])
def test_a_text_type_s_pattern_refuses_what_its_validator_refuses(text_type: Any) -> None:
    adapter: TypeAdapter[str] = TypeAdapter(text_type)
    pattern = re.compile(adapter.json_schema()["pattern"])
    disagreements = []
    for character in CHARACTERS:
        text = f"a{character}b"
        try:
            adapter.validate_python(text)
            accepted = True
        except ValidationError:
            accepted = False
        if accepted != bool(pattern.fullmatch(text)):
            disagreements.append(f"U+{ord(character):04X}")
    assert disagreements == []


def test_the_one_line_pattern_names_nul_controls_and_line_separators() -> None:
    pattern = TypeAdapter(SingleLine).json_schema()["pattern"]
    assert all(escape in pattern for escape in ("\\u0000", "\\u001f", "\\u2028", "\\u2029"))
