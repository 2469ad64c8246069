"""The handover's life: which action moves it from which state to which."""

from enum import StrEnum

from webapp.domain.terms import DiscrepancyStatus, HandoverStatus


class Action(StrEnum):
    FREEZE = "freeze"  # the technician hands the facts to the subscriber
    REOPEN = "reopen"  # the technician takes them back to correct something
    SUBSCRIBER_SIGN = "subscriber_sign"
    CLOSE = "close"  # the technician countersigns and closes the job


TRANSITIONS: dict[tuple[HandoverStatus, Action], HandoverStatus] = {
    (HandoverStatus.DRAFT, Action.FREEZE): HandoverStatus.AWAITING_SUBSCRIBER,
    (HandoverStatus.AWAITING_SUBSCRIBER, Action.REOPEN): HandoverStatus.DRAFT,
    (HandoverStatus.AWAITING_SUBSCRIBER, Action.SUBSCRIBER_SIGN): HandoverStatus.SUBSCRIBER_SIGNED,
    (HandoverStatus.SUBSCRIBER_SIGNED, Action.CLOSE): HandoverStatus.CLOSED,
}

# The technician's facts can change only before they are handed to the subscriber.
EDITABLE_STATUSES = frozenset({HandoverStatus.DRAFT})
# Once signed, a handover keeps its facts, answers and signature for good.
SIGNED_STATUSES = frozenset({HandoverStatus.SUBSCRIBER_SIGNED, HandoverStatus.CLOSED})


class TransitionRefused(Exception):
    """The action is not possible in the handover's current state."""

    def __init__(self, status: str, action: Action):
        super().__init__(f"cannot {action} a handover that is {status}")
        self.status = status
        self.action = action


def next_status(status: str, action: Action) -> HandoverStatus:
    """Return the state the action leads to, or raise TransitionRefused."""
    try:
        return TRANSITIONS[(HandoverStatus(status), action)]
    except (KeyError, ValueError):
        raise TransitionRefused(status, action) from None


def source_of(action: Action) -> HandoverStatus:
    """Return the one state the action starts from."""
    (source,) = [status for status, step in TRANSITIONS if step is action]
    return source


def allows(status: str, action: Action) -> bool:
    """Tell whether the action is possible in this state."""
    return (status, action) in TRANSITIONS


# Support works a discrepancy: it may note another contact, but a resolved one stays resolved.
DISCREPANCY_MOVES: dict[DiscrepancyStatus, frozenset[DiscrepancyStatus]] = {
    DiscrepancyStatus.OPEN: frozenset({DiscrepancyStatus.CONTACTED, DiscrepancyStatus.RESOLVED}),
    DiscrepancyStatus.CONTACTED: frozenset(
        {DiscrepancyStatus.CONTACTED, DiscrepancyStatus.RESOLVED}
    ),
    DiscrepancyStatus.RESOLVED: frozenset(),
}


def discrepancy_may_move(status: str, to: str) -> bool:
    """Tell whether support may mark a discrepancy in this status as `to`."""
    return to in DISCREPANCY_MOVES.get(status, frozenset())
