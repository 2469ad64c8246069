"""A fact and a checklist item declared beside the core ones, as an operator would add
them: tests/test_declared_surfaces.py finds both on every surface. Loaded only when
HANDOVER_DECLARATIONS=tests.extra_declarations (never by the normal test run)."""

from webapp.domain.checklist import ChecklistItem
from webapp.domain.facts import Fact, Kind, Section
from webapp.domain.text import N_

FACTS = (
    Fact(
        "floor", N_("Floor"), Section.SUBSCRIBER, kind=Kind.WHOLE, minimum=1, maximum=200,
        for_subscriber=True, example=17,
    ),
)

ITEMS = (
    ChecklistItem(
        "tv_box", N_("TV set-top box"),
        N_("The TV set-top box works, and the technician set it up on floor %(floor)d."),
        shows=("floor",), services=frozenset({"tv"}),
    ),
)
