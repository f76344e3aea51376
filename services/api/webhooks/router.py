from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from rapport_common.web.problems import problem_responses
from services.api.clock import Now
from services.api.deps import AuthFirstRoute, CurrentMember, SessionDep, SettingsDep, VerifiedMember
from services.api.idempotency.service import IdempotencyKeyHeader, fingerprint, run_idempotent
from services.api.pagination import PAGE_SIZE, CursorQuery, LimitQuery, Page, after_time, window
from services.api.webhooks import service as webhooks
from services.api.webhooks.deps import MyEndpoint, MyEndpointForUpdate, RepositoryDep
from services.api.webhooks.schemas import (
    MESSAGE_ID_PATTERN,
    DeliveryOut,
    EndpointCreatedOut,
    EndpointIn,
    EndpointOut,
    MessageOut,
    RecoverIn,
    RecoverOut,
    SecretOut,
)

router = APIRouter(
    route_class=AuthFirstRoute,
    prefix="/v1/webhooks",
    tags=["webhooks"],
    responses=problem_responses((401, "Not signed in, or the token expired")),
)
NOT_FOUND = problem_responses((404, "No such webhook endpoint among mine"))
DISABLED = problem_responses(
    (404, "No such webhook endpoint among mine"), (409, "The endpoint is disabled")
)
MessageIdPath = Annotated[str, Path(pattern=MESSAGE_ID_PATTERN, description="`msg_...`")]


@router.post(
    "/endpoints",
    status_code=201,
    response_model=EndpointCreatedOut,
    responses=problem_responses(
        (403, "Your email address is not verified yet (`email-unverified`)"),
        (409, "Too many endpoints"),
        (422, "Invalid, or the URL breaks an SSRF rule (`rule` names it)"),
    ),
)
async def create_endpoint(
    data: EndpointIn,
    request: Request,
    me: VerifiedMember,
    session: SessionDep,
    repository: RepositoryDep,
    settings: SettingsDep,
    now: Now,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Register a URL to receive the chosen events, signed per Standard Webhooks. The
    signing secret is in this response only: store it now."""

    async def create() -> EndpointCreatedOut:
        endpoint = await webhooks.create(repository, me, data, settings.webhooks, now)
        view = webhooks.view(endpoint)
        return EndpointCreatedOut(**view.model_dump(), secret=endpoint.secret)

    request_hash = fingerprint("POST", request.url.path, data)
    return await run_idempotent(session, str(me.id), idempotency_key, request_hash, create)


@router.get("/endpoints", response_model=Page[EndpointOut])
async def list_endpoints(
    me: CurrentMember,
    repository: RepositoryDep,
    limit: LimitQuery = PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[EndpointOut]:
    """My endpoints, newest first."""
    rows = await repository.page_for(me.id, limit, after_time(cursor))
    found = window(rows, limit, lambda endpoint: (endpoint.created_at, endpoint.id))
    return found.page([webhooks.view(endpoint) for endpoint in found.rows])


@router.get("/endpoints/{endpoint_id}", response_model=EndpointOut, responses=NOT_FOUND)
async def read_endpoint(endpoint: MyEndpoint) -> EndpointOut:
    return webhooks.view(endpoint)


@router.delete("/endpoints/{endpoint_id}", status_code=204, responses=NOT_FOUND)
async def delete_endpoint(endpoint: MyEndpoint, repository: RepositoryDep) -> Response:
    """Stop sending to it; its messages and delivery log go with it."""
    await repository.delete(endpoint)
    return Response(status_code=204)


@router.post(
    "/endpoints/{endpoint_id}/rotate-secret", response_model=SecretOut, responses=NOT_FOUND
)
async def rotate_secret(
    endpoint: MyEndpointForUpdate, settings: SettingsDep, now: Now
) -> SecretOut:
    """A new signing secret, shown once. The previous one keeps signing alongside it for
    the grace period, so deliveries carry two signatures until then."""
    webhooks.rotate_secret(endpoint, settings.webhooks, now)
    assert endpoint.previous_secret_expires_at is not None
    return SecretOut(
        endpoint_id=endpoint.id,
        secret=endpoint.secret,
        previous_secret_expires_at=endpoint.previous_secret_expires_at,
    )


@router.post("/endpoints/{endpoint_id}/enable", response_model=EndpointOut, responses=NOT_FOUND)
async def enable_endpoint(endpoint: MyEndpointForUpdate) -> EndpointOut:
    """Send to it again after it was disabled. Messages that failed meanwhile are not
    re-sent until you recover them."""
    webhooks.enable(endpoint)
    return webhooks.view(endpoint)


@router.get(
    "/endpoints/{endpoint_id}/deliveries", response_model=Page[DeliveryOut], responses=NOT_FOUND
)
async def list_deliveries(
    endpoint: MyEndpoint,
    repository: RepositoryDep,
    message_id: Annotated[
        str | None, Query(pattern=MESSAGE_ID_PATTERN, description="Only this message's")
    ] = None,
    limit: LimitQuery = PAGE_SIZE,
    cursor: CursorQuery = None,
) -> Page[DeliveryOut]:
    """The delivery log: one row per real attempt, newest first."""
    rows = await repository.attempts_page(endpoint.id, message_id, limit, after_time(cursor))
    found = window(rows, limit, lambda row: (row[0].attempted_at, row[0].id))
    return found.page(
        [webhooks.delivery_view(attempt, event_type) for attempt, event_type in found.rows]
    )


@router.post(
    "/endpoints/{endpoint_id}/messages/{message_id}/redeliver",
    status_code=202,
    response_model=MessageOut,
    responses=problem_responses(
        (404, "No such endpoint among mine, or no such message in it"),
        (409, "The endpoint is disabled, or the message is being delivered right now"),
    ),
)
async def redeliver_message(
    message_id: MessageIdPath, endpoint: MyEndpoint, repository: RepositoryDep, now: Now
) -> MessageOut:
    """Send one message again, with a fresh retry schedule; it leaves within seconds."""
    message = await webhooks.redeliver(repository, endpoint, message_id, now)
    return webhooks.message_view(message)


@router.post(
    "/endpoints/{endpoint_id}/recover",
    status_code=202,
    response_model=RecoverOut,
    responses=DISABLED,
)
async def recover_messages(
    data: RecoverIn, endpoint: MyEndpoint, repository: RepositoryDep, now: Now
) -> RecoverOut:
    """Send again every message that failed since `since`, e.g. after fixing an outage."""
    return RecoverOut(requeued=await webhooks.recover(repository, endpoint, data.since, now))
