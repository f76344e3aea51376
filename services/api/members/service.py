"""Registration and profiles."""

from sqlalchemy.exc import IntegrityError

from rapport_common.events import MemberRegisteredV1, MemberUpdatedV1
from rapport_common.models.members import Member
from rapport_common.outbox import record_event
from rapport_common.repositories.members import MemberRepository
from rapport_common.web.problems import Conflict
from services.api.auth.passwords import hash_password
from services.api.members.schemas import MeUpdateIn, RegisterIn


class EmailTaken(Conflict):
    slug, title = "email-taken", "Email already registered"


async def register(repository: MemberRepository, data: RegisterIn) -> Member:
    email = data.email.lower()
    if await repository.get_by_email(email) is not None:
        raise EmailTaken(f"An account with {email} already exists; sign in instead.")
    candidate = Member(
        email=email,
        password_hash=await hash_password(data.password),
        name=data.name,
        headline=data.headline,
        market_area=data.market_area,
        company=data.company,
        title=data.title,
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
            connections_visible_to=member.connections_visible_to,
            reachable_by=member.reachable_by,
        ),
    )
    return member


async def update_me(repository: MemberRepository, me: Member, changes: MeUpdateIn) -> Member:
    for field, value in changes.model_dump(exclude_unset=True).items():
        if value is None and field in {
            "name",
            "is_recruiter",
            "networking_stance",
            "connections_visible_to",
            "allows_introductions",
            "reachable_by",
            "links",
            "findable_by",
            "findable_by_email",
            "recommendations_visible_to",
        }:
            continue  # these cannot be cleared, only changed; null cooldown means never
        setattr(me, field, value)
    await repository.session.flush()
    await record_event(
        repository.session,
        "member.updated",
        MemberUpdatedV1(
            member_id=me.id,
            name=me.name,
            is_recruiter=me.is_recruiter,
            allows_introductions=me.allows_introductions,
            connections_visible_to=me.connections_visible_to,
            reachable_by=me.reachable_by,
        ),
    )
    return me
