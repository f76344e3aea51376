"""The outbound webhooks in the OpenAPI document (``webhooks``, OpenAPI 3.1): one entry
per event type, with its body and the Standard Webhooks signature headers."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import FastAPI, Header
from pydantic import BaseModel

from rapport_common.webhooks.payloads import WEBHOOK_BODIES, WEBHOOK_DESCRIPTIONS

SIGNING = """
Signed per [Standard Webhooks](https://www.standardwebhooks.com): HMAC-SHA256, keyed
with the base64-decoded part of your `whsec_` secret, over
`{webhook-id}.{webhook-timestamp}.{raw body}`. Answer 2xx within 15 s; anything else
(including a redirect, which is never followed) is retried; 410 disables the endpoint.
"""

WebhookId = Annotated[
    str,
    Header(
        alias="webhook-id",
        description="`msg_...`: the same on every attempt of a message; deduplicate on it",
    ),
]
WebhookTimestamp = Annotated[
    str,
    Header(
        alias="webhook-timestamp",
        description="Unix seconds of this attempt; refuse it if far from your clock",
    ),
]
WebhookSignature = Annotated[
    str,
    Header(
        alias="webhook-signature",
        description="`v1,<base64>`; during a secret rotation, two space-separated "
        "signatures (new and previous secret): accept if either matches",
    ),
]


def _receiver(body_model: type[BaseModel]) -> Callable[..., Awaitable[None]]:
    async def receive(
        body: body_model,  # type: ignore[valid-type]
        webhook_id: WebhookId,
        webhook_timestamp: WebhookTimestamp,
        webhook_signature: WebhookSignature,
    ) -> None:
        """Implemented by the partner, never called on this API."""

    return receive


def document_webhooks(app: FastAPI) -> None:
    for event_type, body_model in WEBHOOK_BODIES.items():
        app.webhooks.add_api_route(
            event_type,
            _receiver(body_model),
            methods=["POST"],
            summary=event_type,
            description=WEBHOOK_DESCRIPTIONS[event_type] + "\n" + SIGNING,
            operation_id=f"webhook_{event_type.replace('.', '_')}",
            responses={
                200: {"description": "Any 2xx: delivered"},
                410: {"description": "Gone: the endpoint is disabled, nothing more is sent"},
            },
        )
