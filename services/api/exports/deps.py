"""Dependencies that load an export *and* check that the caller may have it: its owner
(signed in), or anyone holding the signed link from the email."""

import uuid
from typing import Annotated

from fastapi import Depends, Query

from rapport_common.domain import export_links
from rapport_common.models.exports import DataExport
from rapport_common.repositories.members import MemberRepository
from rapport_common.web.problems import Forbidden, NotFound, Unauthorized
from services.api.auth.tokens import read_access_token
from services.api.clock import Now
from services.api.deps import CurrentMember, SessionDep, SettingsDep, oauth2_scheme
from services.api.exports.repository import ExportRepository
from services.api.exports.service import ExportExpired


class InvalidDownloadLink(Forbidden):
    slug, title = "invalid-download-link", "This download link is not valid"


async def get_repository(session: SessionDep) -> ExportRepository:
    return ExportRepository(session)


RepositoryDep = Annotated[ExportRepository, Depends(get_repository)]


def _not_found(export_id: uuid.UUID) -> NotFound:
    # The same answer whether it does not exist or is someone else's: no existence leak.
    return NotFound(f"You have no export {export_id}.")


async def get_my_export(
    export_id: uuid.UUID, me: CurrentMember, repository: RepositoryDep
) -> DataExport:
    export = await repository.get(export_id)
    if export is None or export.member_id != me.id:
        raise _not_found(export_id)
    return export


TokenQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        description="The signed token of the download link in the email; without it, "
        "the owner signs in with the bearer token",
    ),
]


async def get_downloadable_export(
    export_id: uuid.UUID,
    repository: RepositoryDep,
    settings: SettingsDep,
    now: Now,
    bearer: Annotated[str | None, Depends(oauth2_scheme)],
    token: TokenQuery = None,
) -> DataExport:
    """With ``token``: the export it was signed for (403 for any other token or an altered
    one, 410 past its window), whoever asks. Without: the signed-in owner's export."""
    if token is not None:
        try:
            signed_for = export_links.export_of(settings, token, now)
        except export_links.ExpiredLink as exc:
            raise ExportExpired(
                "This download link has expired and the archive was deleted; ask for a new export."
            ) from exc
        except export_links.InvalidLink as exc:
            raise InvalidDownloadLink(
                "The link is not one Rapport sent, or it was altered; use the link in the "
                "email as it is."
            ) from exc
        if signed_for != export_id:
            raise InvalidDownloadLink("The link was made for another export.")
        export = await repository.get(export_id, with_archive=True)
        if export is None:
            raise _not_found(export_id)
        return export
    if not bearer:
        raise Unauthorized("Sign in, or use the download link from the email.")
    member_id = read_access_token(settings.auth, bearer)
    if await MemberRepository(repository.session).get(member_id) is None:
        raise Unauthorized("The account behind this token no longer exists.")
    export = await repository.get(export_id, with_archive=True)
    if export is None or export.member_id != member_id:
        raise _not_found(export_id)
    return export


MyExport = Annotated[DataExport, Depends(get_my_export)]
DownloadableExport = Annotated[DataExport, Depends(get_downloadable_export)]
