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
            # An operation with no parameter and no body cannot be sent invalid input.
            if operation.get("parameters") or "requestBody" in operation:
                assert "422" in errors, f"{method} {path} does not document 422"
            else:
                assert "422" not in errors, f"{method} {path} documents a 422 it cannot give"
            for status, response in errors.items():
                assert list(response.get("content", {})) == ["application/problem+json"], (
                    f"{method} {path} {status}"
                )


# Every number in the API's schemas, and why it reveals no other member's rating
# (docs/privacy.md, "Numbers").
MY_OWN_NUMBERS = {
    ("ConnectionOut", "my_effective_rating"): "my own rating, faded",
    ("RatedContactOut", "my_effective_rating"): "my own rating, faded",
    ("WeedOutCandidate", "days_since_interaction"): "a date of my own link, not a rating",
    ("Conditions", "min_mutual_strength"): "my policy's threshold, echoed",
    ("EvaluateIn", "mutual_strengths"): "my input to try my policy on",
    ("NudgeSettingsIn", "min_fade"): "my own nudge setting",
    ("NudgeSettingsOut", "min_fade"): "my own nudge setting, echoed",
}


def _is_number(schema: object) -> bool:
    if not isinstance(schema, dict):
        return False
    if schema.get("type") == "number":
        return True
    nested = [*schema.get("anyOf", []), schema.get("items"), schema.get("additionalProperties")]
    return any(_is_number(part) for part in nested)


def test_no_response_schema_has_a_float_but_my_own(settings: Settings) -> None:
    schemas = create_app(settings).openapi()["components"]["schemas"]
    numbers = {
        (name, field)
        for name, schema in schemas.items()
        for field, part in schema.get("properties", {}).items()
        if _is_number(part)
    }
    assert numbers == set(MY_OWN_NUMBERS)
