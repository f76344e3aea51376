from typing import Annotated

from fastapi import APIRouter, Header, Response

from rapport_common.web.problems import problem_responses
from services.api.deps import AuthFirstRoute, CurrentMember, SessionDep
from services.api.policies import service as policies
from services.api.policies.evaluation import InvitationFacts, evaluate
from services.api.policies.presets import PRESETS
from services.api.policies.repository import PolicyRepository
from services.api.policies.schemas import EvaluateIn, PolicyIn, PolicyOut, PresetOut, Suggestion
from services.api.schemas import from_storage

router = APIRouter(
    route_class=AuthFirstRoute,
    prefix="/v1",
    tags=["linking policy"],
    responses=problem_responses((401, "Not signed in, or the token expired")),
)


def _out(stored: policies.StoredPolicy, response: Response) -> PolicyOut:
    response.headers["ETag"] = stored.etag
    document = stored.policy.model_dump()
    return from_storage(PolicyOut, {**document, "preset": stored.preset, "version": stored.version})


@router.get("/me/policy", response_model=PolicyOut)
async def read_policy(me: CurrentMember, session: SessionDep, response: Response) -> PolicyOut:
    """My linking policy, with its ETag. Until I set one, the "coffee, meal or beer" preset."""
    return _out(await policies.get_policy(PolicyRepository(session), me.id), response)


@router.put(
    "/me/policy",
    response_model=PolicyOut,
    responses=problem_responses(
        (412, "The policy changed since the ETag was read"), (428, "If-Match is missing")
    ),
)
async def replace_policy(
    policy: PolicyIn,
    me: CurrentMember,
    session: SessionDep,
    response: Response,
    if_match: Annotated[str | None, Header(alias="If-Match", max_length=100)] = None,
) -> PolicyOut:
    stored = await policies.replace_policy(PolicyRepository(session), me.id, policy, if_match)
    return _out(stored, response)


@router.post("/me/policy/evaluate", response_model=Suggestion)
async def evaluate_policy(
    invitation: EvaluateIn, me: CurrentMember, session: SessionDep
) -> Suggestion:
    """Dry run: what my policy would suggest for this hypothetical invitation."""
    stored = await policies.get_policy(PolicyRepository(session), me.id)
    facts = InvitationFacts(**invitation.model_dump())
    return evaluate(stored.policy, facts)


@router.get("/policy-presets", response_model=list[PresetOut])
async def list_presets(_: CurrentMember) -> list[PresetOut]:
    """Policies to start from; PUT one (edited or not) to /v1/me/policy."""
    return list(PRESETS.values())
