import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.auth import RefreshToken, SignInFailure

# Expired failures removed per attempt: enough to keep up, never a long delete.
SWEEP_BATCH = 100


@dataclass(frozen=True)
class SessionRow:
    family_id: uuid.UUID
    device: str | None
    created_at: datetime
    last_used_at: datetime


class RefreshTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, token: RefreshToken) -> None:
        self.session.add(token)
        await self.session.flush()

    async def get_by_hash_for_update(self, token_hash: str) -> RefreshToken | None:
        result = await self.session.execute(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update()
        )
        return result.scalar_one_or_none()

    async def revoke_family(self, family_id: uuid.UUID, at: datetime) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=at)
        )

    async def revoke_member_family(
        self, member_id: uuid.UUID, family_id: uuid.UUID, at: datetime
    ) -> bool:
        """Revoke one of the member's sign-ins; False if they have no such active one."""
        result = await self.session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.member_id == member_id,
                RefreshToken.family_id == family_id,
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > at,
            )
            .values(revoked_at=at)
            .returning(RefreshToken.id)
        )
        return result.first() is not None

    async def revoke_all(
        self, member_id: uuid.UUID, at: datetime, keep: uuid.UUID | None = None
    ) -> int:
        """Revoke every sign-in of the member but ``keep``; how many sign-ins that was."""
        query = update(RefreshToken).where(
            RefreshToken.member_id == member_id, RefreshToken.revoked_at.is_(None)
        )
        if keep is not None:
            query = query.where(RefreshToken.family_id != keep)
        result = await self.session.execute(
            query.values(revoked_at=at).returning(RefreshToken.family_id)
        )
        return len(set(result.scalars()))

    async def active_sessions(self, member_id: uuid.UUID, now: datetime) -> list[SessionRow]:
        """The member's sign-ins that can still refresh: created with their first token,
        last used when their latest was issued."""
        rows = await self.session.execute(
            select(
                RefreshToken.family_id,
                func.max(RefreshToken.device),
                func.min(RefreshToken.created_at),
                func.max(RefreshToken.created_at),
            )
            .where(RefreshToken.member_id == member_id)
            .group_by(RefreshToken.family_id)
            .having(
                func.bool_or(RefreshToken.revoked_at.is_(None) & (RefreshToken.expires_at > now))
            )
            .order_by(func.max(RefreshToken.created_at).desc(), RefreshToken.family_id)
        )
        return [SessionRow(*row) for row in rows]


class SignInFailureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, key_hash: str) -> None:
        """Hold this key until the transaction ends: attempts on one account or from one
        address are counted one after the other, in every API process."""
        await self.session.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(key_hash, 0)))
        )

    async def failures_since(
        self, key_hashes: list[str], since: datetime
    ) -> dict[str, list[datetime]]:
        """Each key's failures after ``since``, oldest first."""
        rows = await self.session.execute(
            select(SignInFailure.key_hash, SignInFailure.failed_at)
            .where(SignInFailure.key_hash.in_(key_hashes), SignInFailure.failed_at > since)
            .order_by(SignInFailure.failed_at)
        )
        found: dict[str, list[datetime]] = {key_hash: [] for key_hash in key_hashes}
        for key_hash, failed_at in rows:
            found[key_hash].append(failed_at)
        return found

    async def add(self, key_hashes: list[str], at: datetime) -> list[int]:
        """One failure per key; their ids, in the order of the keys."""
        failures = [SignInFailure(key_hash=key_hash, failed_at=at) for key_hash in key_hashes]
        self.session.add_all(failures)
        await self.session.flush()
        return [failure.id for failure in failures]

    async def forgive(self, key_hash: str, failure_id: int) -> None:
        """Remove every failure of one key, and one more failure by its id."""
        await self.session.execute(
            delete(SignInFailure)
            .where(or_(SignInFailure.key_hash == key_hash, SignInFailure.id == failure_id))
            .execution_options(synchronize_session=False)
        )

    async def sweep(self, before: datetime) -> None:
        """Remove up to a batch of failures from before ``before``, skipping rows another
        attempt is removing, so that concurrent sweeps never wait on each other."""
        expired = (
            select(SignInFailure.id)
            .where(SignInFailure.failed_at <= before)
            .limit(SWEEP_BATCH)
            .with_for_update(skip_locked=True)
        )
        await self.session.execute(
            delete(SignInFailure)
            .where(SignInFailure.id.in_(expired.scalar_subquery()))
            .execution_options(synchronize_session=False)
        )
