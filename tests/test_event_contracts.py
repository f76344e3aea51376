"""The documented contracts stay true: events, migrations and the OpenAPI spec."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from rapport_common.events import EVENT_PAYLOADS
from rapport_common.models import metadata
from rapport_common.settings import Settings
from services.api.main import create_app

DOCS = Path(__file__).parent.parent / "docs" / "events.md"


def test_every_event_type_is_documented() -> None:
    documented = DOCS.read_text()
    missing = [
        f"{kind} v{version}"
        for kind, version in EVENT_PAYLOADS
        if f"| `{kind}` | {version} |" not in documented
    ]
    assert missing == []


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )
    assert differences == []


def test_every_error_in_the_openapi_spec_is_problem_json(settings: Settings) -> None:
    spec = create_app(settings).openapi()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            errors = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
            assert "422" in errors, f"{method} {path} does not document 422"
            for status, response in errors.items():
                assert list(response.get("content", {})) == ["application/problem+json"], (
                    f"{method} {path} {status}"
                )
