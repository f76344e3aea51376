import uuid
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rapport_common.models.accounts import AccountRequest, AccountToken, AccountTokenPurpose
from rapport_common.models.members import Member

# Counted requests past their window removed per request: enough to keep up, never long.
SWEEP_BATCH = 100


class AccountTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, token: AccountToken) -> AccountToken:
        self.session.add(token)
        await self.session.flush()
        return token

    async def get_by_hash(
        self, token_hash: str, *, for_update: bool = False
    ) -> AccountToken | None:
        query = select(AccountToken).where(AccountToken.token_hash == token_hash)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def spend_open(
        self, member_id: uuid.UUID, purposes: list[AccountTokenPurpose], at: datetime
    ) -> None:
        """Every unused link of these purposes stops working (a newer one was followed,
        or what they would do no longer makes sense)."""
        await self.session.execute(
            update(AccountToken)
            .where(
                AccountToken.member_id == member_id,
                AccountToken.purpose.in_(purposes),
                AccountToken.used_at.is_(None),
            )
            .values(used_at=at)
            .execution_options(synchronize_session=False)
        )

    async def email_owner(self, email: str, other_than: uuid.UUID) -> uuid.UUID | None:
        """The member, other than ``other_than``, whose address ``email`` is."""
        found = await self.session.execute(
            select(Member.id).where(Member.email == email.lower(), Member.id != other_than)
        )
        return found.scalar_one_or_none()


class AccountRequestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, key_hash: str) -> None:
        """Hold this key until the transaction ends, so requests on one key are counted
        one after the other in every API process."""
        await self.session.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(key_hash, 0)))
        )

    async def requested_since(
        self, key_hashes: list[str], since: datetime
    ) -> dict[str, list[datetime]]:
        """Each key's requests after ``since``, oldest first."""
        rows = await self.session.execute(
            select(AccountRequest.key_hash, AccountRequest.requested_at)
            .where(AccountRequest.key_hash.in_(key_hashes), AccountRequest.requested_at > since)
            .order_by(AccountRequest.requested_at)
        )
        found: dict[str, list[datetime]] = {key_hash: [] for key_hash in key_hashes}
        for key_hash, requested_at in rows:
            found[key_hash].append(requested_at)
        return found

    async def add(self, key_hashes: list[str], at: datetime) -> None:
        self.session.add_all(
            [AccountRequest(key_hash=key_hash, requested_at=at) for key_hash in key_hashes]
        )
        await self.session.flush()

    async def sweep(self, before: datetime) -> None:
        """Remove up to a batch of requests from before ``before``, skipping rows another
        request is removing."""
        expired = (
            select(AccountRequest.id)
            .where(AccountRequest.requested_at <= before)
            .limit(SWEEP_BATCH)
            .with_for_update(skip_locked=True)
        )
        await self.session.execute(
            delete(AccountRequest)
            .where(AccountRequest.id.in_(expired.scalar_subquery()))
            .execution_options(synchronize_session=False)
        )
