"""Registration, profiles and member search."""

import uuid
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from rapport_common.events import MemberRegisteredV1, MemberUpdatedV1
from rapport_common.models.members import Member
from rapport_common.outbox import record_event
from rapport_common.repositories.members import MemberRepository
from rapport_common.settings import SearchSettings
from rapport_common.web.problems import Conflict
from services.api.auth.passwords import hash_password
from services.api.members import search
from services.api.members.quota import SearchQuota, take_search_quota
from services.api.members.repository import MemberSearchRepository
from services.api.members.schemas import MeUpdateIn, PresetOfferOut, RegisterIn, SearchHitOut
from services.api.pagination import Page, window
from services.api.policies import service as policies
from services.api.policies.presets import PRESETS
from services.api.policies.repository import PolicyRepository

# The linking-policy preset that fits each networking stance.
STANCE_PRESETS = {"closed": "coffee_meal_beer", "semi_open": "semi_open", "open": "open_networker"}


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


async def preset_offer(repository: PolicyRepository, me: Member) -> PresetOfferOut | None:
    """The preset matching my stance, offered when my policy is not already it; applying
    it is up to me (PUT /v1/me/policy), so a stance never rewrites a policy."""
    name = STANCE_PRESETS[me.networking_stance]
    current = await policies.get_policy(repository, me.id)
    if current.preset == name:
        return None
    preset = PRESETS[name]
    return PresetOfferOut(
        preset=name,
        description=f"{preset.description} PUT it to /v1/me/policy to apply; nothing "
        "changes until you do.",
        policy=preset.policy,
        policy_version=current.version,
    )


async def search_members(
    repository: MemberSearchRepository,
    settings: SearchSettings,
    viewer_id: uuid.UUID,
    q: str,
    limit: int,
    cursor: str | None,
    now: datetime,
) -> tuple[Page[SearchHitOut], SearchQuota]:
    """One page of the members the viewer may find for ``q``; every page counts as one
    search of the day."""
    after = search.after(cursor)
    quota = await take_search_quota(repository.session, settings, viewer_id, now)
    hits = await repository.search(viewer_id, search.parse(q), limit, after, settings.max_results)
    found = window(hits, limit, search.cursor_key)
    return found.page([search.hit_out(hit) for hit in found.rows]), quota
