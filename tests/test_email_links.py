"""Signed links and address hashes: ours verify, anything altered or expired does not."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr, ValidationError

from rapport_common.domain import email_links
from rapport_common.domain.email_links import ExpiredLink, InvalidLink
from rapport_common.settings import (
    AuthSettings,
    EmailInvitationSettings,
    GraphServiceSettings,
    PostgresSettings,
    Settings,
    WebhookSettings,
)

KEY = "a-key-for-tests-only"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_an_address_hashes_the_same_whatever_its_case_and_spaces() -> None:
    assert email_links.address_hash(KEY, " Ada@Example.com ") == email_links.address_hash(
        KEY, "ada@example.com"
    )
    assert email_links.address_hash(KEY, "ada@example.com") != email_links.address_hash(
        "another-key", "ada@example.com"
    )
    assert len(email_links.address_hash(KEY, "ada@example.com")) == 64


def test_a_signed_link_gives_back_its_subject_until_it_expires() -> None:
    token = email_links.sign(KEY, "join", "subject-1", NOW + timedelta(days=30))
    assert email_links.verify(KEY, "join", token, NOW) == "subject-1"
    with pytest.raises(ExpiredLink):
        email_links.verify(KEY, "join", token, NOW + timedelta(days=30))


def test_a_link_without_expiry_never_expires() -> None:
    token = email_links.sign(KEY, "stop", "abc", None)
    assert email_links.verify(KEY, "stop", token, NOW + timedelta(days=36500)) == "abc"


@pytest.mark.parametrize(
    "alter",
    [
        lambda t: t.replace("subject-1", "subject-2"),
        lambda t: t.replace("join", "stop", 1),
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: t.rsplit(".", 2)[0] + ".9999999999." + t.rsplit(".", 1)[1],
        lambda t: t + ".extra",
        lambda t: t.replace(".", "", 1),
        lambda t: t + "é",
        lambda t: "",
    ],
    ids=[
        "subject",
        "purpose",
        "signature",
        "expiry",
        "extra part",
        "missing part",
        "non-ascii",
        "empty",
    ],
)
def test_an_altered_link_is_refused(alter: object) -> None:
    token = email_links.sign(KEY, "join", "subject-1", NOW + timedelta(days=1))
    assert callable(alter)
    with pytest.raises(InvalidLink):
        email_links.verify(KEY, "join", alter(token), NOW)


def test_a_link_signed_with_another_key_or_for_another_purpose_is_refused() -> None:
    token = email_links.sign("another-key", "join", "subject-1", None)
    with pytest.raises(InvalidLink):
        email_links.verify(KEY, "join", token, NOW)
    stop = email_links.sign(KEY, "stop", "subject-1", None)
    with pytest.raises(InvalidLink):
        email_links.verify(KEY, "join", stop, NOW)


def _production(keys: EmailInvitationSettings) -> Settings:
    return Settings(
        environment="production",
        auth=AuthSettings(jwt_secret=SecretStr("j" * 40)),
        postgres=PostgresSettings(password=SecretStr("a-real-database-password")),
        graph=GraphServiceSettings(service_token=SecretStr("t" * 40)),
        webhooks=WebhookSettings(allow_loopback=False, secret_keys=[SecretStr("w" * 40)]),
        email_invitations=keys,
    )


def test_production_refuses_the_placeholder_keys() -> None:
    with pytest.raises(ValidationError, match=r"ADDRESS_KEY.*LINK_KEY"):
        _production(EmailInvitationSettings())
    with pytest.raises(ValidationError, match="LINK_KEY"):
        _production(EmailInvitationSettings(address_key=SecretStr("k" * 40)))
    keys = EmailInvitationSettings(address_key=SecretStr("k" * 40), link_key=SecretStr("l" * 40))
    assert _production(keys).email_invitations.link_key.get_secret_value() == "l" * 40
