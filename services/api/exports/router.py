from fastapi import APIRouter, Response

from rapport_common.web.problems import problem_responses
from services.api.clock import Now
from services.api.deps import AuthFirstRoute, CurrentMember, SettingsDep
from services.api.exports import service as exports
from services.api.exports.deps import DownloadableExport, MyExport, RepositoryDep
from services.api.exports.schemas import ExportOut

router = APIRouter(route_class=AuthFirstRoute, prefix="/v1/me", tags=["export"])
SIGNED_IN = problem_responses((401, "Not signed in, or the token expired"))
NOT_FOUND = problem_responses(
    (401, "Not signed in, or the token expired"), (404, "No such export among mine")
)


@router.post(
    "/export",
    status_code=202,
    response_model=ExportOut,
    responses={
        **SIGNED_IN,
        **problem_responses((429, "Too many exports in 24 hours; see Retry-After")),
        202: {
            "description": "The export being built (a new one, or the one already under "
            "way); `Location` is where to follow it",
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
    },
)
async def request_export(
    me: CurrentMember,
    repository: RepositoryDep,
    settings: SettingsDep,
    now: Now,
    response: Response,
) -> ExportOut:
    """Ask for a copy of everything Rapport holds about me, as JSON (the format is in
    docs/privacy.md, "Export"). The worker builds it; an email and a notification carry
    the download link when it is ready. While one is being built, asking again returns
    it; a few may be asked for in 24 hours (429 with `Retry-After` after that)."""
    requested = await exports.request_export(repository, me, settings, now)
    response.headers["Location"] = f"/v1/me/exports/{requested.export.id}"
    return exports.view(requested.export, settings, now)


@router.get("/exports/{export_id}", response_model=ExportOut, responses=NOT_FOUND)
async def read_export(export: MyExport, settings: SettingsDep, now: Now) -> ExportOut:
    """Whether my export is ready, and its download link while it is."""
    return exports.view(export, settings, now)


@router.get(
    "/exports/{export_id}/download",
    response_class=Response,
    responses={
        200: {
            "description": "The archive, as a JSON file to save",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **problem_responses(
            (401, "No download token, and not signed in"),
            (403, "The download token is not valid for this export"),
            (404, "No such export among mine"),
            (409, "The export is still being built"),
            (410, "The download window is over: the archive was deleted"),
        ),
    },
)
async def download_export(export: DownloadableExport, now: Now) -> Response:
    """The archive itself: with `token` from the email's link, without signing in; or
    signed in as its owner."""
    content = exports.archive_of(export, now)
    return Response(
        content=content,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{exports.file_name(export)}"',
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        },
    )
