"""Registration and profiles."""

from sqlalchemy.exc import IntegrityError

from rapport_common.events import MemberRegisteredV1
from rapport_common.outbox import record_event
from rapport_common.web.problems import Conflict
from services.api.auth.passwords import hash_password
from services.api.members.models import Member
from services.api.members.repository import MemberRepository
from services.api.members.schemas import RegisterIn


class EmailTaken(Conflict):
    slug, title = "email-taken", "Email already registered"


async def register(repository: MemberRepository, data: RegisterIn) -> Member:
    email = data.email.lower()
    if await repository.get_by_email(email) is not None:
        raise EmailTaken(f"An account with {email} already exists; sign in instead.")
    candidate = Member(
        email=email,
        password_hash=hash_password(data.password),
        name=data.name,
        headline=data.headline,
        market_area=data.market_area,
    )
    try:
        member = await repository.add(candidate)
    except IntegrityError as exc:  # a concurrent registration won the race
        raise EmailTaken(f"An account with {email} already exists; sign in instead.") from exc
    await record_event(
        repository.session,
        "member.registered",
        MemberRegisteredV1(
            member_id=member.id,
            name=member.name,
            is_recruiter=member.is_recruiter,
            allows_introductions=member.allows_introductions,
        ),
    )
    return member
