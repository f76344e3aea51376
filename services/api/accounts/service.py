"""A member's account: verifying the email address, changing or resetting the password,
changing the address (verified before it takes effect, undoable from the old one).

Each email is asked for here (a row and its outbox event, in the request's
transaction); the notifier makes the link's token and sends it. Following a link
spends it, and every other open link of the same member and purpose with it.
"""

import hashlib
import uuid
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from rapport_common.events import AccountEmailRequestedV1
from rapport_common.models.accounts import AccountToken, AccountTokenPurpose
from rapport_common.models.members import Member
from rapport_common.outbox import record_event
from rapport_common.settings import AccountSettings
from rapport_common.web.problems import Conflict, Forbidden, NotFound, Problem
from services.api.accounts.repository import AccountTokenRepository
from services.api.auth.passwords import hash_password
from services.api.auth.repository import RefreshTokenRepository
from services.api.members.service import EmailTaken

Purpose = AccountTokenPurpose
EVENT_TYPES = {
    Purpose.VERIFY_EMAIL: "account.email_verification_requested",
    Purpose.RESET_PASSWORD: "account.password_reset_requested",
    Purpose.CHANGE_EMAIL: "account.email_change_requested",
    Purpose.UNDO_EMAIL_CHANGE: "account.email_changed",
}


class LinkUnknown(NotFound):
    slug, title = "account-link-unknown", "This link is not valid"


class LinkUsed(Conflict):
    slug, title = "account-link-used", "This link was already used"


class LinkExpired(Problem):
    status, slug, title = 410, "account-link-expired", "This link has expired"


class EmailAlreadyVerified(Conflict):
    slug, title = "email-already-verified", "Your email address is already verified"


class WrongPassword(Forbidden):
    slug, title = "wrong-password", "The password is wrong"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def lifetime(settings: AccountSettings, purpose: Purpose) -> timedelta:
    return {
        Purpose.VERIFY_EMAIL: timedelta(hours=settings.verification_hours),
        Purpose.RESET_PASSWORD: timedelta(minutes=settings.reset_minutes),
        Purpose.CHANGE_EMAIL: timedelta(hours=settings.email_change_hours),
        Purpose.UNDO_EMAIL_CHANGE: timedelta(days=settings.undo_days),
    }[purpose]


async def request_email(
    repository: AccountTokenRepository,
    settings: AccountSettings,
    member_id: uuid.UUID,
    purpose: Purpose,
    now: datetime,
    address: str | None = None,
) -> AccountToken:
    """Ask the notifier for an account email: the row (no token yet) and its event."""
    token = await repository.add(
        AccountToken(
            member_id=member_id,
            purpose=purpose,
            address=address,
            expires_at=now + lifetime(settings, purpose),
        )
    )
    await record_event(
        repository.session,
        EVENT_TYPES[purpose],
        AccountEmailRequestedV1(account_token_id=token.id, member_id=member_id),
    )
    return token


async def find_link(
    repository: AccountTokenRepository,
    raw_token: str,
    purpose: Purpose,
    now: datetime,
    *,
    for_update: bool = False,
) -> AccountToken:
    """The link's row if it can still be followed; the reason it cannot otherwise."""
    found = await repository.get_by_hash(token_hash(raw_token), for_update=for_update)
    if found is None or found.purpose != purpose:
        raise LinkUnknown("This link is not one of ours; copy the whole link from the email.")
    if found.used_at is not None:
        raise LinkUsed("This link was already used; each works once.")
    if found.expires_at <= now:
        raise LinkExpired("This link has expired; ask for a new email.")
    return found


async def _spend(
    repository: AccountTokenRepository, raw_token: str, purpose: Purpose, now: datetime
) -> tuple[AccountToken, Member]:
    link = await find_link(repository, raw_token, purpose, now, for_update=True)
    member = await repository.session.get(Member, link.member_id, with_for_update=True)
    assert member is not None  # the row goes with its member (ON DELETE CASCADE)
    await repository.spend_open(member.id, [purpose], now)
    link.used_at = now
    return link, member


async def verify_email(repository: AccountTokenRepository, raw_token: str, now: datetime) -> Member:
    _, member = await _spend(repository, raw_token, Purpose.VERIFY_EMAIL, now)
    if member.email_verified_at is None:
        member.email_verified_at = now
    return member


async def resend_verification(
    repository: AccountTokenRepository, settings: AccountSettings, member: Member, now: datetime
) -> None:
    if member.email_verified_at is not None:
        raise EmailAlreadyVerified(f"{member.email} is verified already; nothing to do.")
    await request_email(repository, settings, member.id, Purpose.VERIFY_EMAIL, now)


async def set_password(
    sessions: RefreshTokenRepository,
    member: Member,
    new_password: str,
    now: datetime,
    keep_session: uuid.UUID | None = None,
) -> None:
    """The new password, and every sign-in but ``keep_session`` ended."""
    member.password_hash = await hash_password(new_password)
    await sessions.revoke_all(member.id, now, keep_session)


async def request_password_reset(
    repository: AccountTokenRepository,
    settings: AccountSettings,
    member: Member | None,
    now: datetime,
) -> None:
    """A reset email if the address is a member's; nothing else differs either way."""
    if member is not None:
        await request_email(repository, settings, member.id, Purpose.RESET_PASSWORD, now)


async def reset_password(
    repository: AccountTokenRepository,
    sessions: RefreshTokenRepository,
    raw_token: str,
    new_password: str,
    now: datetime,
) -> Member:
    """The new password; every sign-in ended. The link came to the member's address, so
    following it also proves the address is theirs."""
    _, member = await _spend(repository, raw_token, Purpose.RESET_PASSWORD, now)
    await set_password(sessions, member, new_password, now)
    if member.email_verified_at is None:
        member.email_verified_at = now
    return member


async def _check_free(repository: AccountTokenRepository, email: str, member: Member) -> None:
    # Registration already answers whether an address has an account; this says no more.
    if await repository.email_owner(email, member.id) is not None:
        raise EmailTaken(f"An account with {email} already exists.")


async def request_email_change(
    repository: AccountTokenRepository,
    settings: AccountSettings,
    member: Member,
    new_email: str,
    now: datetime,
) -> None:
    email = new_email.lower()
    if email == member.email:
        raise EmailTaken(f"{email} is your address already.")
    await _check_free(repository, email, member)
    await request_email(repository, settings, member.id, Purpose.CHANGE_EMAIL, now, email)


async def _move_email(repository: AccountTokenRepository, member: Member, email: str) -> None:
    member.email = email
    try:
        await repository.session.flush()
    except IntegrityError as exc:  # another member took it meanwhile
        raise EmailTaken(f"An account with {email} already exists.") from exc


async def confirm_email_change(
    repository: AccountTokenRepository, settings: AccountSettings, raw_token: str, now: datetime
) -> Member:
    """The new address takes effect, verified; the old one gets a notice with a link
    that undoes the change. Links sent to the old address for a reset stop working."""
    link, member = await _spend(repository, raw_token, Purpose.CHANGE_EMAIL, now)
    assert link.address is not None
    await _check_free(repository, link.address, member)
    old_email = member.email
    await _move_email(repository, member, link.address)
    member.email_verified_at = now
    await repository.spend_open(member.id, [Purpose.RESET_PASSWORD, Purpose.VERIFY_EMAIL], now)
    await request_email(repository, settings, member.id, Purpose.UNDO_EMAIL_CHANGE, now, old_email)
    return member


async def undo_email_change(
    repository: AccountTokenRepository,
    sessions: RefreshTokenRepository,
    raw_token: str,
    now: datetime,
) -> Member:
    """The old address back (it was verified: the notice reached it), every sign-in
    ended and every open link spent: whoever changed it is out."""
    link, member = await _spend(repository, raw_token, Purpose.UNDO_EMAIL_CHANGE, now)
    assert link.address is not None
    await _check_free(repository, link.address, member)
    await _move_email(repository, member, link.address)
    member.email_verified_at = now
    await repository.spend_open(member.id, list(Purpose), now)
    await sessions.revoke_all(member.id, now)
    return member
