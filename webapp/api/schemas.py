"""What the API takes and gives, built from the declared facts (webapp/domain/facts.py).

The same schemas validate requests, shape responses and make the OpenAPI document,
so the document is the contract: every rule the API applies to what a request says
is in it (lengths, patterns, ranges, vocabularies), and the server applies exactly
those: a pattern the document states is the pattern the server matches whole
(webapp/api/patterns.py). Nothing is stripped or rewritten on the way in, but for an
e-mail address, stored normalised as the form stores it (the domain in lower case).
Only the rules that need the database (the technician must exist, an order is handed
over once) are beyond the schema; each operation documents the problem they answer with.

Every message is a catalog message, in the language the request negotiated
(webapp/api/smorest.py): marshmallow's own English ones are replaced here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, ValidationError, fields, pre_dump, validate

from webapp.api import patterns
from webapp.config import Config
from webapp.domain.checklist import DiscountTerms, Source
from webapp.domain.declared import FACTS, FACTS_BY_NAME
from webapp.domain.email_address import EMAIL_PATTERN, EmailError, normalise_email
from webapp.domain.facts import (
    DISCOUNT_FIELDS,
    MAX_DISCOUNTS,
    WHOLE_RANGE,
    Fact,
    Kind,
    discount_value_range,
)
from webapp.domain.money import MAX_AMOUNT
from webapp.domain.phone import NOT_MOBILE, takes_sms
from webapp.domain.terms import DiscountKind, DiscountSource, DiscrepancyStatus, HandoverStatus
from webapp.domain.text import (
    AT_MOST,
    FILL_IN,
    NO_CONTROL_CHARACTERS,
    PRINTABLE_ONLY,
    has_control_characters,
)
from webapp.models import always_recorded
from webapp.routing import MAX_PAGE

PHONE_REGION = Config.PHONE_REGION
MAX_PER_PAGE = 100

# --- Messages: marshmallow's, from the catalog ----------------------------------------------

MESSAGES = {
    "required": _l("Send this field."),
    "null": _l("This field may not be null."),
    "validator_failed": _l("This value is not allowed."),
}


def _messages(**specific) -> dict[str, Any]:
    return {**MESSAGES, **specific}


class Strict(Schema):
    """An object that refuses members it does not declare (additionalProperties: false)."""

    class Meta:
        unknown = RAISE

    error_messages = {
        "unknown": _l("This field is not part of the request."),
        "type": _l("Send a JSON object."),
    }


class Text(fields.String):
    default_error_messages = _messages(
        invalid=_l("Send text (a JSON string)."), invalid_utf8=_l("Send text in UTF-8.")
    )


class Patterned(Text):
    """Text that must match its pattern whole, as the document publishes it; what it
    loads as is `convert`'s to say (the text itself, a Decimal, …)."""

    def __init__(self, pattern: str, explain: Callable[[str], Any], **kwargs):
        self.pattern = pattern
        self.explain = explain
        kwargs["metadata"] = {"pattern": pattern, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not patterns.matches(self.pattern, text):
            raise ValidationError(self.explain(text))
        return self.convert(text)

    def convert(self, text: str) -> Any:
        return text


class Amount(Patterned):
    """An exact amount as text ("650.00"), never a JSON number a client could round;
    it loads as a Decimal."""

    def convert(self, text: str) -> Decimal:
        return Decimal(text).quantize(Decimal("0.01"))


class MobilePhone(Patterned):
    """A number in E.164 that takes SMS: its pattern lists the mobile ranges, and the
    server asks libphonenumber as the form does (webapp/domain/phone.py)."""

    def convert(self, text: str) -> str:
        if not takes_sms(text):
            raise ValidationError(_l(NOT_MOBILE))
        return text


class Email(Patterned):
    """An e-mail address as its pattern states it (webapp/domain/email_address.py), at
    most `max_length` characters; it loads normalised, as the form stores it."""

    def __init__(self, max_length: int, **kwargs):
        self.max_length = max_length
        # maxLength beside the pattern (which text_note avoids): this pattern is ASCII, so
        # a tool that folds the two together cannot misspell what it names.
        kwargs["metadata"] = {"format": "email", "maxLength": max_length,
                              **kwargs.get("metadata", {})}
        super().__init__(EMAIL_PATTERN, explain_email(max_length), **kwargs)

    def convert(self, text: str) -> str:
        # The pattern does not bound the whole length (maxLength beside it does).
        if len(text) > self.max_length:
            raise ValidationError(_l(AT_MOST, max=self.max_length))
        try:
            return normalise_email(text)
        except EmailError as error:
            raise ValidationError(_l(error.message)) from None


class Whole(fields.Integer):
    """A JSON integer: 12 (or 12.0, the same number), never 12.5, "12" or true."""

    default_error_messages = _messages(
        invalid=_l("Send a whole number (a JSON integer)."),
        too_large=_l("The number is too large."),
    )

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        # JSON has one kind of number, and JSON Schema 2020-12 (OpenAPI 3.1) counts 12.0
        # an integer: the document allows it, so the server takes it, as 12.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return super()._validated(value)


class QueryWhole(fields.Integer):
    """A whole number in the query string: ASCII digits, with a minus sign if negative."""

    default_error_messages = _messages(invalid=_l("Send a whole number."))

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not patterns.matches(r"^-?[0-9]{1,18}$", value):
            raise self.make_error("invalid")
        return int(value)


class Many(fields.List):
    default_error_messages = _messages(invalid=_l("Send a list (a JSON array)."))


class Count(validate.Length):
    """How many items a list may have (minItems, maxItems in the document)."""

    def __init__(self, minimum: int | None, maximum: int | None, too_few=None):
        super().__init__(min=minimum, max=maximum)
        self.too_few = too_few

    def __call__(self, value):
        if self.min is not None and len(value) < self.min:
            raise ValidationError(self.too_few or _l("Send at least %(min)d.", min=self.min))
        if self.max is not None and len(value) > self.max:
            raise ValidationError(_l("Send at most %(max)d.", max=self.max))
        return value


def unique(value: list) -> list:
    """Each item once (uniqueItems in the document)."""
    if len(set(map(repr, value))) != len(value):
        raise ValidationError(_l("Send each value once."))
    return value


def one_of(values: list[str]) -> validate.OneOf:
    return validate.OneOf(values, error=_l("Use one of: %(choices)s.", choices=", ".join(values)))


def between(minimum: int, maximum: int, message: str | None) -> validate.Range:
    """minimum and maximum in the document; the fact's own message, else WHOLE_RANGE."""
    return validate.Range(minimum, maximum,
                          error=_l(message or WHOLE_RANGE, min=minimum, max=maximum))


def explain_text(max_length: int, printable: bool = False) -> Callable[[str], Any]:
    """Say what is wrong with free text its pattern refused."""

    def explain(text: str):
        if not text:
            return _l(FILL_IN)
        if len(text) > max_length:
            return _l(AT_MOST, max=max_length)
        if has_control_characters(text):
            return _l(NO_CONTROL_CHARACTERS)
        if printable and not all(ch.isprintable() and ord(ch) <= 0xFFFF for ch in text):
            return _l(PRINTABLE_ONLY)
        return _l("Remove the white space at the start and the end.")

    return explain


def explain_email(max_length: int) -> Callable[[str], Any]:
    """Say what is wrong with an e-mail address its pattern refused, as the form says it."""

    def explain(text: str):
        if not text:
            return _l(FILL_IN)
        if len(text) > max_length:
            return _l(AT_MOST, max=max_length)
        try:
            normalise_email(text)
        except EmailError as error:
            return _l(error.message)
        return _l("Use the form the pattern states.")  # never: the pattern is the rule's

    return explain


def explain_mobile(text: str):
    """Say what is wrong with a number the mobile pattern refused."""
    if patterns.matches(patterns.phone_pattern(PHONE_REGION), text):
        return _l(NOT_MOBILE)  # a valid number, but a landline, toll-free, …
    return _l("Send the number in E.164, for example +79123456789.")


def text_note(max_length: int) -> str:
    # No minLength/maxLength beside the pattern, which states the length itself: tools
    # that fold those into a pattern rewrite it, and the characters beyond the BMP it
    # names would come out in Python's spelling (\U0001…), which ECMA-262 cannot read.
    return (
        f"Free text of 1 to {max_length} characters, stored exactly as sent: no white "
        "space at either end, and no control, invisible-format or line-separator "
        "characters (the pattern lists them, and states the length)."
    )
PHONE_NOTE = (
    "The number in E.164, a Russian one: +7 and the national number of a fixed line, a "
    "mobile, toll-free, premium-rate or personal number as Russia's numbering plan assigns "
    "them (libphonenumber's metadata; the pattern lists the ranges). The server accepts "
    "every number the pattern matches and refuses every other."
)
MOBILE_NOTE = (
    "The number in E.164, a Russian mobile one, as the receipt is sent to it by SMS: +7 "
    "and the national number of a mobile as Russia's numbering plan assigns them "
    "(libphonenumber's metadata; the pattern lists the ranges). The server accepts every "
    "number the pattern matches and refuses every other: a landline, a toll-free number, …"
)


def email_note(max_length: int) -> str:
    return (
        f"An e-mail address in Latin letters, at most {max_length} characters and 64 before "
        "the @, as the pattern states it: no quoted part, IP address or internationalised "
        "(xn--) domain, and no top-level domain reserved for special use (.test, .local, …). "
        "It is stored normalised: the domain in lower case (and role names such as "
        "INFO@ too, as RFC 2142 has them)."
    )


# --- Fields built from facts ----------------------------------------------------------------


def _described(fact: Fact, note: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"description": fact.label + (f". {note}" if note else "")}
    if fact.example is not None:
        metadata["example"] = fact.plain(fact.example)
    return metadata


def fact_in(fact: Fact, *, required: bool | None = None, nullable: bool | None = None
            ) -> fields.Field:
    """The request field for a fact, with every rule the server applies to it; a fact
    that is not required may be left out or sent as null."""
    required = fact.required if required is None else required
    nullable = not required if nullable is None else nullable
    common: dict[str, Any] = {"required": required, "allow_none": nullable}
    if fact.kind is Kind.TEXT:
        if fact.pattern:
            message = _l(fact.pattern_message) if fact.pattern_message else _l(
                "Use the form the pattern states."
            )
            return Patterned(
                fact.pattern, lambda _text, message=message: message,
                validate=validate.Length(1, fact.max_length,
                                         error=_l(AT_MOST, max=fact.max_length)),
                metadata=_described(fact), **common,
            )
        return Patterned(
            patterns.text_pattern(fact.max_length, fact.printable),
            explain_text(fact.max_length, fact.printable),
            metadata=_described(fact, text_note(fact.max_length)), **common,
        )
    if fact.kind is Kind.PHONE and fact.mobile:
        return MobilePhone(
            patterns.phone_pattern(PHONE_REGION, ("mobile",)), explain_mobile,
            metadata=_described(fact, MOBILE_NOTE), **common,
        )
    if fact.kind is Kind.PHONE:
        message = _l("Send the number in E.164, for example +79123456789.")
        return Patterned(
            patterns.phone_pattern(PHONE_REGION), lambda _text: message,
            metadata=_described(fact, PHONE_NOTE), **common,
        )
    if fact.kind is Kind.EMAIL:
        return Email(fact.max_length, metadata=_described(fact, email_note(fact.max_length)),
                     **common)
    if fact.kind is Kind.WHOLE:
        return Whole(validate=between(fact.minimum, fact.maximum, fact.range_message),
                     metadata=_described(fact), **common)
    if fact.kind is Kind.MONEY:  # an amount's range is in its pattern, so it needs one
        lowest = Decimal(0) if fact.minimum is None else fact.minimum
        highest = MAX_AMOUNT if fact.maximum is None else fact.maximum
        return amount_in(fact, lowest, highest, **common)
    values = [term.value for term in fact.vocabulary]
    if fact.kind is Kind.CHOICE:
        return Text(validate=one_of(values), metadata=_described(fact), **common)
    if fact.kind is Kind.CHOICES:
        too_few = _l(fact.required_message) if fact.required_message else None
        return Many(
            Text(validate=one_of(values), required=True),
            validate=[Count(1 if required else 0, len(values), too_few), unique],
            metadata={**_described(fact), "uniqueItems": True}, **common,
        )
    raise ValueError(f"the API has no field for facts of kind {fact.kind}")


def amount_in(fact: Fact, minimum, maximum, exclusive: bool = False, **kwargs) -> Amount:
    pattern = patterns.amount_pattern(minimum, maximum, exclusive)
    lowest = "more than" if exclusive else "from"
    note = (f"An exact amount as text, {lowest} {minimum} to {maximum}, with at most two "
            "decimals and no leading zeros (the pattern states the range).")
    if exclusive:
        message = _l("Write a number above %(min)s and at most %(max)s, with at most two "
                     "decimals, for example 12.5.", min=minimum, max=maximum)
    else:
        message = _l("Write an amount from %(min)s to %(max)s, with at most two decimals, "
                     "for example 650.00.", min=minimum, max=maximum)
    metadata = {**_described(fact, note), "format": "decimal"}
    return Amount(pattern, lambda _text: message, metadata=metadata, **kwargs)


def technician_in() -> Patterned:
    return Patterned(
        patterns.text_pattern(64), explain_text(64), required=True,
        metadata={"description": (
            "The login or employee id of an active technician. One that names no active "
            "technician (or two) is answered with 422, its error at /technician. "
            + text_note(64)
        ), "example": "tech"},
    )


# --- Discounts: their kind decides their value's range -------------------------------------


def discount_schema(kind: DiscountKind) -> type[Schema]:
    """The schema of a discount of this kind, its value's range in its pattern."""
    lowest, highest, exclusive = discount_value_range(kind)
    found: dict[str, fields.Field] = {}
    for fact in DISCOUNT_FIELDS:
        if fact.name == "kind":
            found["kind"] = Text(required=True, validate=one_of([kind.value]),
                                 metadata={"description": "The discount's kind"})
        elif fact.name == "value":
            found["value"] = amount_in(fact, lowest, highest, exclusive, required=True)
        elif fact.name == "months":
            # Sent always, null meaning permanent: a discount left without months by
            # mistake must not become a permanent one.
            found["months"] = Whole(
                required=True, allow_none=True,
                validate=between(fact.minimum, fact.maximum, fact.range_message),
                metadata={**_described(fact), "description": (
                    f"{fact.label}; null: permanent. Always sent."
                )},
            )
        else:
            found[fact.name] = fact_in(fact)
    return Strict.from_dict(found, name=f"{kind.value.title()}DiscountIn")


DISCOUNT_SCHEMAS: dict[str, type[Schema]] = {kind.value: discount_schema(kind)
                                             for kind in DiscountKind}


class DiscountIn(fields.Field):
    """One discount sales promised, as one of DISCOUNT_SCHEMAS chosen by its `kind`
    (oneOf with a discriminator in the document); it loads as DiscountTerms."""

    default_error_messages = _messages(type=_l("Send a JSON object."))

    def _deserialize(self, value, attr, data, **kwargs) -> DiscountTerms:
        if not isinstance(value, Mapping):
            raise self.make_error("type")
        kind = value.get("kind")
        if "kind" not in value:
            raise ValidationError({"kind": [MESSAGES["required"]]})
        if not isinstance(kind, str) or kind not in DISCOUNT_SCHEMAS:
            raise ValidationError({"kind": [_l("Use one of: %(choices)s.",
                                               choices=", ".join(DISCOUNT_SCHEMAS))]})
        try:
            row = DISCOUNT_SCHEMAS[kind]().load(value)
        except ValidationError as error:
            raise ValidationError(error.messages) from None
        return DiscountTerms(row["kind"], row["value"], row["months"], row["description"])


def discount_in_property(self, field, **kwargs) -> dict:
    """apispec: document DiscountIn as oneOf its schemas, discriminated by `kind`."""
    if not isinstance(field, DiscountIn):
        return {}
    refs = {kind: self.resolve_nested_schema(schema) for kind, schema in DISCOUNT_SCHEMAS.items()}
    return {
        "oneOf": list(refs.values()),
        "discriminator": {
            "propertyName": "kind",
            "mapping": {kind: ref["$ref"] for kind, ref in refs.items()},
        },
    }


# --- Requests -------------------------------------------------------------------------------


def _order_fields() -> dict[str, fields.Field]:
    found = {fact.name: fact_in(fact) for fact in FACTS if fact.from_order}
    found["sales_discounts"] = Many(
        DiscountIn(), load_default=list, validate=Count(0, MAX_DISCOUNTS),
        metadata={"description": "Discounts sales promised; compared with the application's."},
    )
    found["technician"] = technician_in()
    return found


HandoverIn = Strict.from_dict(_order_fields(), name="HandoverIn")

SEARCH_KEYS = tuple(fact.name for fact in FACTS if fact.search_key)


def _query_fields() -> dict[str, fields.Field]:
    # A search takes any valid number: jobs recorded before the phone had to be a
    # mobile one are found by theirs.
    found: dict[str, fields.Field] = {
        name: fact_in(replace(FACTS_BY_NAME[name], mobile=False), required=False,
                      nullable=False)
        for name in SEARCH_KEYS
    }
    found["page"] = QueryWhole(load_default=1, validate=between(1, MAX_PAGE, None))
    found["per_page"] = QueryWhole(load_default=20, validate=between(1, MAX_PER_PAGE, None))
    return found


ReceiptQuery = Strict.from_dict(_query_fields(), name="ReceiptQuery")


# --- Responses ------------------------------------------------------------------------------

MONEY_OUT = r"^[0-9]+\.[0-9]{2}$"


def money_out(**kwargs) -> fields.Decimal:
    """An exact amount in a response, as text with two decimals ("650.00")."""
    metadata = {"type": "string", "format": "decimal", "pattern": MONEY_OUT, "example": "650.00",
                **kwargs.pop("metadata", {})}
    return fields.Decimal(places=2, as_string=True, metadata=metadata, **kwargs)


def enum_out(vocabulary, **kwargs) -> fields.String:
    return fields.String(validate=validate.OneOf([term.value for term in vocabulary]), **kwargs)


def fact_out(fact: Fact) -> fields.Field:
    """The response field for a fact: always present; null where nothing is recorded
    (an optional fact, or one declared after the handover was made)."""
    kwargs: dict[str, Any] = {
        "required": True, "allow_none": not fact.required or not always_recorded(fact.name),
        "metadata": {"description": fact.label},
    }
    if fact.kind is Kind.WHOLE:
        return fields.Integer(**kwargs)
    if fact.kind is Kind.MONEY:
        return money_out(**kwargs)
    if fact.kind is Kind.CHOICE:
        return enum_out(fact.vocabulary, **kwargs)
    if fact.kind is Kind.CHOICES:
        return fields.List(enum_out(fact.vocabulary), **kwargs)
    if fact.kind is Kind.PHONE:
        kwargs["metadata"] = {"description": f"{fact.label}, in E.164"}
    if fact.kind is Kind.EMAIL:
        kwargs["metadata"] = {"description": f"{fact.label}, normalised", "format": "email"}
    return fields.String(**kwargs)


class DiscountOut(Schema):
    description = fields.String(required=True, allow_none=True)
    kind = enum_out(DiscountKind, required=True)
    value = money_out(required=True)
    months = fields.Integer(required=True, allow_none=True,
                            metadata={"description": "null: permanent"})
    source = enum_out(DiscountSource, required=True)


class DiscrepancyOut(Schema):
    item = fields.String(required=True, metadata={"description": "The checklist item's key"})
    source = enum_out(Source, required=True)
    recorded = fields.Dict(required=True)
    stated = fields.Dict(required=True)
    status = enum_out(DiscrepancyStatus, required=True)


def _handover_fields() -> dict[str, fields.Field]:
    found: dict[str, fields.Field] = {
        "id": fields.String(required=True, metadata={"description": "The handover's id"}),
        "status": enum_out(HandoverStatus, required=True),
    }
    found |= {fact.name: fact_out(fact) for fact in FACTS}
    found |= {
        "discounts": fields.List(fields.Nested(DiscountOut), required=True),
        "discrepancies": fields.List(fields.Nested(DiscrepancyOut), required=True),
        "receipt_number": fields.String(required=True, allow_none=True),
        "created_at": fields.DateTime(required=True),
    }
    return found


class HandoverShape(Schema):
    @pre_dump
    def plain(self, handover, **kwargs) -> dict[str, Any]:
        return {
            "id": handover.public_id, "status": handover.status,
            **handover.recorded_facts(),
            "discounts": handover.discounts, "discrepancies": handover.discrepancies,
            "receipt_number": handover.receipt_number, "created_at": handover.created_at,
        }


HandoverOut = HandoverShape.from_dict(_handover_fields(), name="HandoverOut")

RECEIPT_FACTS = tuple(fact.name for fact in FACTS if fact.identifies)


def _receipt_fields() -> dict[str, fields.Field]:
    return {
        "number": fields.String(required=True, metadata={"example": "HO-7K3M-Q9PX"}),
        "issued_at": fields.DateTime(required=True),
        "handover_id": fields.String(required=True),
        **{name: fact_out(FACTS_BY_NAME[name]) for name in RECEIPT_FACTS},
        "discrepancies": fields.Integer(required=True,
                                        metadata={"description": "How many were found"}),
        "pdf": fields.String(required=True, metadata={
            "format": "uri", "description": "Where the signed PDF is"}),
    }


ReceiptOut = Schema.from_dict(_receipt_fields(), name="ReceiptOut")


class ReceiptPage(Schema):
    receipts = fields.List(fields.Nested(ReceiptOut), required=True)
    page = fields.Integer(required=True)
    next_page = fields.Integer(required=True, allow_none=True)


class FieldProblem(Schema):
    pointer = fields.String(required=True, metadata={
        "description": "JSON Pointer to the field in the body (or the query parameter's "
                       "name, as /name); empty for the whole body"})
    detail = fields.String(required=True)


class Problem(Schema):
    """RFC 9457 problem details, in the language Accept-Language asks for (English
    unless Russian is preferred)."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    errors = fields.List(fields.Nested(FieldProblem))
    existing_id = fields.String(metadata={"description": "On 409: the handover already made"})
