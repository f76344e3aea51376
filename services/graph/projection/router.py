from fastapi import APIRouter
from pydantic import BaseModel, ValidationError

from rapport_common.events import EventEnvelope
from rapport_common.web.problems import Problem
from services.graph import queries
from services.graph.deps import GraphDep
from services.graph.projection.apply import apply_event

router = APIRouter(prefix="/internal/v1", tags=["internal"])


class InvalidEvent(Problem):
    # 4xx, so the notifier logs it instead of retrying an event that can never apply.
    status, slug, title = 422, "invalid-event", "The event does not match its contract"


class AppliedOut(BaseModel):
    event_id: str
    applied: bool


@router.post("/events", response_model=AppliedOut, summary="Apply one outbox event (idempotent)")
async def receive_event(envelope: EventEnvelope, graph: GraphDep) -> AppliedOut:
    await graph.ensure_schema(queries.SCHEMA)
    try:
        applied = await apply_event(graph, envelope)
    except (ValidationError, LookupError) as exc:
        raise InvalidEvent(
            f"Event {envelope.type} v{envelope.version} cannot be applied: {exc}"[:500]
        ) from exc
    return AppliedOut(event_id=str(envelope.event_id), applied=applied)
