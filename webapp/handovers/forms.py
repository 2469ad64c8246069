"""The technician's handover form: the facts as the application states them.

Its fields come from the declared facts (webapp/domain/facts.py); only the rows
of discounts and equipment, and the button, are added here.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SubmitField

from webapp.domain.declared import FACTS
from webapp.domain.facts import MAX_DISCOUNTS, MAX_EQUIPMENT
from webapp.fact_forms import DiscountRow, EquipmentRow, facts_form
from webapp.forms import Form, RowList, SignedForm


class HandoverForm(facts_form(FACTS)):
    discounts = RowList(
        DiscountRow, MAX_DISCOUNTS, label=_l("Discounts written in the application")
    )
    equipment = RowList(EquipmentRow, MAX_EQUIPMENT, label=_l("Equipment"))
    submit = SubmitField(_l("Save"))

    @classmethod
    def editing(cls, recorded: dict) -> HandoverForm:
        """Return the form filled with what is recorded (webapp.handovers.service.recorded)."""
        rows = [DiscountRow.row_of(terms) for terms in recorded["discounts"]]
        return cls(data=recorded | {"discounts": rows})

    def discount_terms(self):
        """Return the discounts filled in, as terms."""
        return [DiscountRow.terms_of(row) for row in self.discounts.filled()]

    def pad_rows(self) -> None:
        """Offer empty rows so the form works without JavaScript."""
        self.discounts.pad()
        self.equipment.pad()


class CountersignForm(SignedForm):
    submit = SubmitField(_l("Countersign and close the job"))


class ConfirmActionForm(Form):
    """One button that changes the handover's state (freeze, reopen)."""
