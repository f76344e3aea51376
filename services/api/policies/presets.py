"""Policies a member starts from. Nothing is automatic until the member says so."""

from rapport_common.events import HowWeMet
from services.api.policies.schemas import (
    AcceptAction,
    AskAction,
    Conditions,
    DeclineAction,
    LaterAction,
    PolicyIn,
    PresetOut,
    Rule,
)

POLITE_DECLINE = (
    "Hi {inviter_first_name}, thank you for the invitation. I keep my network to people "
    "I have shared a coffee, a meal or a beer with, so that I can vouch for every "
    "connection. Let's meet first, then connect! Best, {my_first_name}"
)
IN_PERSON: list[HowWeMet] = ["coffee", "meal", "beer"]

PRESETS: dict[str, PresetOut] = {
    preset.name: preset
    for preset in (
        PresetOut(
            name="coffee_meal_beer",
            description="Closed: people I have met in person or know well online, "
            "recruiters as an exception; everyone else gets a polite note.",
            policy=PolicyIn(
                rules=[
                    Rule(
                        name="Met in person",
                        when=Conditions(how_we_met_in=IN_PERSON),
                        then=AcceptAction(),
                    ),
                    Rule(
                        name="Known well online",
                        when=Conditions(how_we_met_in=["known_online"]),
                        then=AcceptAction(),
                    ),
                    Rule(
                        name="Recruiters",
                        when=Conditions(inviter_is_recruiter=True),
                        then=AcceptAction(),
                    ),
                ],
                otherwise=DeclineAction(note_template=POLITE_DECLINE),
            ),
        ),
        PresetOut(
            name="semi_open",
            description="People I have met or worked with, or who share three good mutual "
            "connections or a confirmed referral; others wait two weeks.",
            policy=PolicyIn(
                rules=[
                    Rule(
                        name="Met or worked together",
                        when=Conditions(
                            how_we_met_in=[*IN_PERSON, "event", "worked_together", "known_online"]
                        ),
                        then=AcceptAction(),
                    ),
                    Rule(
                        name="Three good mutuals",
                        when=Conditions(min_mutual_connections=3, min_mutual_strength=0.5),
                        then=AcceptAction(),
                    ),
                    Rule(
                        name="Confirmed referral",
                        when=Conditions(referral_status_in=["confirmed"]),
                        then=AcceptAction(),
                    ),
                ],
                otherwise=LaterAction(days=14),
            ),
        ),
        PresetOut(
            name="open_networker",
            description="Everyone is welcome, except false referral claims.",
            policy=PolicyIn(
                rules=[
                    Rule(
                        name="False referral",
                        when=Conditions(referral_status_in=["false_claim", "denied"]),
                        then=LaterAction(days=7),
                    ),
                ],
                otherwise=AcceptAction(),
            ),
        ),
        PresetOut(
            name="ask_first",
            description="People I have met are welcome; everyone else first answers a "
            "question, then waits for my decision.",
            policy=PolicyIn(
                rules=[
                    Rule(
                        name="Met in person",
                        when=Conditions(how_we_met_in=[*IN_PERSON, "known_online"]),
                        then=AcceptAction(),
                    ),
                    Rule(
                        name="Ask first",
                        when=Conditions(question_answered=False),
                        then=AskAction(
                            question="How do we know each other, and why would you like to connect?"
                        ),
                    ),
                ],
                otherwise=LaterAction(days=7),
            ),
        ),
    )
}
DEFAULT_PRESET = "coffee_meal_beer"
