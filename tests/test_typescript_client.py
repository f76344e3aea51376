"""The TypeScript types front ends generate from the API's OpenAPI document: the
committed clients/typescript/rapport.d.ts is what openapi-typescript (pinned in
clients/typescript/package-lock.json) makes of the live document, so a change to the
contract shows in review; a small client typed by it compiles under `tsc --strict`; and
nothing the API answers with a known shape is `unknown` to TypeScript."""

import re
import subprocess
import sys
from pathlib import Path

FOLDER = Path(__file__).resolve().parent.parent / "clients" / "typescript"
TYPES = FOLDER / "rapport.d.ts"
# Where `unknown` is right: openapi-typescript lets every response carry headers besides
# the declared ones, and a problem document may carry extension members (RFC 9457).
DOCUMENTED_UNKNOWNS = {"[name: string]: unknown;", "[key: string]: unknown;"}


def test_the_committed_types_are_those_of_the_live_document(tmp_path: Path) -> None:
    fresh = tmp_path / "rapport.d.ts"
    subprocess.run(  # noqa: S603 (our own script)
        [sys.executable, str(FOLDER / "generate.py"), "--output", str(fresh)],
        check=True,
        capture_output=True,
        text=True,
    )
    assert fresh.read_text(encoding="utf-8") == TYPES.read_text(encoding="utf-8"), (
        "the API's contract changed: run `make client` and commit clients/typescript/rapport.d.ts"
    )


def test_a_client_typed_by_them_compiles_under_strict() -> None:
    compiled = subprocess.run(  # noqa: S603 (the pinned compiler on our own files)
        [str(FOLDER / "node_modules" / ".bin" / "tsc"), "--strict", "--noEmit", "-p", "."],
        cwd=FOLDER,
        capture_output=True,
        text=True,
        check=False,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr


def test_nothing_with_a_known_shape_is_unknown() -> None:
    unknowns = [
        line.strip()
        for line in TYPES.read_text(encoding="utf-8").splitlines()
        if re.search(r"\bunknown\b", line) and not line.strip().startswith(("/**", "*"))
    ]
    assert unknowns, "the generator no longer writes the documented index signatures"
    assert set(unknowns) <= DOCUMENTED_UNKNOWNS
    assert unknowns.count("[key: string]: unknown;") == 1  # ProblemDetails alone
