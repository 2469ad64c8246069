"""The vocabulary of a handover: what can be recorded and the states it passes through."""

from enum import StrEnum


class Role(StrEnum):
    TECHNICIAN = "technician"
    SUPPORT = "support"
    ADMIN = "admin"


class HandoverStatus(StrEnum):
    DRAFT = "draft"
    AWAITING_SUBSCRIBER = "awaiting_subscriber"
    SUBSCRIBER_SIGNED = "subscriber_signed"
    CLOSED = "closed"


class Service(StrEnum):
    INTERNET = "internet"
    TV = "tv"
    HOME_PHONE = "home_phone"


class Document(StrEnum):
    FULL_CONTRACT = "full_contract"
    TARIFF_ANNEX = "tariff_annex"
    DISCOUNT_AGREEMENT = "discount_agreement"
    SETTINGS_SHEET = "settings_sheet"
    EQUIPMENT_ACT = "equipment_act"


class BillingMethod(StrEnum):
    CREDIT = "credit"
    ADVANCE = "advance"


class DiscountKind(StrEnum):
    PERCENT = "percent"
    AMOUNT = "amount"


class DiscountSource(StrEnum):
    APPLICATION = "application"  # written in the application by the technician
    SALES = "sales"  # promised by sales, arrives from the order system
    SUBSCRIBER = "subscriber"  # stated by the subscriber while verifying


class EquipmentType(StrEnum):
    ROUTER = "router"
    ONT = "ont"
    TV_BOX = "tv_box"
    PHONE_ADAPTER = "phone_adapter"
    OTHER = "other"


class EquipmentTerms(StrEnum):
    RENTED = "rented"
    SOLD = "sold"
    OWN = "own"


class DiscrepancyStatus(StrEnum):
    """How far support has got in putting a discrepancy right."""

    OPEN = "open"
    CONTACTED = "contacted"  # support has spoken to the subscriber
    RESOLVED = "resolved"


class MessageChannel(StrEnum):
    """How the outbox reaches someone."""

    SMS = "sms"
    EMAIL = "email"
    WEBHOOK = "webhook"


class DeliveryAnswer(StrEnum):
    """What a provider's answer to one try meant (its own words are kept beside it)."""

    ACCEPTED = "accepted"
    ACCEPTED_BEFORE = "accepted_before"  # a repeat, refused because the first one went
    SHOWN_ON_PAGE = "shown_on_page"  # development: on the outbox page, not sent
    NOT_CONFIGURED = "not_configured"
    UNREACHABLE = "unreachable"  # no connection, or no answer in time
    CREDENTIALS = "credentials"  # the provider refused the account's credentials
    PROVIDER_ERROR = "provider_error"  # a 5xx, an answer that makes no sense, another error
    RECIPIENT_REFUSED = "recipient_refused"  # the number, address or receiver is refused
    MESSAGE_REFUSED = "message_refused"
    UNEXPECTED = "unexpected"  # a fault of ours; the log has it


class DeliveryStatus(StrEnum):
    """Where an outbox message stands."""

    QUEUED = "queued"  # waiting for its first try
    RETRYING = "retrying"  # a try failed; waiting for the next (support reads the reason)
    SENT = "sent"
    FAILED = "failed"  # given up: undeliverable, or out of attempts
