from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from rapport_common.web.problems import Unauthorized
from services.api.auth.passwords import verify_password
from services.api.auth.tokens import issue_access_token
from services.api.deps import SessionDep, SettingsDep
from services.api.members import service as members
from services.api.members.repository import MemberRepository
from services.api.members.schemas import RegisteredOut, RegisterIn

router = APIRouter(prefix="/v1/auth", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: int


class InvalidCredentials(Unauthorized):
    slug, title = "invalid-credentials", "Wrong email or password"


@router.post(
    "/register",
    status_code=201,
    response_model=RegisteredOut,
    responses={409: {"description": "The email is already registered"}},
)
async def register(data: RegisterIn, session: SessionDep) -> RegisteredOut:
    member = await members.register(MemberRepository(session), data)
    return RegisteredOut(member_id=member.id)


@router.post(
    "/token", response_model=TokenOut, responses={401: {"description": "Wrong credentials"}}
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> TokenOut:
    member = await MemberRepository(session).get_by_email(form.username)
    if not verify_password(member.password_hash if member else None, form.password) or not member:
        raise InvalidCredentials("The email or the password is wrong.")
    access_token, lifetime = issue_access_token(settings.auth, member.id)
    return TokenOut(access_token=access_token, expires_in=lifetime)
