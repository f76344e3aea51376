"""What each notification says, in plain text and HTML, with a link to the settings."""

import html
import re
import unicodedata
from dataclasses import dataclass
from string import Template

# Subject, then body; ``$name`` placeholders are filled from the notification's facts.
TEMPLATES: dict[str, tuple[str, str]] = {
    "invitation_received": (
        "$inviter wants to connect",
        "$inviter invited you to connect.\n\nTheir note: $note\n\nThey say $how_we_met.",
    ),
    "invitation_accepted": (
        "$invitee accepted your invitation",
        "$invitee accepted: you are now connected.",
    ),
    "invitation_declined": (
        "A note from $invitee",
        "$invitee will not connect for now and wrote to you:\n\n$note",
    ),
    "question_asked": (
        "$invitee has a question before connecting",
        "$invitee asks: $question\n\nAnswer it before $expires_at, or the invitation expires.",
    ),
    "question_answered": (
        "$inviter answered your question",
        "$inviter answered your question; their invitation is back with you.",
    ),
    "invitation_back": (
        "Time to decide: $inviter's invitation",
        "You asked to decide later about $inviter's invitation. It is back in your inbox.",
    ),
    "referral_requested": (
        "Did you suggest that $inviter connect with $invitee?",
        "$inviter told $invitee that you suggested they connect. Please confirm or deny it, "
        "so $invitee knows whether to trust the claim.",
    ),
    "referral_outcome": (
        "$referrer $outcome the referral",
        "$inviter said $referrer suggested you connect; $referrer $outcome it.",
    ),
    "referral_false_claim": (
        "$inviter named $referrer, who does not know you both",
        "$inviter's invitation names $referrer as a mutual friend, but $referrer is not "
        "connected to both of you.",
    ),
    "introduction_requested": (
        "$requester asks you for an introduction to $target",
        "$requester would like you to introduce them to $target.\n\nTheir note: $note",
    ),
    "introduction_forwarded": (
        "$intermediary would like you to meet $requester",
        "$intermediary introduces $requester to you:\n\n$intermediary_note",
    ),
    "introduction_declined": (
        "Your introduction to $target will not happen",
        "The introduction to $target was declined by the $declined_by.",
    ),
    "introduction_accepted": (
        "$target accepted the introduction",
        "$target accepted the introduction from $intermediary; an invitation has been "
        "created for $requester.",
    ),
    "recommendation_requested": (
        "$author wrote a recommendation of you",
        "$author recommends you:\n\n$body\n\nNothing shows on your profile until you "
        "approve it; you can also decline it.",
    ),
    "recommendation_approved": (
        "$subject approved your recommendation",
        "$subject approved your recommendation; it now shows on their profile.",
    ),
    "nudge": (
        "Reconnect with $other?",
        "You rated $other a $rating, but you have not met for $days days and the "
        "relationship is fading (now $effective). Why not log a coffee, a meal or a call?",
    ),
}


_LINE_BREAKING = ("Cc", "Zl", "Zp")  # controls (CR, LF, VT, NEL...), U+2028, U+2029
_SPACES = re.compile(r"\s+")


def one_line(text: str) -> str:
    """``text`` fit for an email header: every control character or line separator
    becomes a space, and runs of spaces one. Stored text may hold them (a name saved
    before the API refused them), and a header with a line break cannot be written."""
    flat = "".join(" " if unicodedata.category(c) in _LINE_BREAKING else c for c in text)
    return _SPACES.sub(" ", flat).strip()


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


def compose(kind: str, facts: dict[str, str], settings_url: str) -> Message:
    subject_template, body_template = TEMPLATES[kind]
    subject = Template(subject_template).safe_substitute(facts)
    body = Template(body_template).safe_substitute(facts)
    footer = f"Choose which messages you get: {settings_url}"
    paragraphs = "".join(f"<p>{html.escape(part)}</p>" for part in body.split("\n\n"))
    html_body = (
        f'<html><body>{paragraphs}<hr><p><a href="{html.escape(settings_url)}">'
        "Notification settings</a></p></body></html>"
    )
    text = f"{body}\n\n--\n{footer}\n"
    return Message(subject=one_line(subject)[:200], text=text, html=html_body)
