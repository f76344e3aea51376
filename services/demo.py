"""Loads a small demo network through the public API, so a new user can try it at once.

Safe to rerun: members that already exist are left as they are.

Demo members verify their addresses as anyone would: the demo reads the verification
email the notifier sent to the mail catcher's folder and follows its link. It then asks
for a password reset for Ada, so the mail catcher's page shows a working reset link, and
has Katherine decline Ada's invitation with a note, the email Rapport exists to send.
"""

import asyncio
import re
import sys
from collections.abc import Awaitable, Callable
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path

import httpx

from rapport_common.settings import get_settings

DEMO_PASSWORD = "demo-password-1"  # noqa: S105 (printed for new users on purpose)
DEMO_MEMBERS = (
    ("ada@demo.rapport.example", "Ada Lovelace", "Analyst", "london"),
    ("grace@demo.rapport.example", "Grace Hopper", "Compiler engineer", "new-york"),
    ("alan@demo.rapport.example", "Alan Turing", "Researcher", "london"),
    ("katherine@demo.rapport.example", "Katherine Johnson", "Mathematician", "new-york"),
    ("linus@demo.rapport.example", "Linus Pauling", "Chemist", "berlin"),
    ("rita@demo.rapport.example", "Rita Levi-Montalcini", "Neurologist", "berlin"),
    ("tim@demo.rapport.example", "Tim Berners-Lee", "Engineer", "london"),
    ("rachel@demo.rapport.example", "Rachel Recruiter", "Technical recruiter", "london"),
)
# (company, title) by first name, set through PATCH /v1/me, so search finds them.
DEMO_PROFILES = {
    "ada": ("Analytical Engines", "Analyst"),
    "grace": ("US Navy", "Rear Admiral"),
    "alan": ("Bletchley Park", "Researcher"),
    "katherine": ("NASA", "Mathematician"),
    "linus": ("Caltech", "Professor of chemistry"),
    "rita": ("CNR", "Neurologist"),
    "tim": ("CERN", "Software engineer"),
    "rachel": ("Talent Partners", "Technical recruiter"),
}


# (inviter, invitee, inviter's rating, invitee's rating, how they met), by first name.
DEMO_CONNECTIONS = (
    ("ada", "alan", 9, 8, "coffee"),
    ("ada", "tim", 7, 7, "worked_together"),
    ("alan", "grace", 8, 9, "meal"),
    ("grace", "katherine", 9, 9, "beer"),
    ("tim", "katherine", 4, 5, "event"),
    ("linus", "rita", 8, 7, "coffee"),
    ("alan", "linus", 6, 6, "known_online"),
    ("rachel", "tim", 3, 2, "never_met"),
)
# Waiting in Ada's inbox, so that her first sign-in has something to decide.
DEMO_OPEN_INVITATIONS = (("rachel", "ada", "never_met"), ("rita", "ada", "coffee"))
# Ada invites Katherine, whom she has never met, and Katherine declines with a note of
# her own: the email Ada gets is the product's heart (a kind no instead of silence).
DEMO_DECLINE = (
    "ada",
    "katherine",
    "Thank you for the invitation, Ada, and for your kind words about orbital "
    "mechanics! I keep my network to people I have met, so let's meet first: coffee "
    "next time you are in Hampton? Then I will gladly connect.",
)


async def _register(client: httpx.AsyncClient) -> int:
    created = 0
    for email, name, headline, area in DEMO_MEMBERS:
        response = await client.post(
            "/v1/auth/register",
            json={
                "email": email,
                "password": DEMO_PASSWORD,
                "name": name,
                "headline": headline,
                "market_area": area,
            },
        )
        if response.status_code == 201:
            created += 1
        elif response.status_code != 409:
            raise RuntimeError(f"demo member {email}: {response.status_code} {response.text}")
    return created


# Verifies a member's address: (client, member id, email).
Verifier = Callable[[httpx.AsyncClient, str, str], Awaitable[None]]
VERIFICATION_LINK = re.compile(r"/account/verify-email\?token=([A-Za-z0-9_-]+)")


async def _sign_in(
    client: httpx.AsyncClient, verify: Verifier
) -> dict[str, tuple[str, dict[str, str]]]:
    """First name -> (member id, auth headers); each address verified."""
    members = {}
    for address, *_ in DEMO_MEMBERS:
        token = await client.post(
            "/v1/auth/token", data={"username": address, "password": DEMO_PASSWORD}
        )
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        me = (await client.get("/v1/me", headers=headers)).json()
        if me.get("email_verified_at") is None:
            await verify(client, me["member_id"], address)
        members[address.split("@")[0]] = (me["member_id"], headers)
    return members


def _verification_tokens(folder: Path, address: str) -> list[str]:
    """The tokens of the verification links emailed to ``address``, newest last."""
    tokens = []
    for path in sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime):
        message = message_from_bytes(path.read_bytes(), policy=email_policy.default)
        if not isinstance(message, EmailMessage) or address not in str(message["To"]):
            continue
        part = message.get_body(preferencelist=("plain",))
        found = VERIFICATION_LINK.search(str(part.get_content()) if part else "")
        if found:
            tokens.append(found.group(1))
    return tokens


def follow_emailed_link(folder: Path, within: float = 60.0) -> Verifier:
    """A verifier that waits for the verification email in the mail catcher's folder
    (the notifier sends it) and follows its link, as the member would."""

    async def verify(client: httpx.AsyncClient, member_id: str, address: str) -> None:
        deadline = asyncio.get_running_loop().time() + within
        tried: set[str] = set()
        while True:
            # Newest first; links of an earlier run (spent, or from a database since
            # wiped) fail and the next email is waited for.
            for token in reversed(_verification_tokens(folder, address)):
                if token in tried:
                    continue
                tried.add(token)
                confirmed = await client.post(
                    "/v1/auth/email-verification/confirm", json={"token": token}
                )
                if confirmed.status_code == 204:
                    return
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(
                    f"no working verification link for {address} in {folder} after "
                    f"{within:.0f} s: is the notifier running?"
                )
            await asyncio.sleep(0.5)

    return verify


async def _invite(
    client: httpx.AsyncClient,
    members: dict[str, tuple[str, dict[str, str]]],
    inviter: str,
    invitee: str,
    how_we_met: str,
    rating: int | None,
) -> str | None:
    """The invitation's id, or None if they are connected or invited already (a rerun)."""
    body: dict[str, object] = {
        "to_member_id": members[invitee][0],
        "how_we_met": how_we_met,
        "note": f"Hello {invitee.title()}, let's stay in touch!",
    }
    if rating is not None:
        body["my_rating"] = rating
    response = await client.post("/v1/invitations", json=body, headers=members[inviter][1])
    if response.status_code == 409:
        return None
    if response.status_code != 201:
        raise RuntimeError(f"demo invitation {inviter}->{invitee}: {response.text}")
    invitation_id: str = response.json()["invitation_id"]
    return invitation_id


async def load_demo_through(client: httpx.AsyncClient, verify: Verifier) -> int:
    """Members with their profiles (their addresses verified by ``verify``), their
    connections (through invitations, like real ones), two open invitations for Ada, a
    declined one with Katherine's note to her, and a password reset email for her.
    Returns how many members were new."""
    created = await _register(client)
    members = await _sign_in(client, verify)
    await client.patch("/v1/me", json={"is_recruiter": True}, headers=members["rachel"][1])
    for first_name, (company, title) in DEMO_PROFILES.items():
        await client.patch(
            "/v1/me", json={"company": company, "title": title}, headers=members[first_name][1]
        )
    for inviter, invitee, inviter_rates, invitee_rates, how in DEMO_CONNECTIONS:
        invitation = await _invite(client, members, inviter, invitee, how, inviter_rates)
        if invitation is not None:
            await client.post(
                f"/v1/invitations/{invitation}/accept",
                json={"rating": invitee_rates},
                headers=members[invitee][1],
            )
    for inviter, invitee, how in DEMO_OPEN_INVITATIONS:
        await _invite(client, members, inviter, invitee, how, None)
    inviter, invitee, note = DEMO_DECLINE
    declined = await _invite(client, members, inviter, invitee, "never_met", None)
    if declined is not None:
        answer = await client.post(
            f"/v1/invitations/{declined}/decline", json={"note": note}, headers=members[invitee][1]
        )
        if answer.status_code != 200:
            raise RuntimeError(f"demo decline: {answer.status_code} {answer.text}")
    # 429 after a few runs within the hour: the earlier emails are there already.
    reset = await client.post("/v1/auth/password-reset", json={"email": DEMO_MEMBERS[0][0]})
    if reset.status_code not in (202, 429):
        raise RuntimeError(f"demo password reset: {reset.status_code} {reset.text}")
    return created


async def load_demo(base_url: str, mail_folder: Path) -> int:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        return await load_demo_through(client, follow_emailed_link(mail_folder))


def main() -> None:
    settings = get_settings()
    try:
        created = asyncio.run(load_demo(settings.api.public_url, Path(settings.mailbox.folder)))
    except (httpx.HTTPError, RuntimeError) as exc:
        sys.exit(f"demo data: could not load through the API at {settings.api.public_url}: {exc}")
    print(f"demo data: {created} new members, {len(DEMO_MEMBERS) - created} already there")


if __name__ == "__main__":
    main()
