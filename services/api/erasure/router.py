from fastapi import APIRouter, Request, Response

from rapport_common.web.problems import Forbidden, problem_responses
from services.api.auth import limits
from services.api.auth.passwords import verify_password
from services.api.auth.repository import SignInFailureRepository
from services.api.clock import Now
from services.api.deps import AuthFirstRoute, CurrentMember, SessionDep, SettingsDep
from services.api.erasure import service as erasure
from services.api.erasure.schemas import DeleteAccountIn

router = APIRouter(route_class=AuthFirstRoute, prefix="/v1", tags=["members"])


class WrongPassword(Forbidden):
    slug, title = "wrong-password", "The password is not right"


@router.delete(
    "/me",
    status_code=204,
    responses=problem_responses(
        (401, "Not signed in, the token expired, or the account is already deleted"),
        (403, "Wrong password; counted like a failed sign-in"),
        (
            422,
            "No password in the body, or unknown fields",
        ),
        (
            429,
            "Too many wrong passwords for this account or from this address (the sign-in "
            "throttle); see Retry-After and RateLimit",
        ),
        (503, "The database is unavailable: nothing was deleted; retry"),
    ),
)
async def delete_me(
    data: DeleteAccountIn,
    me: CurrentMember,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: Now,
) -> Response:
    """Delete my account, for good, confirmed with my password in the JSON body
    (`{"password": "..."}`; a body, not a header, so that proxies and logs do not keep it).

    At once, in one transaction: I disappear from search, paths, mutual connections,
    lists, profile cards, recommendations and partner webhooks; my profile, settings,
    connections and their ratings, notes, invitations, introductions, recommendations,
    notifications, webhook endpoints and sessions are erased; what other members keep
    (a note I sent them, a notification about me) names "a former member" instead of me
    (docs/privacy.md, "Deleting an account", lists every table). Every token of mine
    stops working; my email address may register again as a new account. The graph
    follows through the outbox, even if it is down right now.

    Wrong passwords count against the sign-in throttle, for my account and for the
    client address, so this cannot be used to guess passwords faster than signing in."""
    failures = SignInFailureRepository(session)
    client_host = request.client.host if request.client else None
    attempt = await limits.admit_sign_in(failures, settings.auth, me.email, client_host, now)
    await session.commit()  # counted before the password is checked, seen by every process
    if not await verify_password(me.password_hash, data.password):
        raise WrongPassword("The password is not right; the account was not deleted.")
    await limits.forgive_sign_in(failures, attempt)
    await erasure.erase(session, me, now)
    return Response(status_code=204)
