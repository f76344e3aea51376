from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from rapport_common.models.enums import EmailDelivery
from rapport_common.web.problems import Problem, problem_responses
from services.api import pages
from services.api.clock import Now
from services.api.deps import AuthFirstRoute, CurrentMember, SettingsDep
from services.api.notifications import service
from services.api.notifications.deps import MyNotification, RepositoryDep
from services.api.notifications.schemas import (
    NotificationOut,
    NotificationPage,
    NudgeSettingsIn,
    NudgeSettingsOut,
    PreferencesOut,
    PreferencesPatchIn,
    PreferencesPutIn,
    notification_out,
)
from services.api.pagination import PAGE_SIZE, CursorQuery, LimitQuery, after_time, window

router = APIRouter(
    route_class=AuthFirstRoute,
    prefix="/v1",
    tags=["notifications"],
    responses=problem_responses((401, "Not signed in, or the token expired")),
)


@router.get("/notifications", response_model=NotificationPage)
async def list_notifications(
    me: CurrentMember,
    repository: RepositoryDep,
    limit: LimitQuery = PAGE_SIZE,
    cursor: CursorQuery = None,
    unread: bool = False,
) -> NotificationPage:
    """My in-app feed, newest first (`unread=true` for unread ones only). Each item's
    `kind` says what its `data` holds (the ids to open it with)."""
    rows = await repository.page(me.id, limit, after_time(cursor), unread)
    found = window(rows, limit, lambda n: (n.created_at, n.id))
    return NotificationPage(
        items=[notification_out(n) for n in found.rows], next_cursor=found.next_cursor
    )


@router.post(
    "/notifications/{notification_id}/read",
    response_model=NotificationOut,
    responses=problem_responses((404, "No such notification among mine")),
)
async def mark_read(
    notification: MyNotification, repository: RepositoryDep, now: Now
) -> NotificationOut:
    """Mark it read; marking it again keeps the first time."""
    notification.read_at = notification.read_at or now
    await repository.session.flush()
    return notification_out(notification)


@router.get("/me/nudges", response_model=NudgeSettingsOut)
async def read_nudge_settings(me: CurrentMember, repository: RepositoryDep) -> NudgeSettingsOut:
    """When Rapport nudges me to get back in touch with a fading relationship."""
    return NudgeSettingsOut.of(await repository.nudge_settings(me.id))


@router.put("/me/nudges", response_model=NudgeSettingsOut)
async def replace_nudge_settings(
    data: NudgeSettingsIn, me: CurrentMember, repository: RepositoryDep
) -> NudgeSettingsOut:
    await repository.save_nudge_settings(me.id, data.stored())
    return NudgeSettingsOut.model_validate(data.model_dump())


@router.get("/me/notification-preferences", response_model=PreferencesOut)
async def read_preferences(
    me: CurrentMember, repository: RepositoryDep, settings: SettingsDep
) -> PreferencesOut:
    """How each kind of notification reaches me: by email (at once, in the daily digest,
    or not) and in the app; defaults included, with what each kind allows."""
    stored = await repository.preferences(me.id)
    return service.listing(me, stored, settings.notifications.digest_hour)


@router.patch(
    "/me/notification-preferences",
    response_model=PreferencesOut,
    responses=problem_responses(
        (422, "An unknown kind, the account emails, a digest for an urgent kind, a kind twice")
    ),
)
async def change_preferences(
    changes: PreferencesPatchIn,
    me: CurrentMember,
    repository: RepositoryDep,
    settings: SettingsDep,
    now: Now,
) -> PreferencesOut:
    """Change the kinds listed, and in each only the fields given."""
    await service.patch(repository, me.id, changes, now)
    stored = await repository.preferences(me.id)
    return service.listing(me, stored, settings.notifications.digest_hour)


@router.put(
    "/me/notification-preferences",
    response_model=PreferencesOut,
    responses=problem_responses(
        (422, "An unknown kind, the account emails, a digest for an urgent kind, a kind twice")
    ),
)
async def replace_preferences(
    wanted: PreferencesPutIn,
    me: CurrentMember,
    repository: RepositoryDep,
    settings: SettingsDep,
    now: Now,
) -> PreferencesOut:
    """Set every preference at once; a kind not listed goes back to the default."""
    await service.replace(repository, me.id, wanted, now)
    stored = await repository.preferences(me.id)
    return service.listing(me, stored, settings.notifications.digest_hour)


# The links in every email: no sign-in, the signed token is the credential.
links_router = APIRouter(route_class=AuthFirstRoute, prefix="/v1", tags=["notifications"])
Token = Annotated[str, Path(min_length=1, max_length=300, description="From the email's link")]
STATES = {
    EmailDelivery.INSTANT: "You get each of these emails as it comes.",
    EmailDelivery.DIGEST: "You get these in your daily digest email.",
    EmailDelivery.OFF: "You get none of these emails (they still show in the app unless you "
    "switched that off too).",
}
ONE_CLICK_BODY = "List-Unsubscribe=One-Click"
FORM_BODY = {
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "properties": {
                    "List-Unsubscribe": {"type": "string", "enum": ["One-Click"]},
                    "email": {"type": "string", "enum": [e.value for e in EmailDelivery]},
                },
                "additionalProperties": False,
            },
            "examples": {"one-click": {"value": {"List-Unsubscribe": "One-Click"}}},
        }
    }
}


class FormInvalid(Problem):
    status, slug, title = 422, "form-invalid", "The form is not valid"


@links_router.get(
    "/email-preferences/{token}",
    response_class=HTMLResponse,
    responses={
        200: {"description": "A small page: what this kind of email is, and a button"},
        **problem_responses((404, "Not a preference link of ours, or altered")),
    },
)
async def show_email_preference(
    token: Token, request: Request, repository: RepositoryDep, settings: SettingsDep, now: Now
) -> HTMLResponse:
    """The page an email's footer links to: this kind of email, how it reaches the
    member, and a button to stop it (or start it again). Showing it changes nothing:
    mail scanners and link previews fetch links."""
    member, kind = await service.from_link(repository, settings, token, now)
    stored = await repository.preferences(member.id)
    kinds = service.kinds_of_link(kind, stored)
    title = service.describe(kind)
    if not kinds:
        return pages.render(title, ["Nothing is gathered in a daily digest now."])
    state = service.email_of(kinds[0], stored)
    return pages.render(title, [STATES[state], *_other_settings()], _form(request, state))


@links_router.post(
    "/email-preferences/{token}",
    response_class=HTMLResponse,
    openapi_extra={"requestBody": FORM_BODY},
    responses={
        200: {"description": "Done; a page saying so"},
        **problem_responses(
            (404, "Not a preference link of ours, or altered"),
            (422, "The form holds something else than the fields above"),
        ),
    },
)
async def change_email_preference(
    token: Token, request: Request, repository: RepositoryDep, settings: SettingsDep, now: Now
) -> HTMLResponse:
    """One click, no sign-in (RFC 8058 `List-Unsubscribe-Post`): the body
    `List-Unsubscribe=One-Click` (or no body) stops this kind of email at once; the
    page's own buttons send `email=instant|digest|off`. The in-app setting stays. For
    the digest's link, every kind gathered in the digest changes."""
    member, kind = await service.from_link(repository, settings, token, now)
    email = await _chosen(request)
    stored = await repository.preferences(member.id)
    kinds = service.kinds_of_link(kind, stored)
    await service.set_email(repository, member.id, kinds, email, now)
    title = service.describe(kind)
    done = STATES[email] if kinds else "Nothing is gathered in a daily digest now."
    undo = _form(request, email) if kind != "digest" else None
    return pages.render(title, [f"Saved. {done}", *_other_settings()], undo)


def _other_settings() -> list[str]:
    return [
        "Every other kind of message, the daily digest and the app's feed are in your "
        "notification settings in Rapport."
    ]


def _form(request: Request, state: EmailDelivery) -> pages.Form:
    if state == EmailDelivery.OFF:
        return pages.Form(
            request.url.path, "Email me each one again", [pages.Field("email", value="instant")]
        )
    return pages.Form(
        request.url.path, "Stop these emails", [pages.Field("List-Unsubscribe", value="One-Click")]
    )


async def _chosen(request: Request) -> EmailDelivery:
    """What the form asks for: ``email=...``, else off (the one-click body, or none)."""
    body = await request.body()
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        # RFC 8058 allows this encoding too; its one field can only mean one click.
        if b'name="List-Unsubscribe"' in body and b"One-Click" in body:
            return EmailDelivery.OFF
        raise FormInvalid("Send `List-Unsubscribe=One-Click`.")
    try:
        fields = parse_qs(body.decode("ascii"), keep_blank_values=True, max_num_fields=4)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormInvalid(
            "Send `List-Unsubscribe=One-Click`, or `email=instant|digest|off`."
        ) from exc
    unknown = set(fields) - {"List-Unsubscribe", "email"}
    emails = fields.get("email", [])
    if unknown or len(emails) > 1 or fields.get("List-Unsubscribe", ["One-Click"]) != ["One-Click"]:
        raise FormInvalid("Send `List-Unsubscribe=One-Click`, or `email=instant|digest|off`.")
    if not emails:
        return EmailDelivery.OFF
    try:
        return EmailDelivery(emails[0])
    except ValueError as exc:
        raise FormInvalid("`email` is one of instant, digest, off.") from exc
