"""Write the TypeScript types of Rapport's API (rapport.d.ts) from the OpenAPI document
the API serves, built here from ``create_app()``: `make client` runs it after a change
to the contract, and tests/test_typescript_client.py checks the committed file is what
it writes. openapi-typescript comes from this folder's package-lock.json (make install).

    .venv/bin/python clients/typescript/generate.py [--output FILE]
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
ROOT = FOLDER.parent.parent
GENERATOR = FOLDER / "node_modules" / ".bin" / "openapi-typescript"
TYPES = FOLDER / "rapport.d.ts"


def document() -> dict[str, object]:
    sys.path.insert(0, str(ROOT))
    # Imported once the repository is on the path: the script runs from anywhere.
    from services.api.main import create_app

    spec: dict[str, object] = create_app().openapi()
    return spec


def generate(output: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "openapi.json"
        spec.write_text(json.dumps(document(), indent=2), encoding="utf-8")
        subprocess.run(  # noqa: S603 (the pinned generator on our own document)
            [str(GENERATOR), str(spec), "--output", str(output)],
            check=True,
            capture_output=True,
            text=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=TYPES)
    generate(parser.parse_args().output)


if __name__ == "__main__":
    main()
