"""The OpenAPI document as front-end tools read it: short operation ids, named schemas,
the response headers clients need, one problem schema, and links between the main flows.

FastAPI builds the document from the routes; what it cannot say from a signature is
added here, in one pass over the built document, so the routers stay about behaviour."""

import re
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from rapport_common.web.problems import PROBLEM_MEDIA_TYPE

# Where a handler's name does not read as an operation; every other id is the handler's
# name in camelCase (``accept_invitation`` -> ``acceptInvitation``).
OPERATION_IDS = {
    "metrics": "readMetrics",
    "livez": "checkLiveness",
    "readyz": "checkReadiness",
    "token": "signIn",
    "refresh": "refreshToken",
    "logout": "signOut",
    "list_my_connections": "listConnections",
    "interaction_history": "listInteractions",
    "write_note": "writeConnectionNote",
    "list_blocked": "listBlocks",
    "member_recommendations": "listMemberRecommendations",
    "my_recommendations": "listMyRecommendations",
    "introduction_paths": "listIntroductionPaths",
    "mutual_connections": "listMutualConnections",
    "degree": "readDegree",
    "member_connections": "listMemberConnections",
    "network_health": "readNetworkHealth",
    "fading_connections": "listFadingConnections",
    "weed_out_candidates": "listWeedOutCandidates",
    "read_card": "readMemberCard",
    "list_presets": "listPolicyPresets",
    "mark_read": "markNotificationRead",
    "read_preferences": "readNotificationPreferences",
    "change_preferences": "changeNotificationPreferences",
    "replace_preferences": "replaceNotificationPreferences",
    "show_email_preference": "showEmailPreferencePage",
    "create_endpoint": "createWebhookEndpoint",
    "list_endpoints": "listWebhookEndpoints",
    "read_endpoint": "readWebhookEndpoint",
    "delete_endpoint": "deleteWebhookEndpoint",
    "enable_endpoint": "enableWebhookEndpoint",
    "rotate_secret": "rotateWebhookSecret",
    "list_deliveries": "listWebhookDeliveries",
    "redeliver_message": "redeliverWebhookMessage",
    "recover_messages": "recoverWebhookMessages",
    "ask_question": "askInviter",
    "answer_question": "answerInvitee",
    "confirm_verification": "confirmEmailVerification",
}


def operation_id(route: APIRoute) -> str:
    """FastAPI's ``generate_unique_id_function``: the operation id, and the stem of the
    names FastAPI gives the schemas it makes up (form bodies)."""
    if route.name in OPERATION_IDS:
        return OPERATION_IDS[route.name]
    head, *rest = route.name.split("_")
    return head + "".join(word.capitalize() for word in rest)


# Schemas FastAPI or pydantic names after the code, renamed for a client's reader.
SCHEMA_NAMES = {"Body_signIn": "SignInForm"}
_PAGE = re.compile(r"^Page_(\w+?)(Out)?_$")

HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "This request's id (yours, if you sent a safe one): quote it to us",
        "schema": {"type": "string"},
    },
    "WWW-Authenticate": {
        "description": "`Bearer`: send an access token from POST /v1/auth/token",
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimit": {
        "description": 'What is left of the limit: `"<policy>";r=<remaining>;t=<seconds '
        "to reset>` (IETF RateLimit headers)",
        "schema": {"type": "string"},
    },
    "RateLimit-Policy": {
        "description": 'The limit: `"<policy>";q=<quota>;w=<window seconds>`',
        "schema": {"type": "string"},
    },
    "ETag": {
        "description": "The version read; send it back in If-Match to change it",
        "schema": {"type": "string"},
    },
    "Location": {"description": "Where to follow the resource", "schema": {"type": "string"}},
}

# (operation id, status) -> headers it always (True) or sometimes (False) carries.
RESPONSE_HEADERS: dict[tuple[str, str], dict[str, bool]] = {
    ("readPolicy", "200"): {"ETag": True},
    ("replacePolicy", "200"): {"ETag": True},
    ("searchMembers", "200"): {"RateLimit": True, "RateLimit-Policy": True},
    ("sendInvitation", "201"): {"RateLimit": False, "RateLimit-Policy": False},
    ("requestExport", "202"): {"Location": True},
}
# Headers by status, on every operation.
STATUS_HEADERS: dict[str, dict[str, bool]] = {
    "401": {"WWW-Authenticate": True},
    "429": {"Retry-After": True, "RateLimit": False, "RateLimit-Policy": False},
    "503": {"Retry-After": False},
}


def _id_from(field: str) -> dict[str, str]:
    return {"$response.body#/" + field: field}


# (operation id, status) -> links: name -> (target operation id, parameters or body).
LINKS: dict[tuple[str, str], dict[str, tuple[str, dict[str, Any]]]] = {
    ("register", "201"): {
        "SignIn": (
            "signIn",
            {
                "requestBody": {
                    "username": "$request.body#/email",
                    "password": "$request.body#/password",
                }
            },
        ),
    },
    ("sendInvitation", "201"): {
        name: (target, {"parameters": {"invitation_id": "$response.body#/invitation_id"}})
        for name, target in [
            ("ReadInvitation", "readInvitation"),
            ("AcceptInvitation", "acceptInvitation"),
            ("DeclineInvitation", "declineInvitation"),
            ("WithdrawInvitation", "withdrawInvitation"),
        ]
    },
    ("readInvitation", "200"): {
        name: (target, {"parameters": {"invitation_id": "$response.body#/invitation_id"}})
        for name, target in [
            ("AcceptInvitation", "acceptInvitation"),
            ("DeclineInvitation", "declineInvitation"),
            ("DeferInvitation", "deferInvitation"),
        ]
    },
    ("requestIntroduction", "201"): {
        name: (target, {"parameters": {"introduction_id": "$response.body#/introduction_id"}})
        for name, target in [
            ("ReadIntroduction", "readIntroduction"),
            ("ForwardIntroduction", "forwardIntroduction"),
            ("DeclineIntroduction", "declineIntroduction"),
        ]
    },
    ("forwardIntroduction", "200"): {
        "AcceptIntroduction": (
            "acceptIntroduction",
            {"parameters": {"introduction_id": "$response.body#/introduction_id"}},
        ),
    },
    ("createWebhookEndpoint", "201"): {
        name: (target, {"parameters": {"endpoint_id": "$response.body#/endpoint_id"}})
        for name, target in [
            ("ReadWebhookEndpoint", "readWebhookEndpoint"),
            ("ListWebhookDeliveries", "listWebhookDeliveries"),
            ("RotateWebhookSecret", "rotateWebhookSecret"),
        ]
    },
    ("requestExport", "202"): {
        "ReadExport": ("readExport", {"parameters": {"export_id": "$response.body#/export_id"}}),
    },
    ("writeRecommendation", "201"): {
        "ReadRecommendation": (
            "readRecommendation",
            {"parameters": {"recommendation_id": "$response.body#/recommendation_id"}},
        ),
    },
}

# Headers a client must send, though the server answers their absence itself (428).
REQUIRED_HEADERS = {"replacePolicy": ["If-Match"]}

FRAMEWORK_SCHEMAS = ("HTTPValidationError", "ValidationError")


def _operations(document: dict[str, Any], section: str = "paths") -> list[dict[str, Any]]:
    return [op for path in document.get(section, {}).values() for op in path.values()]


def _rename_schemas(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    renames = dict(SCHEMA_NAMES)
    for name in schemas:
        page = _PAGE.match(name)
        if page:
            renames[name] = page.group(1) + "Page"
    text_renames = {
        f"#/components/schemas/{old}": f"#/components/schemas/{new}" for old, new in renames.items()
    }

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: text_renames.get(value, value) if key == "$ref" else walk(value)
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    renamed = {renames.get(name, name): schema for name, schema in schemas.items()}
    for old, new in renames.items():
        if new in renamed and old in schemas:
            renamed[new] = {**renamed[new], "title": new}
    document.update(
        walk({**document, "components": {**document["components"], "schemas": renamed}})
    )


def _name_inline_responses(document: dict[str, Any]) -> None:
    """A response schema FastAPI left inline (a handler returning a dict) becomes a
    named one, so generators do not call it ``LivezLivezGetResponseLivezLivezGet``."""
    schemas = document["components"]["schemas"]
    for operation in _operations(document):
        for status, response in operation["responses"].items():
            for media in response.get("content", {}).values():
                schema = media.get("schema", {})
                if status.startswith("2") and schema.get("type") == "object" and "title" in schema:
                    name = operation["operationId"][0].upper() + operation["operationId"][1:]
                    schemas[name + "Response"] = {**schema, "title": name + "Response"}
                    media["schema"] = {"$ref": f"#/components/schemas/{name}Response"}


def _declare_headers(document: dict[str, Any]) -> None:
    document["components"]["headers"] = HEADERS
    for operation in _operations(document):
        for status, response in operation["responses"].items():
            wanted = {"X-Request-ID": True, **STATUS_HEADERS.get(status, {})}
            wanted.update(RESPONSE_HEADERS.get((operation["operationId"], status), {}))
            headers = response.setdefault("headers", {})
            for name, required in wanted.items():
                headers[name] = {"$ref": f"#/components/headers/{name}"}
                if required:
                    headers[name] = {**HEADERS[name], "required": True}


INVALID_CURSOR = {
    "description": "`invalid-cursor`: the cursor is not a `next_cursor` this API issued",
    "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
}


def _document_cursors(document: dict[str, Any]) -> None:
    """Every paged list answers a cursor it did not issue with 400 ``invalid-cursor``."""
    for operation in _operations(document):
        if any(p["name"] == "cursor" for p in operation.get("parameters", [])):
            operation["responses"].setdefault("400", INVALID_CURSOR)


def _one_problem_schema(document: dict[str, Any]) -> None:
    for name in FRAMEWORK_SCHEMAS:
        document["components"]["schemas"].pop(name, None)
    for operation in _operations(document):
        takes_input = operation.get("parameters") or "requestBody" in operation
        if not takes_input:
            operation["responses"].pop("422", None)
    # A partner's receiver answers with whatever it likes; a 422 is ours, not theirs.
    for operation in _operations(document, "webhooks"):
        operation["responses"].pop("422", None)
        operation.pop("operationId", None)
        # What a receiver answers with is never read: its status alone counts.
        for response in operation["responses"].values():
            response.pop("content", None)


def _link(document: dict[str, Any]) -> None:
    by_id = {operation["operationId"]: operation for operation in _operations(document)}
    for (source, status), links in LINKS.items():
        response = by_id[source]["responses"][status]
        response["links"] = {
            name: {"operationId": target, **spec} for name, (target, spec) in links.items()
        }
        for target, _ in links.values():
            assert target in by_id, f"link to unknown operation {target}"


def _require_headers(document: dict[str, Any]) -> None:
    by_id = {operation["operationId"]: operation for operation in _operations(document)}
    for operation_name, names in REQUIRED_HEADERS.items():
        for parameter in by_id[operation_name].get("parameters", []):
            if parameter["in"] == "header" and parameter["name"] in names:
                parameter["required"] = True
                parameter["schema"] = {"type": "string", "maxLength": 100}


PROBLEM_SCHEMA = {"$ref": "#/components/schemas/ProblemDetails"}


def _problem_media_only(document: dict[str, Any]) -> None:
    for operation in _operations(document):
        for status, response in operation["responses"].items():
            content = response.get("content", {})
            if status[0] in "45" and "application/json" in content:
                content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
            # A route answering HTML (the email links' pages) has FastAPI give its
            # problems an HTML twin and no schema; they are problem documents alone.
            if status[0] in "45" and PROBLEM_MEDIA_TYPE in content:
                content[PROBLEM_MEDIA_TYPE].setdefault("schema", PROBLEM_SCHEMA)
                content.pop("text/html", None)


def document_contract(app: FastAPI) -> None:
    """Wrap ``app.openapi`` with the passes above; the result is built once."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        _problem_media_only(document)
        _one_problem_schema(document)
        _document_cursors(document)
        _name_inline_responses(document)
        _rename_schemas(document)
        _declare_headers(document)
        _require_headers(document)
        _link(document)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
