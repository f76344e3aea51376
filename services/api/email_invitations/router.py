from typing import Annotated

from fastapi import APIRouter, Path, Response

from rapport_common.web.problems import problem_responses
from services.api.clock import Now
from services.api.deps import AuthFirstRoute, SessionDep, SettingsDep
from services.api.email_invitations import service
from services.api.email_invitations.schemas import JoinOut

router = APIRouter(route_class=AuthFirstRoute, prefix="/v1", tags=["invitations by email"])

Token = Annotated[str, Path(min_length=1, max_length=300, description="From the link")]


@router.get(
    "/join/{token}",
    response_model=JoinOut,
    responses=problem_responses(
        (404, "Not a join link of ours, or its sender withdrew it"),
        (409, "The link was used to register already"),
        (410, "The link has expired"),
    ),
)
async def read_join_link(
    token: Token, session: SessionDep, settings: SettingsDep, now: Now
) -> JoinOut:
    """No sign-in: the link in a join email. Shows who invites you; register with
    `POST /v1/auth/register?join_token=...` to find their invitation waiting."""
    return await service.read_join(session, settings, token, now)


@router.post(
    "/do-not-contact/{token}",
    status_code=204,
    responses=problem_responses((404, "Not a stop link of ours")),
)
async def stop_all_emails(
    token: Token, session: SessionDep, settings: SettingsDep, now: Now
) -> Response:
    """No sign-in, one click (RFC 8058 `List-Unsubscribe-Post`): Rapport sends no email
    of any kind to this address again, whoever asks. Only a keyed hash of the address is
    kept. Any request body is ignored."""
    await service.stop(session, settings, token, now)
    return Response(status_code=204)
