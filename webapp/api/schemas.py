"""What the API takes and gives. The same schemas validate requests, shape responses
and make the OpenAPI document; the limits are the web form's (`LIMITS`), and the
rules beyond shape are checked by the web form itself (see routes.facts_from)."""

from marshmallow import Schema, ValidationError, fields, validate

from webapp.domain.terms import (
    BillingMethod,
    DiscountKind,
    DiscrepancyStatus,
    HandoverStatus,
    Service,
)
from webapp.domain.text import has_control_characters
from webapp.handovers.forms import LIMITS, MAX_CONTRACT_PAGES, MAX_DISCOUNTS, MAX_MONTHS


def printable(value: str) -> None:
    if has_control_characters(value):
        raise ValidationError("Remove control characters (such as tabs or line breaks).")


def text(limit: int, **kwargs) -> fields.String:
    return fields.String(validate=[validate.Length(min=1, max=limit), printable], **kwargs)


MONEY = r"^[0-9]{1,7}(\.[0-9]{1,2})?$"


def money_in(**kwargs) -> fields.String:
    """An exact amount as text ("650.00"): no float rounding, ASCII digits only; its
    range is the web form's to check."""
    metadata = {"format": "decimal", "example": "650.00"} | kwargs.pop("metadata", {})
    message = "Write the amount as digits with at most two decimals, for example 650.00."
    return fields.String(validate=validate.Regexp(MONEY, error=message), metadata=metadata,
                         **kwargs)


def money() -> fields.Decimal:
    """An exact amount in a response, as text ("650.00")."""
    metadata = {"type": "string", "format": "decimal", "example": "650.00"}
    return fields.Decimal(as_string=True, metadata=metadata)


def one_of(vocabulary) -> fields.String:
    values = [term.value for term in vocabulary]
    return fields.String(required=True, validate=validate.OneOf(values))


class DiscountIn(Schema):
    description = text(LIMITS["discount_description"], required=True)
    kind = one_of(DiscountKind)
    value = money_in(required=True,
                     metadata={"description": "Percent (0-100] or an amount in roubles"})
    months = fields.Integer(required=True, allow_none=True, strict=True,
                            validate=validate.Range(1, MAX_MONTHS),
                            metadata={"description": "null: permanent"})


class HandoverIn(Schema):
    order_number = text(LIMITS["order_number"], required=True)
    account_number = text(LIMITS["account_number"], required=True)
    contract_number = text(LIMITS["contract_number"], required=True)
    contract_pages = fields.Integer(
        required=True, strict=True, validate=validate.Range(1, MAX_CONTRACT_PAGES)
    )
    subscriber_name = text(LIMITS["subscriber_name"], required=True)
    phone = text(LIMITS["phone"], required=True)
    address = text(LIMITS["address"], required=True)
    services = fields.List(
        fields.String(validate=validate.OneOf([s.value for s in Service])),
        required=True, validate=validate.Length(min=1, max=len(Service)),
    )
    tariff_name = text(LIMITS["tariff_name"], required=True)
    monthly_fee = money_in(required=True)
    billing_method = one_of(BillingMethod)
    sales_discounts = fields.List(
        fields.Nested(DiscountIn), load_default=list,
        validate=validate.Length(max=MAX_DISCOUNTS),
        metadata={"description": "Discounts sales promised; compared with the application's."},
    )
    technician = text(64, required=True,
                      metadata={"description": "The technician's login or employee id"})


class DiscountOut(Schema):
    description = fields.String()
    kind = fields.String()
    value = money()
    months = fields.Integer(allow_none=True)
    source = fields.String()


class DiscrepancyOut(Schema):
    item = fields.String()
    source = fields.String()
    recorded = fields.Dict()
    stated = fields.Dict()
    status = fields.String(validate=validate.OneOf([s.value for s in DiscrepancyStatus]))


class WhoseOrder(Schema):
    """What an order system finds a handover or receipt by."""

    order_number = fields.String()
    account_number = fields.String()
    contract_number = fields.String()
    subscriber_name = fields.String()
    phone = fields.String(metadata={"description": "E.164"})


class HandoverOut(WhoseOrder):
    id = fields.String(attribute="public_id")
    status = fields.String(validate=validate.OneOf([s.value for s in HandoverStatus]))
    address = fields.String()
    services = fields.List(fields.String())
    tariff_name = fields.String()
    monthly_fee = money()
    billing_method = fields.String()
    discounts = fields.List(fields.Nested(DiscountOut))
    discrepancies = fields.List(fields.Nested(DiscrepancyOut))
    receipt_number = fields.String(allow_none=True)
    created_at = fields.DateTime()


class ReceiptOut(WhoseOrder):
    number = fields.String()
    issued_at = fields.DateTime()
    handover_id = fields.String()
    discrepancies = fields.Integer()
    pdf = fields.String(metadata={"description": "Where the signed PDF is"})


class ReceiptQuery(Schema):
    account_number = text(LIMITS["account_number"])
    contract_number = text(LIMITS["contract_number"])
    order_number = text(LIMITS["order_number"])
    phone = text(LIMITS["phone"])
    page = fields.Integer(load_default=1, validate=validate.Range(1, 10_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class ReceiptPage(Schema):
    receipts = fields.List(fields.Nested(ReceiptOut))
    page = fields.Integer()
    next_page = fields.Integer(allow_none=True)


class FieldProblem(Schema):
    pointer = fields.String(metadata={"description": "JSON Pointer to the field"})
    detail = fields.String()


class Problem(Schema):
    """RFC 9457 problem details."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.List(fields.Nested(FieldProblem))
    existing_id = fields.String(metadata={"description": "On 409: the handover already made"})
