"""The comparison rules, states and signature checks: plain Python, no Flask."""

import json
from decimal import Decimal

import pytest

from webapp.domain.checklist import (
    CORE_ITEMS,
    Answer,
    ChecklistItem,
    DiscountTerms,
    Facts,
    Item,
    Source,
    TariffTerms,
    discounts_match,
    find_discrepancies,
    serials_match,
    unmatched,
)
from webapp.domain.signature import SignatureError, parse_drawing, svg_path
from webapp.domain.states import Action, TransitionRefused, allows, next_status
from webapp.domain.terms import HandoverStatus


def pct(value, months=None, description=""):
    return DiscountTerms("percent", Decimal(value), months, description)


def amount(value, months=None, description=""):
    return DiscountTerms("amount", Decimal(value), months, description)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (pct("10", 6), pct("10.00", 6)),
        (amount("100", None), amount("100.00", None)),
        (pct("12.5", 3, "New subscriber"), pct("12.50", 3, "Something else entirely")),
        (amount("0.10", 1), amount("0.1", 1)),
    ],
)
def test_discounts_match_on_kind_exact_value_and_duration(a, b):
    assert a.matches(b) and b.matches(a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (pct("10", 6), amount("10", 6)),  # percent is not an amount
        (pct("10", 6), pct("10.01", 6)),
        (pct("10", 6), pct("10", 7)),
        (pct("10", None), pct("10", 12)),  # permanent is not twelve months
        (amount("99.99", 1), amount("100", 1)),
    ],
)
def test_discounts_differing_in_kind_value_or_duration_do_not_match(a, b):
    assert not a.matches(b) and not b.matches(a)


def test_each_promise_needs_its_own_discount():
    promised = [pct("10", 6), pct("10", 6)]
    assert unmatched(promised, [pct("10.00", 6)]) == [pct("10", 6)]
    assert discounts_match(promised, [pct("10", 6), pct("10.0", 6)])
    assert not discounts_match(promised, [pct("10", 6)])


def test_discount_lists_match_in_any_order():
    assert discounts_match([pct("5", 1), amount("50", 2)], [amount("50.00", 2), pct("5.00", 1)])


def tariff(name, fee):
    return TariffTerms(name, Decimal(fee))


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (tariff("Home 500", "650"), tariff("home 500", "650.00"), True),
        (tariff("Home  500 ", "650"), tariff(" HOME 500", "650"), True),
        (tariff("Домашний 500", "1"), tariff("ДОМАШНИЙ 500", "1"), True),
        (tariff("Home 500", "650"), tariff("Home 500", "650.01"), False),
        (tariff("Home 500", "650"), tariff("Home 300", "650"), False),
        (tariff("Home500", "650"), tariff("Home 500", "650"), False),
    ],
)
def test_tariffs_match_on_name_ignoring_case_and_spacing_and_on_exact_fee(a, b, same):
    assert a.matches(b) is same


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (["SN-1", "SN-2"], ["sn-2", "SN-1"], True),
        ([" SN-1"], ["SN-1"], True),
        (["SN-1"], ["SN-1", "SN-2"], False),
        (["SN-1", "SN-1"], ["SN-1"], False),
        ([], [], True),
    ],
)
def test_equipment_matches_on_the_same_serials(a, b, same):
    assert serials_match(a, b) is same


def facts(**overrides) -> Facts:
    parts = {
        "application_discounts": (pct("20", 6, "New subscriber"),),
        "equipment": ({"kind": "router", "model": "M", "serial": "SN-1", "terms": "rented",
                       "monthly_fee": Decimal("0")},),
        "technician": {"name": "Ivan", "employee_id": "T-1", "contractor": "NetBuild"},
    }
    values = {
        "portal_login": "lk-1", "contract_number": "D-1", "contract_pages": 12,
        "tariff_name": "Home 500", "monthly_fee": Decimal("650"), "billing_method": "credit",
        "services": ["internet"],
    }
    return Facts(values=values, **(parts | overrides))


def all_yes(**overrides):
    return {item.key: Answer(confirmed=True) for item in CORE_ITEMS} | overrides


def find(facts, answers):
    return find_discrepancies(facts, answers, CORE_ITEMS)


def test_all_yes_and_no_sales_promises_means_no_discrepancies():
    assert find(facts(), all_yes()) == []


@pytest.mark.parametrize("item", CORE_ITEMS, ids=lambda item: item.key)
def test_every_no_is_a_discrepancy_with_what_was_recorded(item):
    found = find(facts(), all_yes(**{item.key: Answer(False, comment="Not so")}))
    assert len(found) == 1
    (discrepancy,) = found
    assert (discrepancy.item, discrepancy.source) == (item.key, Source.SUBSCRIBER)
    assert discrepancy.recorded == facts().recorded(item)
    assert set(discrepancy.recorded) == set(item.shows)
    assert discrepancy.stated["comment"] == "Not so"


def test_what_an_item_records_is_plain_json_with_exact_amounts():
    tariff_item = next(item for item in CORE_ITEMS if item.key == Item.TARIFF)
    assert facts().recorded(tariff_item) == {"tariff_name": "Home 500", "monthly_fee": "650.00"}


def test_an_item_for_some_services_is_asked_only_where_one_of_them_is_recorded():
    tv = ChecklistItem("tv_box", "TV box", "I received the TV box.", services=frozenset({"tv"}))
    assert tv.applies_to(["internet", "tv"]) and not tv.applies_to(["internet"])
    assert all(item.applies_to([]) for item in CORE_ITEMS)


def test_a_no_on_discounts_lists_the_promises_missing_from_the_application():
    stated = (pct("20.00", 6), amount("100", None, "Free router"))
    answer = Answer(False, stated_discounts=stated)
    found = find(facts(), all_yes(**{Item.DISCOUNTS: answer}))
    assert found[0].recorded == {
        "discounts": [
            {"description": "New subscriber", "kind": "percent", "value": "20.00", "months": 6}
        ]
    }
    assert found[0].stated["not_in_application"] == [
        {"description": "Free router", "kind": "amount", "value": "100.00", "months": None}
    ]
    assert found[0].stated["not_stated"] == []


def test_a_no_on_discounts_lists_application_discounts_the_subscriber_never_heard_of():
    answer = Answer(False, stated_discounts=(pct("20", 3),))
    (found,) = find(facts(), all_yes(**{Item.DISCOUNTS: answer}))
    assert found.stated["not_in_application"] == [pct("20", 3).as_dict()]
    assert found.stated["not_stated"] == [pct("20", 6, "New subscriber").as_dict()]


def test_an_unstated_fee_compares_the_tariff_name_only():
    assert tariff("home 500", "650").matches(TariffTerms("Home 500", None))
    assert not tariff("Home 300", "650").matches(TariffTerms("Home 500", None))
    assert TariffTerms("Home 500", None).as_dict() == {"name": "Home 500", "fee": None}


def test_a_no_on_tariff_keeps_the_offered_tariff_even_when_it_is_the_same():
    same = TariffTerms("HOME 500", Decimal("650.00"))
    other = TariffTerms("Home 300", Decimal("450"))
    for stated, is_same in ((same, True), (other, False)):
        answer = Answer(False, stated_tariff=stated)
        (found,) = find(facts(), all_yes(**{Item.TARIFF: answer}))
        assert found.stated["tariff"] == stated.as_dict()
        assert found.stated["same_as_recorded"] is is_same


def test_a_no_on_equipment_compares_the_serials_received():
    answer = Answer(False, stated_serials=("SN-9",))
    (found,) = find(facts(), all_yes(**{Item.EQUIPMENT: answer}))
    assert found.stated["serials"] == ["SN-9"]
    assert found.stated["same_as_recorded"] is False


def test_sales_promises_missing_from_the_application_are_found_without_any_no():
    promised = (pct("20", 6), amount("300", 1, "Installation refund"))
    (found,) = find(facts(sales_discounts=promised), all_yes())
    assert (found.item, found.source) == (Item.DISCOUNTS, Source.SALES)
    assert found.stated["not_in_application"] == [amount("300", 1, "Installation refund").as_dict()]
    assert found.stated["not_promised"] == []


def test_application_discounts_sales_never_promised_are_found_too():
    (found,) = find(facts(sales_discounts=(pct("10", 6),)), all_yes())
    assert found.stated["not_promised"] == [pct("20", 6, "New subscriber").as_dict()]


def test_sales_promises_that_match_the_application_are_no_discrepancy():
    assert find(facts(sales_discounts=(pct("20.00", 6, "Promo"),)), all_yes()) == []


def test_subscriber_and_sales_discrepancies_are_both_kept():
    answers = all_yes(**{Item.TARIFF: Answer(False, comment="Cheaper")})
    found = find(facts(sales_discounts=(pct("5", 1),)), answers)
    assert [(d.item, d.source) for d in found] == [
        (Item.TARIFF, Source.SUBSCRIBER), (Item.DISCOUNTS, Source.SALES)
    ]


@pytest.mark.parametrize(
    ("status", "action", "expected"),
    [
        ("draft", Action.FREEZE, HandoverStatus.AWAITING_SUBSCRIBER),
        ("awaiting_subscriber", Action.REOPEN, HandoverStatus.DRAFT),
        ("awaiting_subscriber", Action.SUBSCRIBER_SIGN, HandoverStatus.SUBSCRIBER_SIGNED),
        ("subscriber_signed", Action.CLOSE, HandoverStatus.CLOSED),
    ],
)
def test_the_handover_moves_forward_step_by_step(status, action, expected):
    assert next_status(status, action) == expected
    assert allows(status, action)


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("draft", Action.CLOSE),
        ("draft", Action.SUBSCRIBER_SIGN),
        ("awaiting_subscriber", Action.CLOSE),
        ("subscriber_signed", Action.REOPEN),
        ("subscriber_signed", Action.SUBSCRIBER_SIGN),
        ("closed", Action.REOPEN),
        ("closed", Action.CLOSE),
        ("nonsense", Action.FREEZE),
    ],
)
def test_steps_out_of_order_are_refused(status, action):
    with pytest.raises(TransitionRefused):
        next_status(status, action)
    assert not allows(status, action)


def drawing_json(strokes, width=300, height=150):
    return json.dumps({"width": width, "height": height, "strokes": strokes})


def test_a_drawing_becomes_a_compact_svg_path():
    drawing = parse_drawing(drawing_json([[[10, 20], [30.06, 40]], [[50, 50]]]))
    assert svg_path(drawing) == "M10 20L30.1 40M50 50L50.1 50"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json", "format"),
        ('{"width": 300, "height": 150, "strokes": [[[1, NaN]]]}', "format"),
        ('{"width": 300, "height": 150, "strokes": [[[1, Infinity]]]}', "format"),
        (drawing_json([[[1, True]]]), "format"),
        (drawing_json([[[1, "2"]]]), "format"),
        (drawing_json([[[1, 2, 3]]]), "format"),
        (drawing_json([[]]), "format"),
        (drawing_json("strokes"), "format"),
        (drawing_json([[[1, 2]]], width=10), "format"),
        (drawing_json([[[1, 2]]], width=1e9), "format"),
        (drawing_json([[[1, 2]]], width=320.5), "format"),  # the box is whole pixels
        (drawing_json([[[1, 2]]], width=10**400), "format"),  # too big for a float
        (drawing_json([[[10**400, 2]]]), "format"),
        ("[]", "format"),
        (drawing_json([]), "empty"),
        (drawing_json([[[1, 1]]] * 51), "too_many_strokes"),
        (drawing_json([[[1, 1]] * 5001]), "too_many_points"),
        (drawing_json([[[1, 1]] * 2600, [[1, 1]] * 2600]), "too_many_points"),
        (drawing_json([[[301, 1]]]), "outside"),
        (drawing_json([[[-1, 1]]]), "outside"),
        (drawing_json([[[1, 151]]]), "outside"),
        ("[" * 100_000, "format"),  # deep nesting is refused, not a crash
        (" " * 200_001, "too_many_points"),
    ],
)
def test_bad_drawings_are_refused_with_a_reason(text, reason):
    with pytest.raises(SignatureError) as refused:
        parse_drawing(text)
    assert refused.value.reason == reason


def test_limits_themselves_are_accepted():
    strokes = [[[1, 1]] * 100] * 50  # 50 strokes, 5,000 points
    assert len(parse_drawing(drawing_json(strokes)).strokes) == 50
    assert parse_drawing(drawing_json([[[0, 0], [300, 150]]])).strokes == (((0, 0), (300, 150)),)


def test_declarations_that_could_not_be_shown_are_refused_at_start():
    from webapp.domain.declared import check
    from webapp.domain.facts import CORE_FACTS, Fact, Section

    with pytest.raises(ValueError, match="name of its own"):
        check((*CORE_FACTS, Fact("technician", "Technician", Section.SUBSCRIBER)), CORE_ITEMS)
    with pytest.raises(ValueError, match="names what is not a fact"):
        check(CORE_FACTS, (*CORE_ITEMS, ChecklistItem("x", "X", "On floor %(floor)d.")))
    with pytest.raises(ValueError, match="shows what no fact records"):
        check(CORE_FACTS, (*CORE_ITEMS, ChecklistItem("x", "X", "Fine.", shows=("floor",))))
    with pytest.raises(ValueError, match="share a key"):
        check(CORE_FACTS, CORE_ITEMS + CORE_ITEMS[:1])
