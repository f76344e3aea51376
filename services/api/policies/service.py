"""Reading, replacing (with optimistic concurrency) and evaluating linking policies."""

import uuid
from dataclasses import dataclass
from typing import Any

from rapport_common.models.policies import LinkingPolicy
from rapport_common.web.problems import Problem
from services.api.policies.presets import DEFAULT_PRESET, PRESETS
from services.api.policies.repository import PolicyRepository
from services.api.policies.schemas import PolicyIn
from services.api.schemas import from_storage


class PreconditionRequired(Problem):
    status, slug, title = 428, "precondition-required", "If-Match required"


class PreconditionFailed(Problem):
    status, slug, title = 412, "precondition-failed", "The policy changed meanwhile"


@dataclass(frozen=True)
class StoredPolicy:
    policy: PolicyIn
    preset: str | None
    version: int

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


async def get_policy(repository: PolicyRepository, member_id: uuid.UUID) -> StoredPolicy:
    return stored_policy(await repository.get(member_id))


def stored_policy(row: LinkingPolicy | None) -> StoredPolicy:
    """The policy a member's row holds, or the default preset when they have none."""
    if row is None:
        return StoredPolicy(PRESETS[DEFAULT_PRESET].policy, DEFAULT_PRESET, 0)
    return policy_of(row.document, row.preset, row.version)


def policy_of(document: dict[str, Any], preset: str | None, version: int) -> StoredPolicy:
    """A stored policy from its row's columns, read without the ORM."""
    return StoredPolicy(from_storage(PolicyIn, document), preset, version)


def _parse_if_match(if_match: str | None) -> int:
    if if_match is None:
        raise PreconditionRequired(
            "Send If-Match with the ETag from GET /v1/me/policy, so that a change made "
            "elsewhere is not overwritten."
        )
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise PreconditionFailed(f"If-Match {if_match} is not an ETag of this policy.")
    return int(tag)


async def replace_policy(
    repository: PolicyRepository, member_id: uuid.UUID, policy: PolicyIn, if_match: str | None
) -> StoredPolicy:
    expected = _parse_if_match(if_match)
    preset = next((name for name, p in PRESETS.items() if p.policy == policy), None)
    document = policy.model_dump(mode="json")
    if expected == 0:
        stored = await repository.create_first(member_id, document, preset)
    else:
        stored = await repository.replace_if_version(member_id, expected, document, preset)
    if not stored:
        raise PreconditionFailed(
            "Your policy was changed since you read it; GET it again and reapply your edit."
        )
    return StoredPolicy(policy, preset, expected + 1)
