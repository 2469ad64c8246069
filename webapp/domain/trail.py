"""How a receipt prints a handover's audit trail: bounded however many events there are.

Events anyone can repeat at will (opening the link, sending answers, staff opening
the job) are counted, one row per kind. The rest (created, frozen, signed, closed,
issued, and the technician's edits and take-backs) are listed one row each in time
order, but only so many: the start of the story and its end, with what lies between
counted per kind. The database keeps every event; support sees them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Anyone holding the link, or any member of staff, can add these as often as they like.
REPEATABLE = frozenset({
    "subscriber.link_opened",
    "subscriber.submitted",  # every submission, also the failed and the replayed ones
    "handover.viewed",
    "receipt.viewed",
    "receipt.downloaded",
})

# Listed one by one: a normal job has about ten such events. A technician taking the
# facts back and handing them over again adds three a cycle, so past 30 the receipt
# keeps the first 10 (the job's start) and the last 20 (the version the subscriber
# signed, the signing and the closing) and counts the ones between per kind.
FIRST_LISTED = 10
LAST_LISTED = 20


@dataclass(frozen=True)
class Tally:
    """Events of one kind counted together (one row of a GROUP BY)."""

    event: str
    count: int
    first: datetime
    last: datetime
    addresses: int  # distinct IP addresses
    devices: int  # distinct user agents
    order: int  # where the first of them stands among all events (its id)
    ip: str | None = None  # the address and device when there is only one
    user_agent: str | None = None


def is_repeatable(event: str) -> bool:
    return event in REPEATABLE


def listed_ends(total: int) -> tuple[int, int] | None:
    """Return how many of the listed events to show from the start and from the end, or
    None when all of them fit."""
    if total <= FIRST_LISTED + LAST_LISTED:
        return None
    return FIRST_LISTED, LAST_LISTED


def event_row(event: str, at: datetime, ip: str | None, user_agent: str | None) -> dict[str, Any]:
    """Return one event as the receipt prints it."""
    return {"summary": False, "event": event, "at": at, "ip": ip, "user_agent": user_agent}


def tally_row(tally: Tally) -> dict[str, Any]:
    """Return a kind of event as the receipt prints it: counted, or as itself if it
    happened once. Like a single event, a count names its address and device when
    there was only one of each: a subscriber opening the link thrice from one phone."""
    if tally.count == 1:
        return event_row(tally.event, tally.first, tally.ip, tally.user_agent)
    return {
        "summary": True, "event": tally.event, "count": tally.count, "first": tally.first,
        "last": tally.last, "addresses": tally.addresses, "devices": tally.devices,
        "ip": tally.ip if tally.addresses == 1 else None,
        "user_agent": tally.user_agent if tally.devices == 1 else None,
    }


def trail(
    listed: Iterable[tuple[int, dict[str, Any]]], tallies: Iterable[Tally]
) -> list[dict[str, Any]]:
    """Merge events listed one by one (with their order) and counted kinds into the
    receipt's rows, in order of each row's first event."""
    rows = [*listed, *((tally.order, tally_row(tally)) for tally in tallies)]
    return [row for _, row in sorted(rows, key=lambda pair: pair[0])]
