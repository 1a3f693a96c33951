"""Unit tests of the automatic rubric scorers and the Norwegian text normalisation (fast, no I/O)."""

from __future__ import annotations

import re

import pydantic
import pytest

from rubrics.scorers import REGISTRY
from rubrics.scorers import lexicon as lx
from rubrics.text import normalise, safe_snippet
from rubrics.types import CallText, Utterance

pytestmark = pytest.mark.pure  # no model, database, subprocess or audio decoding

# --- helpers ---------------------------------------------------------------------------------


def call(*turns: str, roles_inferred: bool = False, staff: str = "operator") -> CallText:
    """Turns alternate unless prefixed: 'S: …' is staff, 'C: …' the caller, 'O: …' other."""
    utts = []
    for i, t in enumerate(turns):
        if t[:3] in ("S: ", "C: ", "O: "):
            role = {"S": staff, "C": "caller", "O": "other"}[t[0]]
            t = t[3:]
        else:
            role = staff if i % 2 == 0 else "caller"
        utts.append(Utterance(i, i * 5.0, i * 5.0 + 4.0, t, role, "S1" if role == staff else "S2"))
    return CallText("test", tuple(utts), "lvs", roles_inferred=roles_inferred)


def score(criterion: str, c: CallText, **params):
    cls, fn = REGISTRY[criterion]
    return fn(c, cls(**params))


# --- normalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ring hundre og tretten", "ring 113"),
        ("ring én én seks én én sju", "ring 116117"),
        ("ring ett ett tre", "ring 113"),
        ("ring en en tre med en gang", "ring 113 med en gang"),
        ("Ring 116 117!", "ring 116117 ."),
        ("feber over trettiåtte komma fem", "feber over 38,5"),
        ("feber over tretti åtte komma fem", "feber over 38,5"),
        ("han er åttifire", "han er 84"),
        ("korleis har du det no", "hvordan har du det nå"),
        ("kva er det eg ikkje skjønar", "hva er det jeg ikke skjønner"),
        ("viss han blir dårlegare", "hvis han blir dårligere"),
        ("kom inn til lege vakten", "kom inn til legevakten"),
        ("ved forverringav symptomene", "ved forverring av symptomene"),
        ("eh ja ehm mm greit", "ja greit"),
        ("legevakta du snakkar med sjukepleiar ola", "legevakten du snakker med sykepleier ola"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw).text == expected


def test_normalise_spans_point_into_original_text() -> None:
    raw = "Viss han blir dårlegare, ring hundre og tretten!"
    n = normalise(raw)
    i = n.text.index("113")
    s, e = n.span(i, i + 3)
    assert raw[s:e] == "hundre og tretten"
    i = n.text.index("dårligere")
    s, e = n.span(i, i + len("dårligere"))
    assert raw[s:e] == "dårlegare"


@pytest.mark.parametrize(
    ("raw", "expected", "fuzzy"),
    [
        ("kan du si tilbakke", "kan du si tilbake", True),
        ("ring legevagten", "ring legevakten", True),
        ("jeg er sikker", "jeg er sikker", False),  # not "usikker"
        ("fortell litt", "fortell litt", False),  # an inflection, not ASR noise
        ("usikkert", "usikkert", False),
    ],
)
def test_fuzzy_correction_is_narrow(raw: str, expected: str, fuzzy: bool) -> None:
    n = normalise(raw)
    assert n.text == expected
    assert bool(n.fuzzy) is fuzzy


def test_fuzzy_can_be_switched_off() -> None:
    assert normalise("ring legevagten", 101).text == "ring legevagten"


def test_safe_snippet_hides_numbers() -> None:
    out = safe_snippet("ring 113 eller 116117, eller meg på 99 88 77 66")
    assert "113" not in out and "116117" not in out and "99" not in out
    assert "nødnummeret" in out and "legevaktnummeret" in out


# --- registry and params ---------------------------------------------------------------------


def test_registry_params_defaults_and_descriptions() -> None:
    assert set(REGISTRY) == {
        "introduces_self", "open_questions", "elicits_concerns", "asks_prior_contact",
        "asks_to_speak_to_patient", "states_urgency", "summarises", "worsening_advice", "safety_netting",
        "checks_understanding", "communicates_uncertainty", "offers_video",
    }  # fmt: skip
    for name, (cls, fn) in REGISTRY.items():
        params = cls()
        for fname, f in cls.model_fields.items():
            assert f.description, f"{name}.{fname} has no description"
        with pytest.raises(pydantic.ValidationError):
            cls(no_such_knob=1)
        s = fn(call("Legevakten.", "Hei."), params)
        assert s.criterion_id == name


def test_every_score_is_well_formed() -> None:
    c = call(
        "Legevakten, sykepleier Kari. Hva kan jeg hjelpe deg med?",
        "Sønnen min på ti har vondt i magen.",
        "Kan du fortelle meg hvordan det startet? Har dere vært hos lege for dette?",
        "Det startet i går. Nei.",
        "Hvis han får høy feber eller blir slapp, ring oss igjen på 116117. Kan du si tilbake hva du skal se etter?",
        "Ring hvis han blir slapp.",
    )
    for name, (cls, fn) in REGISTRY.items():
        s = fn(c, cls())
        assert 0.0 <= s.confidence <= 1.0
        assert s.rationale and "\n" not in s.rationale
        assert not re.search(r"\d{3,}", s.rationale), s.rationale
        for ev in s.evidence:
            u = c.utterances[ev.segment_index]
            assert u.is_staff
            assert u.text[ev.start_char : ev.end_char] == ev.text
        if not s.evidence:
            assert s.value in (0, None), (name, s)


def test_roles_inferred_lowers_confidence() -> None:
    turns = ("Legevakten, sykepleier Kari.", "Hei.")
    known = score("introduces_self", call(*turns))
    guessed = score("introduces_self", call(*turns, roles_inferred=True))
    assert known.value == guessed.value == 1
    assert guessed.confidence < known.confidence


# --- introduces_self -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("greeting", "value"),
    [
        ("Legevakten, sykepleier Eva.", 1),
        ("legevakten du snakker med per", 1),
        ("legevakta eg heiter kari", 1),
        ("Hei, dette er legevaktlegen, jeg ringer tilbake.", 1),
        ("Det er legen på legevakta.", 1),
        ("Legevakten, hallo.", 0),
        ("Legevakten.", 0),
        ("hallo det var fra legevakten", 0),
        ("Hallo, du ringte om et spørsmål?", 0),
    ],
)
def test_introduces_self(greeting: str, value: int) -> None:
    s = score("introduces_self", call(greeting, "Ja hei, jeg har vondt i ryggen og lurte på noe."))
    assert s.value == value


def test_introduces_self_ignores_later_role_words() -> None:
    c = call("Legevakten.", "Hei, det gjelder mora mi som er dårlig i dag.", "Har hun vært hos lege?")
    assert score("introduces_self", c).value == 0


# --- open_questions / elicits_concerns -------------------------------------------------------


def test_open_questions_none() -> None:
    c = call("Legevakten.", "Jeg har feber, kan jeg ta Ibux?", "Hvor høy feber?", "39.", "Ja, det kan du.")
    assert score("open_questions", c).value == 0


def test_open_questions_one_opener() -> None:
    c = call(
        "Legevakten, hva gjelder det?", "Jeg har kuttet meg.", "Hvor lenge har det blødd?", "Ti minutter."
    )
    assert score("open_questions", c).value == 1


def test_open_questions_story_and_topics() -> None:
    c = call(
        "Legevakten, hva kan jeg hjelpe med?",
        "Faren min er dårlig.",
        "Kan du fortelle meg litt om hvordan han har vært i dag?",
        "Han er slapp.",
        "Hvordan spiser og drikker han?",
        "Lite.",
        "Hva er du mest bekymret for?",
        "At det er lungebetennelse.",
    )
    assert score("open_questions", c).value == 3


def test_leading_question_caps_open_questions() -> None:
    c = call(
        "Legevakten, hva kan jeg hjelpe med?",
        "Jeg har vondt i brystet.",
        "Kan du beskrive smerten?",
        "Den trykker.",
        "Hvordan er pusten?",
        "Grei.",
        "Du har vel ikke vondt ut i armen?",
        "Nei.",
    )
    s = score("open_questions", c)
    assert s.value == 2
    assert "ledende" in s.rationale


@pytest.mark.parametrize(
    "embedded",
    [
        "Jeg vil gjerne se hvordan hun puster.",
        "Så du husker ikke hva som skjedde, har hodepine og er kvalm.",
        "Kan du si tilbake til meg hva du skal gjøre og hva du gjør da?",
    ],
)
def test_embedded_question_words_are_not_open_questions(embedded: str) -> None:
    assert score("open_questions", call(embedded, "Ja.")).value == 0


@pytest.mark.parametrize(
    ("staff", "value"),
    [
        ("Hva er du mest redd for?", 1),
        ("kva er det du sjølv er mest uroa for", 1),
        ("Hva tenker du selv at det kan være?", 1),
        ("Hva hadde du håpet å få ut av samtalen?", 1),
        ("Er du redd?", 0),  # closed, and not asking what
        ("Har du feber?", 0),
    ],
)
def test_elicits_concerns(staff: str, value: int) -> None:
    assert score("elicits_concerns", call(staff, "Jeg vet ikke.")).value == value


def test_caller_concern_unasked_earns_nothing() -> None:
    c = call("Legevakten.", "Jeg er så redd for at det er hjertet, hva tenker du selv?", "Mm.")
    assert score("elicits_concerns", c).value == 0


# --- asks_prior_contact ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("staff", "value"),
    [
        ("Har du vært hos lege for dette?", 1),
        ("Har sykehjemslegen sett henne i dag?", 1),
        ("har dere snakka med fastlegen om det", 1),
        ("Jeg ser at du snakket med sykepleieren for en time siden.", 1),
        ("var du hos lege då", 1),
        ("Har du hatt dette før?", 0),  # history, not contact
        ("Du bør bestille time hos fastlegen.", 0),  # advice, not a question about contact
        ("Er hun våken og ser på dere?", 0),
    ],
)
def test_asks_prior_contact(staff: str, value: int) -> None:
    assert score("asks_prior_contact", call(staff, "Ja.")).value == value


def test_prior_contact_mentioned_only_by_caller() -> None:
    c = call(
        "Legevakten.", "Jeg var hos fastlegen på tirsdag og fikk penicillin.", "Hvordan er pusten?", "Ok."
    )
    assert score("asks_prior_contact", c).value == 0


# --- asks_to_speak_to_patient ----------------------------------------------------------------


def test_speak_to_patient_asked() -> None:
    c = call("Legevakten.", "Det gjelder mannen min, han er 80.", "Kan jeg få snakke litt med ham?", "Ja.")
    assert score("asks_to_speak_to_patient", c).value == 1


def test_speak_to_patient_not_asked_adult() -> None:
    c = call("Legevakten.", "Det gjelder mora mi, ho er åttiåtte.", "Har hun feber?", "Nei.")
    assert score("asks_to_speak_to_patient", c).value == 0


@pytest.mark.parametrize(
    "caller",
    [
        "Sønnen min har feber, han er fire.",
        "Vi har en baby på seks uker med feber.",
        "Jeg har vondt i ryggen.",  # the caller is the patient
    ],
)
def test_speak_to_patient_not_applicable(caller: str) -> None:
    assert (
        score("asks_to_speak_to_patient", call("Legevakten.", caller, "Har han feber?", "Ja.")).value is None
    )


# --- states_urgency --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("staff", "value"),
    [
        ("Det er ikke farlig å vente til i morgen, ring fastlegen da.", 1),
        ("Det haster ikke, ring fastlegen i morgen.", 1),
        ("Du trenger ikke komme inn nå.", 1),
        ("det er ikkje noko vits å kome inn", 1),
        ("Jeg sender ambulanse nå.", 1),
        ("Legen ringer deg innen en time.", 1),
        ("dere må komme inn til lege vakten nå", 1),
        ("Det er ikke farlig.", 0),  # reassurance alone
        (
            "Hvis det ikke har stoppet etter tjue minutter så må du komme inn til legevakten.",
            0,
        ),  # conditional
        ("Drikk godt og ta Paracet.", 0),
    ],
)
def test_states_urgency(staff: str, value: int) -> None:
    assert score("states_urgency", call(staff, "Ok.")).value == value


# --- summarises ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("staff", "value"),
    [
        (
            "Så hvis jeg skal oppsummere: hun er 80, har hatt feber i tre dager, hoster og er slapp. Stemmer det?",
            1,
        ),
        ("så han er fem år har feber nesten førti er slapp og har prikker som ikke blekner er det riktig", 1),
        ("Ok, stemmer det?", 0),  # a bare check
        ("Feber, ja.", 0),  # a single echoed word
    ],
)
def test_summarises(staff: str, value: int) -> None:
    assert score("summarises", call(staff, "Ja.")).value == value


# --- worsening_advice / safety_netting / checks_understanding --------------------------------


@pytest.mark.parametrize(
    ("advice", "value"),
    [
        ("Du trenger ikke ringe igjen for dette.", 0),  # negation trap
        ("Drikk godt og hvil.", 0),
        ("Ring igjen hvis det blir verre.", 1),
        ("ta kontakt att ved behov", 1),
        ("Ved forverring, ta kontakt.", 1),
        ("Hvis han blir slapp eller slutter å drikke, må han bli sett på.", 2),  # no concrete route
        ("Hvis du får vondt i brystet, så må du søke hjelp.", 2),
        ("Hvis hun puster tungt eller blir blå rundt munnen, ring 113.", 3),
        ("viss han ikkje klarer å svelgje spyttet så ring legevakta", 3),
        ("om han blir tung å vekke så ring hundre og tretten", 3),
    ],
)
def test_worsening_advice(advice: str, value: int) -> None:
    assert score("worsening_advice", call(advice, "Ok.")).value == value


def test_worsening_advice_full_marks_needs_threshold_and_teach_back() -> None:
    advice = (
        "Hvis han blir slapp eller får feber over 40, ring 116117. Og hvis feberen ikke har gått ned innen "
        "fredag, ring fastlegen."
    )
    with_tb = call(advice, "Ja.", "Kan du si tilbake til meg hva du skal se etter?", "Slapp, feber, ringe.")
    with_tag = call(advice, "Ja.", "Skjønner du?", "Ja ja.")
    assert score("worsening_advice", with_tb).value == 4
    assert score("worsening_advice", with_tag).value == 3
    assert score("safety_netting", with_tb).value == 4
    assert score("safety_netting", with_tag).value == 3


@pytest.mark.parametrize(
    "disposition",
    [
        "Jeg sender ambulanse nå.",
        "Kom inn til legevakten nå.",
        "eg vil at du kjem inn til legevakta no",
        "Jeg kobler deg over til AMK.",
    ],
)
def test_worsening_advice_not_applicable_when_sent_in_now(disposition: str) -> None:
    c = call(disposition, "Ok.", "Hvis han blir bevisstløs før dere kommer, ring 113.", "Ja.")
    assert score("worsening_advice", c).value is None
    assert score("safety_netting", c).value == 2  # signs + route still count


def test_booked_later_attendance_keeps_worsening_advice() -> None:
    c = call(
        "Dere kan komme til legevakten klokken 20.", "Ok.", "Hvis han blir slapp før det, ring 113.", "Ja."
    )
    assert score("worsening_advice", c).value == 3


def test_conditional_come_in_is_not_immediate() -> None:
    c = call("Hvis fingrene blir kalde eller blå, kom inn til oss med en gang.", "Ja.")
    assert score("worsening_advice", c).value == 3


def test_caller_worsening_words_earn_nothing() -> None:
    c = call(
        "Legevakten.",
        "Legen sa jeg skulle ringe ved forverring, og hvis det blir verre så ringer jeg dere på 113.",
        "Mm.",
    )
    assert score("worsening_advice", c).value == 0
    assert score("safety_netting", c).value == 0


def test_amk_instructions_are_not_credited_to_nurse() -> None:
    c = call(
        "Legevakten.", "Hjelp!", "O: Hvis han slutter å puste, ring 113 igjen og start hjerte-lunge-redning."
    )
    assert score("safety_netting", c).value == 0


@pytest.mark.parametrize(
    ("advice", "value"),
    [
        ("Det går som regel over av seg selv i løpet av to-tre dager.", 1),  # (a) course
        ("Det kan være et brudd.", 1),  # (a) stated uncertainty
        ("Det høres ut som migrenen din.", 0),  # working diagnosis only
        ("Det høyrest ut som det kan vere eit hoftebrot.", 0),
        ("Ta kontakt igjen ved behov.", 1),  # (c) only: 'igjen' names the service
        ("Hvis det blir verre, ta kontakt.", 0),  # no concrete route, no sign
        ("Skjønner du?", 0),  # a tag question is not (e)
    ],
)
def test_safety_netting_elements(advice: str, value: int) -> None:
    assert score("safety_netting", call(advice, "Ok.")).value == value


@pytest.mark.parametrize(
    ("staff", "value"),
    [
        ("Kan du si tilbake til meg hva du skal se etter?", 1),
        ("kan du si til meg hva du skal gjøre nå og når du skal ringe", 1),
        ("Kan du gjenta for meg hva du skal følge med på?", 1),
        ("Hva gjør du hvis han blir slapp i natt?", 1),
        ("Skjønner du?", 0),
        ("Ok?", 0),
        ("Har du noen spørsmål?", 0),
        ("Kan du fortelle meg med dine egne ord hvordan det har vært?", 0),  # an open question
    ],
)
def test_checks_understanding(staff: str, value: int) -> None:
    assert score("checks_understanding", call(staff, "Ja.")).value == value


# --- doctor criteria -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("staff", "value"),
    [
        ("Jeg kan ikke være sikker over telefon.", 1),
        ("eg kan ikkje utelukke blodpropp", 1),
        ("Det kan jeg ikke skille sikkert over telefon.", 1),
        ("Jeg er usikker på hva dette er.", 1),
        ("Er du usikker på noe?", 0),  # asks the caller
        ("Då er det nok urinsyregikt.", 0),  # a hedge, not open uncertainty
        ("Jeg er sikker på at det er en virusinfeksjon.", 0),
    ],
)
def test_communicates_uncertainty(staff: str, value: int) -> None:
    c = call(staff, "Ok.", staff="doctor")
    assert score("communicates_uncertainty", c).value == value


@pytest.mark.parametrize(
    ("turns", "value"),
    [
        (("Kan vi ta en videosamtale så jeg får se utslettet?", "Ja."), 1),
        (("Du kan sende et bilde, jeg sender en lenke på SMS.", "Ok."), 1),
        (("Hva gjelder det?", "Jeg har et rødt og hovent kne."), 0),
        (("Hva gjelder det?", "Kan jeg ta Ibux sammen med blodtrykksmedisinen?"), None),
    ],
)
def test_offers_video(turns: tuple[str, str], value: int | None) -> None:
    assert score("offers_video", call(*turns, staff="doctor")).value == value


def test_caller_mentioning_video_is_not_an_offer() -> None:
    c = call("Hva gjelder det?", "Kan jeg sende et bilde av utslettet?", "Beskriv det.", staff="doctor")
    assert score("offers_video", c).value == 0


# --- lexicon prefilters stay honest ----------------------------------------------------------

_SAMPLES = [
    "hva kan jeg hjelpe deg med",
    "legevakten du snakker med sykepleier kari",
    "kan jeg få snakke med ham",
    "jeg sender ambulanse nå",
    "hvis han blir slapp ring 113 innen 2 timer",
    "ta kontakt igjen ved behov",
    "kan du si tilbake til meg hva du skal gjøre",
    "så jeg har forstått det sånn at hun er 80 stemmer det",
    "kan vi ta en videosamtale",
    "jeg kan ikke utelukke det",
    "du har vel ikke feber",
    "hun er 3 år",
    "en baby på 6 uker",
    "kom inn til legevakten nå",
    "ok skjønner du",
    "fortell meg hva du gjør hvis han blir slapp",
    "ring 113 ved pustebesvær",
    "legevakten kari",
    "du kan sende et bilde",
]


@pytest.mark.parametrize("text", _SAMPLES)
def test_prefilter_never_hides_a_match(text: str) -> None:
    for name in dir(lx):
        lex = getattr(lx, name)
        if isinstance(lex, lx.Lex) and lex.regex.search(text):
            assert lex.search(text), f"{name} needles miss {text!r}"


@pytest.mark.parametrize(
    ("greeting", "value"),
    [
        ("Legevakten, Kari.", 1),
        ("legevakten kari", 1),
        ("Legevakten, hva gjelder det?", 0),
        ("Legevakten, god kveld.", 0),
    ],
)
def test_introduces_self_bare_name_after_service(greeting: str, value: int) -> None:
    assert (
        score("introduces_self", call(greeting, "Hei, jeg har vondt i ryggen og lurer på noe.")).value
        == value
    )


def test_postfix_sign_condition() -> None:
    c = call("Ring 113 ved pustebesvær eller blå lepper.", "Ok.")
    assert score("worsening_advice", c).value == 3


def test_imperative_teach_back() -> None:
    assert (
        score("checks_understanding", call("Fortell meg hva du gjør hvis han blir slapp.", "Ja.")).value == 1
    )


def test_photo_offer_needs_an_offer() -> None:
    c = call("Det gir meg et bedre bilde av situasjonen.", "Ja, utslettet er rødt.", staff="doctor")
    assert score("offers_video", c).value == 0
