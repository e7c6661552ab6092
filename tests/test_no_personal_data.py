"""Charter rule 1: reception and counselling never store who a visitor is. No model of those apps
has a field that could hold a name, an e-mail address, a phone number, an address, a birth date
or an identity number, and a visit has no free text at all.

The resource of the week, which the waiting-room screen reads, is checked too: it keeps which
record a site puts forward, never who chose it (the audit log says that).

New models of either app are checked as soon as they exist; so are feedback's, which also hold
no free text and point to no visit, desk or account. A field whose name merely *looks*
personal must be added to ALLOWED with the reason it is not about a person."""

from __future__ import annotations

from django.apps import apps
from django.db import models

from feedback.models import FeedbackClaim
from feedback.services import Answers, answer_visit
from tests.feedback_fixtures import served_visit

APPS = ("reception", "counselling")
# Models of other apps that screens in the waiting room read, checked the same way.
MODELS = ("resources.ResourceOfTheWeek",)
SUSPICIOUS = (
    "name",
    "email",
    "mail",
    "phone",
    "tel",
    "mobile",
    "address",
    "birth",
    "nir",  # the French social security number
    "ssn",
    "passport",
    "id_number",
    "first",
    "last",
    "surname",
)
# (model label, field name): why this field is not about a person. Keep it as short as possible.
ALLOWED = {
    ("counselling.Desk", "name"): "a desk's public name, such as “Desk 3”: a place, not a person",
    ("counselling.Desk", "spoken_name"): "how the waiting-room screen announces that desk",
    ("counselling.Topic", "name"): "a coded interview topic, such as “CV”: a subject, not a person",
    ("reception.Visit", "first_theme"): "the theme chosen at arrival, before any referral",
    ("reception.TicketCounter", "last_number"): "the last ticket number given that day",
}


def checked_models() -> list[type[models.Model]]:
    return [
        *(
            model
            for label in APPS
            for model in apps.get_app_config(label).get_models()
            if not model._meta.proxy
        ),
        *(apps.get_model(label) for label in MODELS),
    ]


def fields_of(model: type[models.Model]) -> list[models.Field]:
    """Every field the model stores or declares (reverse relations belong to the other model)."""
    meta = model._meta
    return [*meta.concrete_fields, *meta.many_to_many, *meta.private_fields]


def suspicious_words(field: models.Field) -> set[str]:
    names = {field.name.lower(), (getattr(field, "column", None) or field.name).lower()}
    return {word for word in SUSPICIOUS for name in names if word in name}


def test_it_checks_the_models_of_reception_and_counselling():
    labels = {model._meta.label for model in checked_models()}
    assert {"reception.Visit", "reception.Call", "counselling.Desk", "counselling.Interview"} <= (
        labels
    )
    assert "resources.ResourceOfTheWeek" in labels


def test_no_model_has_an_email_field():
    offenders = [
        f"{model._meta.label}.{field.name}"
        for model in checked_models()
        for field in fields_of(model)
        if isinstance(field, models.EmailField)
    ]
    assert offenders == []


def test_no_field_name_suggests_personal_data():
    offenders = {
        f"{model._meta.label}.{field.name}": sorted(suspicious_words(field))
        for model in checked_models()
        for field in fields_of(model)
        if suspicious_words(field) and (model._meta.label, field.name) not in ALLOWED
    }
    assert offenders == {}


def test_the_allow_list_is_minimal():
    # Every exception exists and is needed: a removed or renamed field leaves no stale exception.
    fields = {
        (model._meta.label, field.name): field
        for model in checked_models()
        for field in fields_of(model)
    }
    for key, reason in ALLOWED.items():
        assert key in fields, f"{key} no longer exists: remove it from ALLOWED"
        assert suspicious_words(fields[key]), f"{key} looks harmless: remove it from ALLOWED"
        assert reason


def test_a_visit_has_no_free_text():
    visit = apps.get_model("reception", "Visit")
    free_text = [
        field.name
        for field in fields_of(visit)
        if isinstance(field, models.TextField | models.JSONField)
    ]
    assert free_text == []
    # Its short text fields are all codes from a fixed list, or generated.
    uncoded = [
        field.name
        for field in fields_of(visit)
        if isinstance(field, models.CharField) and not field.choices and field.editable
    ]
    assert uncoded == ["letter"]  # copied from the theme's ticket letter


# --- three-tap feedback ---------------------------------------------------------------------------

FEEDBACK_MODELS = ("feedback.FeedbackAnswer", "feedback.FeedbackHelp", "feedback.FeedbackClaim")
# What a feedback row may point to: its place, its day's theme, partner institutions, and its
# own answer. Never a visit, an interview, a desk or anyone's account.
FEEDBACK_LINKS = {"citedesmetiers.Site", "citedesmetiers.Theme", "citedesmetiers.Partner"}


def test_it_checks_every_feedback_model():
    assert {m._meta.label for m in apps.get_app_config("feedback").get_models()} == set(
        FEEDBACK_MODELS
    )


def test_feedback_holds_no_free_text_nor_anything_that_identifies_a_person():
    for label in FEEDBACK_MODELS:
        model = apps.get_model(label)
        for field in fields_of(model):
            assert not isinstance(field, models.TextField | models.JSONField), field
            assert not suspicious_words(field), field
            if isinstance(field, models.CharField):
                # Codes from a fixed list, or generated (the claim's digest), never typed.
                assert field.choices or not field.editable, field
            if field.is_relation:
                target = field.related_model._meta.label
                assert target in FEEDBACK_LINKS | {"feedback.FeedbackAnswer"}, field


def test_a_feedback_claim_keeps_no_token_and_no_answer(centre):
    visit = served_visit(centre.alpha, centre.counsellor_a)
    answer_visit(token=visit.token, answers=Answers(wait="too_long"))

    (claim,) = FeedbackClaim.objects.values()
    assert visit.token not in str(claim)
    assert "too_long" not in str(claim)


def test_the_resource_of_the_week_keeps_no_account():
    model = apps.get_model("resources.ResourceOfTheWeek")
    assert {field.name for field in fields_of(model)} == {"id", "site", "resource", "chosen_at"}
