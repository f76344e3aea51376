"""Loads a small demo network through the public API, so a new user can try it at once.

Safe to rerun: members that already exist are left as they are.
"""

import asyncio
import sys

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


async def load_demo(base_url: str) -> int:
    created = 0
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
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


def main() -> None:
    settings = get_settings()
    try:
        created = asyncio.run(load_demo(settings.api.public_url))
    except (httpx.HTTPError, RuntimeError) as exc:
        sys.exit(f"demo data: could not load through the API at {settings.api.public_url}: {exc}")
    print(f"demo data: {created} new members, {len(DEMO_MEMBERS) - created} already there")


if __name__ == "__main__":
    main()
