"""Human labels, in the person's language, for the domain's vocabulary."""

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from webapp.domain.declared import FACTS_BY_NAME, ITEMS, ITEMS_BY_KEY
from webapp.domain.terms import (
    BillingMethod,
    DeliveryAnswer,
    DeliveryStatus,
    DiscountKind,
    DiscountSource,
    DiscrepancyStatus,
    Document,
    EquipmentTerms,
    EquipmentType,
    HandoverStatus,
    MessageChannel,
    Role,
    Service,
)

LABELS = {
    Role.TECHNICIAN: _l("Technician"),
    Role.SUPPORT: _l("Support agent"),
    Role.ADMIN: _l("Administrator"),
    HandoverStatus.DRAFT: _l("Draft"),
    HandoverStatus.AWAITING_SUBSCRIBER: _l("Awaiting subscriber"),
    HandoverStatus.SUBSCRIBER_SIGNED: _l("Signed by subscriber"),
    HandoverStatus.CLOSED: _l("Closed"),
    Service.INTERNET: _l("Internet"),
    Service.TV: _l("TV"),
    Service.HOME_PHONE: _l("Home phone"),
    Document.FULL_CONTRACT: _l("Full contract"),
    Document.TARIFF_ANNEX: _l("Tariff annex"),
    Document.DISCOUNT_AGREEMENT: _l("Discount agreement"),
    Document.SETTINGS_SHEET: _l("Settings sheet"),
    Document.EQUIPMENT_ACT: _l("Equipment act"),
    BillingMethod.CREDIT: _l("Credit"),
    BillingMethod.ADVANCE: _l("Advance"),
    DiscountKind.PERCENT: _l("Percent"),
    DiscountKind.AMOUNT: _l("Fixed amount"),
    DiscountSource.APPLICATION: _l("Written in the application"),
    DiscountSource.SALES: _l("Promised by sales"),
    DiscountSource.SUBSCRIBER: _l("Stated by the subscriber"),
    EquipmentType.ROUTER: _l("Router"),
    EquipmentType.ONT: _l("Optical terminal (ONT)"),
    EquipmentType.TV_BOX: _l("TV set-top box"),
    EquipmentType.PHONE_ADAPTER: _l("Phone adapter"),
    EquipmentType.OTHER: _l("Other equipment"),
    EquipmentTerms.RENTED: _l("Rented"),
    EquipmentTerms.SOLD: _l("Sold"),
    EquipmentTerms.OWN: _l("Subscriber's own"),
    DiscrepancyStatus.OPEN: _l("Open"),
    DiscrepancyStatus.CONTACTED: _l("Contacted"),
    DiscrepancyStatus.RESOLVED: _l("Resolved"),
    MessageChannel.SMS: _l("SMS"),
    MessageChannel.EMAIL: _l("E-mail"),
    MessageChannel.WEBHOOK: _l("Webhook"),
    DeliveryAnswer.ACCEPTED: _l("Accepted"),
    DeliveryAnswer.ACCEPTED_BEFORE: _l("Accepted on an earlier try"),
    DeliveryAnswer.SHOWN_ON_PAGE: _l("Shown on the outbox page (development: not sent)"),
    DeliveryAnswer.NOT_CONFIGURED: _l("No gateway or mail server is configured"),
    DeliveryAnswer.UNREACHABLE: _l("The service could not be reached"),
    DeliveryAnswer.CREDENTIALS: _l("The service refused our credentials"),
    DeliveryAnswer.PROVIDER_ERROR: _l("The service answered with an error"),
    DeliveryAnswer.RECIPIENT_REFUSED: _l("The number or address was refused"),
    DeliveryAnswer.MESSAGE_REFUSED: _l("The message was refused"),
    DeliveryAnswer.UNEXPECTED: _l("Our fault; the server log has it"),
    DeliveryStatus.QUEUED: _l("Queued"),
    DeliveryStatus.RETRYING: _l("Failed, retrying"),
    DeliveryStatus.SENT: _l("Sent"),
    DeliveryStatus.FAILED: _l("Failed"),
}


# Audit events, as the receipt's last page and the support pages name them.
EVENTS = {
    "handover.created": _l("Handover created"),
    "handover.updated": _l("Facts changed"),
    "handover.frozen": _l("Facts handed to the subscriber"),
    "handover.reopened": _l("Facts taken back for correction"),
    "handover.device_handed_over": _l("Technician's device handed to the subscriber"),
    "handover.device_returned": _l("Device returned to the technician"),
    "subscriber.link_opened": _l("Subscriber opened the link"),
    "subscriber.submitted": _l("Subscriber sent the answers"),
    "subscriber.signed": _l("Subscriber signed"),
    "technician.countersigned": _l("Technician countersigned"),
    "handover.closed": _l("Job closed"),
    "receipt.issued": _l("Receipt issued"),
    "receipt.downloaded": _l("Receipt downloaded"),
    "receipt.viewed": _l("Receipt opened by staff"),
    "receipt.opened_by_code": _l("Receipt opened with its number and code"),
    "receipt.code_refused": _l("Receipt number and code refused"),
    "handover.viewed": _l("Handover opened by staff"),
    "discrepancy.contacted": _l("Support contacted the subscriber about a discrepancy"),
    "discrepancy.resolved": _l("Support resolved a discrepancy"),
    "api_client.created": _l("API client created"),
    "api_client.revoked": _l("API client revoked"),
    "api_client.webhook_set": _l("API client's webhook address set"),
    "receipt.resent": _l("Receipt sent again by support"),
    "staff.created": _l("Staff account created"),
    "staff.role_changed": _l("Staff role changed"),
    "staff.deactivated": _l("Staff account deactivated"),
    "staff.reactivated": _l("Staff account reactivated"),
    "staff.password_reset": _l("Staff password reset"),
}


def label(value: str) -> str:
    """Return the label of a vocabulary value; unknown values are shown as they are."""
    return str(LABELS.get(value) or EVENTS.get(value, value))  # StrEnum members hash as values


def choices(vocabulary) -> list[SelectChoice]:
    """Return the options of a select field, in the vocabulary's order."""
    return [SelectChoice(term.value, LABELS[term]) for term in vocabulary]


def item_label(key: str) -> str:
    """Return the label of a checklist item (its own, never another vocabulary's)."""
    item = ITEMS_BY_KEY.get(key)
    return gettext(item.label) if item else key


def item_choices() -> list[SelectChoice]:
    """Return the checklist items as the options of a select field."""
    return [SelectChoice(item.key, _l(item.label)) for item in ITEMS]


# What a billing method means for the subscriber's money, where they confirm it.
EXPLANATIONS = {
    BillingMethod.CREDIT: _l(
        "Services are charged every day, whether you use them or not. When you go away, set "
        "a voluntary block (in your personal account or through support) so that charges stop."
    ),
    BillingMethod.ADVANCE: _l(
        "You pay before each billing period. Services work while the paid period lasts; pay "
        "for the next one in time to keep them."
    ),
}

# The handover's parts that are not single facts, as checklist items show them.
PART_LABELS = {
    "discounts": _l("Discounts"),
    "equipment": _l("Equipment"),
    "technician": _l("Installer"),
}


def explanation(value: str) -> str:
    """Return what a vocabulary value means for the subscriber, or "" if nothing."""
    text = EXPLANATIONS.get(value)
    return str(text) if text else ""


def part_label(name: str) -> str:
    """Return the label of a declared fact or of one of the handover's parts."""
    fact = FACTS_BY_NAME.get(name)
    return gettext(fact.label) if fact else str(PART_LABELS.get(name, name))
