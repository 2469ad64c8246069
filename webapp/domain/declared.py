"""The facts and checklist items in use: the core ones, and any declared beside them.

`HANDOVER_DECLARATIONS` may name a module with `FACTS` and `ITEMS` tuples to add
to the core ones (tests/extra_declarations.py shows the shape). It is read once,
at import, because forms and API schemas are classes built from these lists.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from importlib import import_module

from webapp.domain.checklist import CORE_ITEMS, ChecklistItem
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

if len(ITEMS_BY_KEY) != len(ITEMS):
    raise ValueError("two checklist items share a key")


def items_for(services: Iterable[str]) -> tuple[ChecklistItem, ...]:
    """Return the items asked of a handover recording these services, in order."""
    services = tuple(services or ())
    return tuple(item for item in ITEMS if item.applies_to(services))
