"""The domain's rules, checked without Flask or a database."""

from decimal import Decimal

import pytest

from webapp.domain.money import AmountError, as_hundredths, from_hundredths, parse_amount
from webapp.domain.phone import PhoneError, format_phone, normalise_phone, takes_sms
from webapp.domain.search import fragments, parse_query, searchable_text, similarity, whole
from webapp.domain.text import has_control_characters


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("650", Decimal("650.00")),
        ("650,5", Decimal("650.50")),
        ("650.55", Decimal("650.55")),
        ("1 234,50", Decimal("1234.50")),
        ("1\u00a0234,50", Decimal("1234.50")),
        (" 0 ", Decimal("0.00")),
        ("1000000", Decimal("1000000.00")),
    ],
)
def test_amounts_are_parsed_exactly_as_people_type_them(typed, expected):
    assert parse_amount(typed) == expected


@pytest.mark.parametrize(
    "typed", ["", "abc", "1.234", "12,345", "-5", "1e3", "NaN", "Infinity", "1 23", "١٢", "1,2,3"]
)
def test_anything_but_an_amount_with_two_decimals_is_refused(typed):
    with pytest.raises(AmountError):
        parse_amount(typed)


def test_hundredths_round_trip_without_float_error():
    value = Decimal("0.10") + Decimal("0.20")
    assert as_hundredths(value) == 30
    assert from_hundredths(as_hundredths(value)) == Decimal("0.30")


def test_amounts_finer_than_a_cent_cannot_be_stored():
    with pytest.raises(AmountError):
        as_hundredths(Decimal("1.005"))


@pytest.mark.parametrize(
    "dictated", ["8 912 345-67-89", "+7 (912) 3456789", "89123456789", "+79123456789"]
)
def test_phones_are_normalised_to_e164(dictated):
    assert normalise_phone(dictated) == "+79123456789"


@pytest.mark.parametrize("dictated", ["12345", "not a phone", "+7 912", "+7 000 000-00-00", ""])
def test_invalid_phones_are_refused(dictated):
    with pytest.raises(PhoneError):
        normalise_phone(dictated)


@pytest.mark.parametrize(("number", "mobile"), [
    ("+79123456789", True),
    ("+79001234567", True),
    ("+74951234567", False),  # a Moscow landline
    ("+73422123456", False),  # a Perm landline
    ("+78001234567", False),  # toll-free
    ("+78091234567", False),  # premium-rate
    ("+447911123456", True),  # a British mobile
    ("+442079460000", False),  # a London landline
    ("+12015550123", True),  # the US does not tell mobiles from landlines: either may be one
    ("not a number", False),
])
def test_only_mobile_numbers_take_sms(number, mobile):
    assert takes_sms(number) is mobile


def test_phones_are_shown_in_international_format():
    assert format_phone("+79123456789") == "+7 912 345-67-89"


@pytest.mark.parametrize("text", ["tab\there", "line\nbreak", "nul\x00", "bell\x07", "\u202eevil"])
def test_control_characters_are_detected(text):
    assert has_control_characters(text)


@pytest.mark.parametrize("text", ["Иван Петров", "ул. Ленина, д. 5", "<b>bold</b>", "a/b-c"])
def test_ordinary_text_has_no_control_characters(text):
    assert not has_control_characters(text)


# What support types into the search box


@pytest.mark.parametrize(
    ("typed", "phone"),
    [("8 912 345-67-89", "+79123456789"), ("+7 (912) 3456789", "+79123456789"),
     ("89123456789", "+79123456789"), ("1234567890", None), ("12-34", None),
     ("Ленина 5", None)],
)
def test_a_dictated_phone_is_read_in_e164(typed, phone):
    assert parse_query(typed).phone == phone


def test_numbers_are_looked_up_as_typed_without_spaces_and_receipts_in_capitals():
    query = parse_query("  ho-2345-6789 ")
    assert "HO-2345-6789" in query.identifiers
    assert set(parse_query("12 34 56").identifiers) == {"12 34 56", "123456"}
    assert parse_query("12 34 56").fuzzy == ""  # no letters: never a loose match


def test_address_words_and_punctuation_do_not_count():
    assert searchable_text("Пётр Иванов", "г. Пермь, ул. Ленина, д. 5, кв. 12") == (
        " петр иванов пермь ленина 5 12 "
    )
    assert searchable_text("%_'\\\"") == ""


def test_similarity_compares_each_word_with_its_closest_in_any_order():
    assert similarity("ленина 5", " пермь 5 ленина 12 ") == 1
    assert 0.5 < similarity("ленона 5", " ленина 5 ") < 1
    assert similarity("ленина 5", " мира 7 ") == 0
    # Trigrams scattered over other words do not add up to a match.
    assert similarity("фролова", " саколова фрунзе ") < similarity("фролова", " фролова ")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("саколова", "соколова"), ("соколава", "соколова"), ("ленона", "ленина"),
     ("ленин", "ленина"), ("орлав", "орлов"), ("5", "5")],
)
def test_a_word_with_one_typo_keeps_a_fragment_of_the_stored_one(typed, stored):
    assert any(piece in searchable_text(stored) for piece in fragments(typed))


def test_a_short_word_is_found_only_whole():
    assert not any(piece in searchable_text("15") for piece in whole("5") + fragments("5"))


def test_every_fragment_is_long_enough_for_a_trigram_index():
    for word in ("орлов", "соколова", "ленина", "абв", "5"):
        assert all(len(piece) >= 3 for piece in fragments(word))


@pytest.mark.parametrize("text, parts", [
    ("A" * 160, 1), ("A" * 161, 2), ("A" * 306, 2), ("A" * 307, 3),  # GSM 7-bit
    ("[" * 80, 1), ("[" * 81, 2),  # extension characters take two septets each
    ("Я" * 70, 1), ("Я" * 71, 2), ("Я" * 134, 2), ("Я" * 135, 3),  # Cyrillic: UCS-2
    ("A" * 69 + "Я", 1), ("A" * 70 + "Я", 2),  # one Cyrillic letter makes it all UCS-2
])
def test_sms_segments_are_counted_as_a_gateway_bills_them(text, parts):
    from webapp.domain.sms import segments

    assert segments(text) == parts


def test_the_receipt_sms_in_russian_fits_two_segments_with_long_values(app):
    from webapp.domain.sms import segments
    from webapp.models import Receipt
    from webapp.outbox.messages import sms_text

    app.config.update(OPERATOR_NAME="Я" * 30, PUBLIC_URL="https://handover.example-telecom.ru")
    with app.app_context():
        receipt = Receipt(number="HO-7K4M-9QX2", locale="ru")
        text = sms_text(receipt, "7K4MQ-9QX2A")
    assert "квитанция HO-7K4M-9QX2, код 7K4MQ-9QX2A" in text
    assert text.endswith("https://handover.example-telecom.ru/r/HO-7K4M-9QX2")
    assert segments(text) == 2
