from fastapi import APIRouter, Request
from pydantic import BaseModel

from rapport_common.events import EventEnvelope
from services.graph import queries
from services.graph.projection.apply import apply_event

router = APIRouter(prefix="/internal/v1", tags=["internal"])


class AppliedOut(BaseModel):
    event_id: str
    applied: bool


@router.post("/events", response_model=AppliedOut, summary="Apply one outbox event (idempotent)")
async def receive_event(envelope: EventEnvelope, request: Request) -> AppliedOut:
    graph = request.app.state.graph
    await graph.ensure_schema(queries.SCHEMA)
    applied = await apply_event(graph, envelope)
    return AppliedOut(event_id=str(envelope.event_id), applied=applied)
