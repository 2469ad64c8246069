"""The facts and checklist items in use: the core ones, and any declared beside them.

`HANDOVER_DECLARATIONS` may name a module with `FACTS` and `ITEMS` tuples to add
to the core ones (tests/extra_declarations.py shows the shape). It is read once,
at import, because forms and API schemas are classes built from these lists.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from importlib import import_module

from webapp.domain.checklist import CORE_ITEMS, PARTS, ChecklistItem
from webapp.domain.facts import CORE_FACTS, Fact, by_name


def _added() -> tuple[tuple[Fact, ...], tuple[ChecklistItem, ...]]:
    name = os.environ.get("HANDOVER_DECLARATIONS")
    if not name:
        return (), ()
    module = import_module(name)
    return tuple(getattr(module, "FACTS", ())), tuple(getattr(module, "ITEMS", ()))


_ADDED_FACTS, _ADDED_ITEMS = _added()

FACTS: tuple[Fact, ...] = CORE_FACTS + _ADDED_FACTS
FACTS_BY_NAME = by_name(FACTS)
ITEMS: tuple[ChecklistItem, ...] = CORE_ITEMS + _ADDED_ITEMS
ITEMS_BY_KEY = {item.key: item for item in ITEMS}

# Names a fact may not take: the handover's parts, and what the API's handover holds.
RESERVED = frozenset(PARTS) | {"id", "status", "receipt_number", "created_at", "technician"}
PLACEHOLDER = re.compile(r"%\((\w+)\)")


def check(facts: tuple[Fact, ...], items: tuple[ChecklistItem, ...]) -> None:
    """Refuse declarations that could not be shown: a reserved name, a fact with no
    section, two items with one key, an item showing or naming what is not recorded."""
    for fact in facts:
        if fact.name in RESERVED or fact.section is None:
            raise ValueError(f"the fact {fact.name!r} needs a section and a name of its own")
    keys = [item.key for item in items]
    if len(set(keys)) != len(keys):
        raise ValueError("two checklist items share a key")
    names = {fact.name for fact in facts}
    for item in items:
        if not set(item.shows) <= names | set(PARTS):
            raise ValueError(f"the item {item.key!r} shows what no fact records")
        if not set(PLACEHOLDER.findall(item.statement)) <= names:
            raise ValueError(f"the statement of {item.key!r} names what is not a fact")


check(FACTS, ITEMS)


def items_for(services: Iterable[str]) -> tuple[ChecklistItem, ...]:
    """Return the items asked of a handover recording these services, in order."""
    services = tuple(services or ())
    return tuple(item for item in ITEMS if item.applies_to(services))
