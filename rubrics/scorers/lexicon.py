"""Phrase lexicons per concept, one place each, compiled once at import.

Every pattern runs on :func:`rubrics.text.normalise` output: lower-case bokmål tokens joined by
single spaces, digits for numbers (``113``, ``116117``, ``38,5``), and ``.``/``?`` tokens at
sentence ends (so ``(?:\\w+ ){0,3}`` gaps never cross a sentence). Write new phrases in bokmål;
nynorsk and dialect forms are mapped before matching.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator

_F = 0  # the normalised text is already lower case; IGNORECASE would double the matching time


class Lex:
    """A compiled alternation with an optional prefilter: ``needles`` are literal substrings at least
    one of which every match contains, so text holding none of them is skipped without running the
    regex. Same ``finditer``/``search``/``match`` calls as a compiled pattern."""

    __slots__ = ("needles", "pattern", "regex")

    def __init__(self, regex: re.Pattern[str], needles: tuple[str, ...] = ()) -> None:
        self.regex, self.needles, self.pattern = regex, needles, regex.pattern

    def _maybe(self, text: str) -> bool:
        if not self.needles:
            return True
        for n in self.needles:  # noqa: SIM110 - a plain loop is several times faster than any() here
            if n in text:
                return True
        return False

    def finditer(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> Iterator[re.Match[str]]:
        return self.regex.finditer(text, pos, endpos) if self._maybe(text) else iter(())

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.regex.search(text, pos, endpos) if self._maybe(text) else None

    def match(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.regex.match(text, pos, endpos) if self._maybe(text) else None


def _c(*alternatives: str, needles: tuple[str, ...] = ()) -> Lex:
    return Lex(re.compile("|".join(f"(?:{a})" for a in alternatives), _F), needles)


_PRON = r"(?:du|dere|han|hun|hen|de)"
_HEALTH = (
    r"(?:lege\w*|fastlege\w*|legevakt\w*|sykehus\w*|sykehjemslege\w*|legekontor\w*|helsestasjon\w*|"
    r"psykolog\w*|psykiater\w*|dps|bup|spesialist\w*|kontroll\w*|poliklinikk\w*|tannlege\w*|avdeling\w*|"
    r"akuttmottak\w*|behandling|sykepleier\w*|helsesykepleier\w*|jordmor\w*|øre nese hals|ortoped\w*|"
    r"hjemmesykepleie\w*)"
)
_CONTACT_OBJ = rf"(?:{_HEALTH}|noen|oss)"

# --- introduces_self -------------------------------------------------------------------------
SERVICE = _c(
    r"\blegevakt\w*", r"\bmedisinsk nødtelefon\b", r"\blvs\b", needles=("legevakt", "nødtelefon", "lvs")
)
ROLE = _c(
    r"\b(?:legevakt)?lege(?:n)?\b",
    r"\blegevaktlege\w*",
    r"\b(?:spesial|helse)?sykepleier\w*",
    r"\bdoktor\w*",
    r"\bvakthavende\b",
    r"\bjordmor\b",
    needles=("lege", "sykepleier", "doktor", "vakthavende", "jordmor"),
)
_NAME_STOP = (
    r"(?:legevakt\w*|lege\w*|sykepleier\w*|fra|en|et|ei|ja|nei|hallo|hei|bare|meg|oss|vi|jeg|om|angående|deg|"
    r"her|nå|han|hun|det|noe|ikke|riktig|rett|greit|i|på|til|du|dere|sant|så|altså|ok|okei)\b"
)
NAME_AFTER_SERVICE = _c(
    rf"^(?:\w+ )?legevakt\w* (?!{_NAME_STOP}|hva\b|hvordan\b|god\b|goddag\b|og\b|\d)\w+(?: \w+)? ?(?:[.?]|$)",
    needles=("legevakt",),
)
NAME_INTRO = _c(
    rf"\b(?:jeg heter|mitt navn er|navnet mitt er|du snakker med|dette er|det er|her er) (?!{_NAME_STOP})\w+",
    needles=("heter", "navn", "snakker med", "dette er", "det er", "her er"),
)

# --- open_questions --------------------------------------------------------------------------
OPEN_WORD = _c(r"\bhva\b", r"\bhvordan\b", r"\bhvorfor\b", needles=("hva", "hvordan", "hvorfor"))
STORY = _c(
    r"\b(?:kan|vil|kunne) (?:du|dere) (?:\w+ ){0,2}(?:fortelle|beskrive|forklare)\b",
    r"\bfortell\b",
    r"\bbeskriv\b",
    needles=("fortell", "beskriv", "forklar"),
)
# a verb right before "hva/hvordan" (or verb + object pronoun) makes it an embedded clause, not a question
EMBEDDING_VERBS = frozenset(
    [
        "vet",
        "vite",
        "ser",
        "se",
        "sjekke",
        "høre",
        "hører",
        "forstår",
        "skjønner",
        "uansett",
        "akkurat",
        "nøyaktig",
        "viser",
        "vise",
        "husker",
        "huske",
        "lurer",
        "lure",
        "forklare",
        "avgjøre",
        "beskriver",
        "gjør",
    ]
)
EMBEDDING_PREP_VERBS = frozenset({("tenke", "på"), ("sikker", "på"), ("enig", "i"), ("uavhengig", "av")})
OBJECT_PRONOUNS = frozenset(["meg", "deg", "ham", "henne", "oss", "dere", "dem"])
# "hva du gjør", "hva som skjedde": subject right after the question word = embedded clause, unless
# S1 asks someone to tell or ask ("kan du spørre ham hva som har skjedd")
EMBEDDED_SUBJECTS = frozenset(["som", "du", "dere", "han", "hun", "hen", "de", "jeg", "vi", "det"])
ASKING_VERBS = frozenset(["spørre", "spør", "fortelle", "fortell", "forklare", "beskrive", "beskriv"])
FACT_QUESTION = _c(
    r"\bhva (?:er|var) (?:\w+ )?(?:adressen|adresse|navnet|fødselsnummeret|personnummeret|telefonnummeret|"
    r"nummeret|temperaturen|tempen|metningen|pulsen|blodtrykket|blodsukkeret|vekten|dosen|styrken)\b",
    r"\bhva heter\b",
    r"\bhva slags\b",
    r"\bhva for (?:en|et|ei|noe)\b",
    r"\bhva (?:har|fikk|tok) (?:\w+ ){0,2}(?:gitt|tatt|fått)\b",
    r"\bhva veier\b",
    r"\bhva pleier (?:den|det)\b",
    r"\bhva (?:tid|klokka|klokken)\b",
    r"\bhvordan staves\b",
    r"\bhva sa (?:de|han|hun|legen|fastlegen)\b",
)
LEADING = _c(
    r"\bvel (?:ikke|ingen|ingenting)\b",
    r"\bikke sant\b",
    r"\bgår ut (?:i )?fra at\b",
    r"\bregner med at (?:\w+ ){0,3}ikke\b",
    needles=("vel ", "sant", "går ut", "regner med"),
)

# --- elicits_concerns ------------------------------------------------------------------------
CONCERN = _c(
    r"\bhva\b(?: \w+){0,6} (?:bekymret|urolig|redd|engstelig|bekymrer|bekymringen|frykter)\b",
    r"\ber det noe (?:spesielt )?(?:du|dere) er (?:\w+ )?(?:redd|bekymret|urolig|engstelig) for\b",
    r"\bhva tenker (?:du|dere) (?:selv|om (?:det|dette))\b",
    r"\bhva tror (?:du|dere) (?:selv )?(?:at )?(?:det )?(?:er|kan være|skyldes)\b",
    r"\bhva (?:hadde|har) (?:du|dere) (?:\w+ )?(?:håpet|tenkt|ønsket|forventet)\b",
    r"\bhva (?:ønsker|trenger|vil) (?:du|dere) (?:\w+ ){0,2}(?:hjelp|at vi|at jeg|skal skje|fra oss)\b",
    r"\bhva tenker (?:du|dere) at (?:du|dere) trenger\b",
    r"\bhva (?:er|var) (?:det )?(?:som )?(?:gjorde|gjør) at (?:du|dere) (?:ble )?(?:bekymret|redd|urolig)\b",
    needles=("hva", "er det noe"),
)

# --- asks_prior_contact ----------------------------------------------------------------------
PRIOR_CONTACT = _c(
    rf"\b(?:har|var|er|hadde) {_PRON}\b(?: \w+){{0,6}}? (?:vært |var |gått |blitt sett |blitt undersøkt )?"
    rf"(?:hos|til|på|innom|i kontakt med) (?:\w+ )?{_HEALTH}\b",
    rf"\b{_PRON} (?:har |hadde )?(?:\w+ )?(?:vært|var|gått) (?:\w+ ){{0,2}}(?:hos|til|på|innom|i kontakt med) "
    rf"(?:\w+ )?{_HEALTH}\b",
    rf"\b{_PRON}\b(?: \w+){{0,3}} (?:snakket|pratet|ringt|vært i kontakt) (?:med|til) (?:\w+ )?{_CONTACT_OBJ}\b",
    r"\bfått (?:\w+ )?hjelp (?:for|med|til) (?:dette|det|denne|disse)\b",
    r"\bhar (?:fastlegen|legen|sykehjemslegen|noen|en lege|lege|sykehuset|helsesøster|legevakten)"
    r"(?: \w+){0,2} (?:sett|undersøkt|vurdert|tilsett|sjekket)\b",
    r"\bfått (?:\w+ )?(?:hos|av|fra|på) (?:fastlegen|legen|sykehuset|legevakten|sykehjemslegen)\b",
    rf"\b(?:jeg|vi) ser (?:\w+ )?at {_PRON} (?:har )?(?:snakket|ringt|vært|var|fikk|har fått)\b",
    rf"\b{_PRON} (?:har )?(?:ringt|ringte) (?:oss |hit )?(?:tidligere|før|i dag|i går|i kveld)\b",
)

# --- asks_to_speak_to_patient ----------------------------------------------------------------
_PATIENT_OBJ = r"(?:ham|henne|han|hun|pasienten|hen|\w+ selv)"
SPEAK_TO_PATIENT = _c(
    rf"\b(?:kan|får|kunne) (?:jeg|vi) (?:få )?(?:snakke|prate|snakket) (?:\w+ ){{0,2}}med {_PATIENT_OBJ}\b",
    rf"\b(?:vil|ville) (?:gjerne )?(?:snakke|prate) (?:\w+ ){{0,2}}med {_PATIENT_OBJ}\b",
    r"\b(?:kan|klarer) (?:han|hun|hen|pasienten) (?:\w+ ){0,2}(?:komme|ta) (?:til )?telefonen\b",
    r"\bgi (?:telefonen|røret) til (?:ham|henne|pasienten|han|hun)\b",
    r"\b(?:sett|sette) (?:ham|henne) på (?:telefonen|tråden)\b",
    needles=("snakke", "prate", "snakket", "telefonen", "røret", "tråden"),
)
_RELATIVE = (
    r"(?:sønn\w*|datter\w*|dattera|mann\w*|kona|kone|samboer\w*|kjæreste\w*|moren|mora|mor|faren|far|pappa|"
    r"mamma|bestefar|bestemor|farfar|farmor|morfar|mormor|bror\w*|søster\w*|barn\w*|baby\w*|gutt\w*|jent\w*|"
    r"venn\w*|kompis\w*|nabo\w*|svigermor|svigerfar|ektemann\w*|kjerring\w*|tante|onkel|oldemor|oldefar)"
)
THIRD_PARTY_CALLER = _c(
    rf"\b{_RELATIVE} (?:min|mi|mitt|vår|vårt|våre|mine)\b",
    r"\b(?:jeg )?ringer (?:for|på vegne av|angående) (?:\w+ )?(?:mamma|pappa|mor|far|\w+en|\w+a|en|ei|et)\b",
    r"\b(?:en|ei) (?:bruker|beboer|pasient)\b",
    r"\bhjemmesykepleie\w*|\bomsorgsbolig\w*|\bsykehjem\w*|\bbeboer\w*|\bbarnehage\w*",
)
THIRD_PARTY_STAFF = _c(rf"\b{_RELATIVE} (?:din|di|ditt|deres)\b", r"\bbeboer\w*\b", r"\bbrukeren\b")
AGE = _c(
    r"\b(?:han|hun|hen|barnet|babyen|gutten|jenta|pasienten|sønnen|datteren) (?:min |mi )?(?:er|blir|som er) "
    r"(\d+)\b(?!,)",
    r"\b\w+ (?:er|blir) (\d+) år\b",
    r"\b(\d+) år gammel\b",
    r"\b(?:mann|kvinne|dame|gutt|jente|barn|pasient|bruker|beboer)\w* på (\d+)\b(?!,)",
    needles=("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
)
INFANT = _c(
    r"\bbaby\w*",
    r"\bspedbarn\w*|\bspebarn\w*|\bnyfødt\w*",
    r"\b\d+ (?:uker|måneder|mnd|dager) (?:gammel|gamle)\b",
    r"\bpå \d+ (?:uker|måneder|mnd)\b",
    needles=("baby", "spedbarn", "spebarn", "nyfødt", "uker", "måneder", "mnd", "dager"),
)

# --- states_urgency / dispositions -----------------------------------------------------------
_WHEN = r"(?:nå|med en gang|straks|i kveld|i natt|i morgen|i dag|klokken \d+|kl \d+|snarest|rett inn)"
_DEST = (
    r"(?:inn|hit|rett inn|opp|ned|til legevakten|til oss|til sykehuset|til fastlegen|til legekontoret|til "
    r"mottaket|til akuttmottaket)"
)
COME_IN_WHEN = _c(
    rf"\b(?:kom|komme|kommer|dra|drar|kjør|kjøre|reis|reise) (?:\w+ )?{_DEST}(?: \w+){{0,4}}? {_WHEN}\b",
    needles=("kom", "dra", "kjør", "reis"),
)
COME_IN_NOW = _c(
    rf"\b(?:kom|komme|kommer|dra|drar|kjør|kjøre|reis|reise) (?:\w+ )?{_DEST}(?: \w+){{0,4}}? "
    r"(?:nå|med en gang|straks|snarest|rett inn)\b",
    needles=("kom", "dra", "kjør", "reis"),
)
AMBULANCE = _c(
    r"\bsender (?:\w+ )?ambulanse\w*",
    r"\bambulansen (?:er på vei|kommer|er sendt|er bestilt|er varslet)\b",
    r"\bkobler (?:\w+ ){0,3}amk\b",
    r"\b(?:setter|sette|overfører|sender) (?:deg |dere )?(?:\w+ )?(?:over )?til amk\b",
    r"\bsender (?:en )?lege (?:\w+ )?(?:hjem|ut|nå)\b",
    r"\blegen kommer (?:hjem )?(?:til dere |ut )?(?:nå|med en gang)\b",
    needles=("ambulanse", "amk", "sender", "legen kommer"),
)
URGENCY = _c(
    r"\bhaster\b",
    r"\b(?:trenger|trengs|må|behøver|bør) (?:\w+ )?ikke (?:å )?(?:komme|dra|reise|kjøre) (?:inn|hit|til)\b",
    r"\b(?:ingen|ikke noen|ikke noe|ikke) (?:grunn|vits|nødvendig|behov)\w* (?:\w+ ){0,2}(?:komme|dra|reise) inn\b",
    r"\b(?:legen|lege|legevaktlegen|vi|doktoren|sykepleieren) (?:\w+ )?(?:ringer|ringe|kontakter|kontakte) "
    r"(?:\w+ ){0,2}(?:innen|om|i løpet av|snart|i kveld|i natt|straks|tilbake)\b",
    r"\b(?:kan|bør|skal|må|trygt) (?:\w+ ){0,2}vente (?:til|med|på)\b",
    r"\bfarlig å vente\b",
    r"\b(?:ring|ringe|kontakt|kontakte|bestill\w*|gå til|oppsøk\w*|ta kontakt med) (?:\w+ ){0,3}"
    r"(?:fastlegen|fastlege|legekontoret)(?: \w+){0,3}? (?:i morgen|på \w+dag|denne uken|neste uke|i løpet av|"
    r"innen|om \d+)\b",
    r"\b(?:være|vær|bli) hjemme (?:i kveld|i natt|i dag|til i morgen)\b",
    r"\bse det an\b",
    r"\b(?:må|bør|skal) (?:\w+ ){0,3}(?:undersøkes|vurderes|sees|ses|sjekkes|se på|vurdere|undersøke|sys) "
    r"(?:\w+ ){0,3}(?:med en gang|nå|i kveld|i natt|i dag|i morgen|snarest|straks)\b",
)

# --- worsening advice / safety-netting -------------------------------------------------------
COND_TRIGGER = _c(
    r"\bhvis\b",
    r"\bdersom\b",
    r"\bifall\b",
    r"\bi tilfelle\b",
    r"\bom (?:det|han|hun|hen|du|dere|de|feberen|smertene|pusten|barnet|ikke|noe) (?:\w+ )?(?:blir|får|ikke|er|"
    r"begynner|skulle|kommer|går|forandrer|endrer|øker|stiger|synker|har)\b",
    r"\bskulle (?:det|han|hun|du|dere|hen)\b",
    needles=("hvis", "dersom", "ifall", "i tilfelle", "om ", "skulle"),
)
COND_POSTFIX = _c(
    r"\bved (?:behov|forverring|endring\w*|tegn|nye|økende|mistanke|høy|pustebesvær|blødning|brystsmert|"
    r"bevisstløs|kramp|utslett|feber)\w*",
    r"\bom nødvendig\b",
    r"\bom det trengs\b",
    r"\bhvis nødvendig\b",
    needles=("ved ", "om nødvendig", "om det trengs", "hvis nødvendig"),
)
COND_VERB_INITIAL = re.compile(
    r"(?:^|[.?] |\bog |\bmen )(?:blir|får|er|begynner|kommer|slutter|skulle|merker|ser) "
    r"(?:han|hun|hen|du|dere|det|barnet|pusten|feberen|hun)\b",
    _F,
)
CONSEQUENT_START = re.compile(r"^(?:da|så|og da)\b", _F)

ACTION = _c(
    r"\b113\b|\b112\b|\b116117\b|\bamk\b|\bnødnummer\w*|\blegevaktnummer\w*",
    r"\bring(?:e|er)?\b",
    r"\bta kontakt (?:igjen|med (?:oss|legevakten|fastlegen|legen|sykehuset|\w+ avdeling))\b",
    r"\bkontakt (?:oss|legevakten|fastlegen|legen)\b",
    r"\b(?:kom|komme|kommer|dra|kjør|kjøre|reis|reise) (?:\w+ ){0,2}(?:inn|hit|tilbake|til legevakten|til oss|"
    r"til sykehuset|til fastlegen|til legen|til mottaket)\b",
    r"\b(?:til|hos|kontakt med|oppsøk) (?:fastlegen|legevakten|fastlege|sykehuset|akuttmottaket)\b",
    r"\b\w*avdeling\w*\b",
    r"\bøyelege\w*|\bakuttmottak\w*",
)
NEGATORS = frozenset({"ikke", "aldri"})  # within two words before an action, the action is negated
NON_CONCRETE_ACTION = _c(
    r"\bsøke? hjelp\b",
    r"\bta kontakt\b",
    r"\b(?:sett|sees|ses) på\b",
    r"\bundersøkes\b",
    r"\bvurderes\b",
)
SIGN = _c(
    # breathing
    r"\bpustebesvær\w*|\btung\w* (?:i )?pust\w*|\bpuster (?:\w+ )?(?:fort|raskt|tungt|rart|dårlig|anstrengt|"
    r"unormalt|besværet|ikke)\b|\bslutter å puste\b|\bikke puster\b|\bandpusten\b|\binndragning\w*|"
    r"\btrekker (?:seg )?inn\b|\bklarer ikke (?:å )?snakke\b|\bikke klarer (?:å )?snakke\b|\bpipelyd\w*",
    # colour and circulation
    r"\bblå\w*|\bblek\w*|\bgrå\b|\bmarmorert\w*|\bkald\w*",
    # consciousness
    r"\bslapp\w*|\btung å vekke\b|\bvanskelig å (?:vekke|få kontakt)\b|\bbevisstløs\w*|\bbesvim\w*|"
    r"\bforvirr\w*|\bvåkner ikke\b|\bsløv\w*|\bkramp\w*|\bsvimmel\w*",
    # neurology and senses
    r"\bstiv (?:i )?nakke\w*|\bnakkestiv\w*|\blamm\w*|\bnummen\w*|\bnumne\b|\bproblemer med (?:talen|å snakke)\b|"
    r"\bsnakker utydelig\b|\bskjev\w*|\bplutselig (?:og )?(?:\w+ ){0,2}hodepine\b|\bsynet\b|\bser dobbelt\b|"
    r"\blysømfintlig\w*",
    # skin, swelling, wound
    r"\butslett\w*|\bblekner\b|\bprikker\b|\belveblest\b|\bhevelse i (?:ansiktet|tunga|tungen|leppene|halsen)\b|"
    r"\bhoven\w* (?:i )?(?:ansiktet|tunga|leppene)\b|\brød\w* og hoven\w*|\brødhet\w*|\bsprer seg\b|\brødere\b|"
    r"\bvæske\b|\bpuss\b|\brenne\w*|\brenner\b",
    # pain
    r"\bbrystsmert\w*|\bvondt i brystet\b|\btrykk i brystet\b|\b(?:mye|mer|sterkere|økende) (?:\w+ )?(?:vondt|"
    r"vondere|smerter?)\b|\bvondere\b|\bverker mer\b|\bøkende smerter\b",
    # intake and output
    r"\bklarer ikke (?:å )?(?:drikke|svelge|holde på|spise|tisse)\b|\bikke (?:vil )?drikke\b|\bslutter å drikke\b|"
    r"\bdrikker (?:lite|ikke)\b|\btisser (?:lite|ikke)\b|\bikke (?:har )?tisset\b|\b(?:ikke får|får ikke) "
    r"(?:tisse|tisset)\b|\bspyttet\b|\bsikler\b|\båpne munnen\b|\btørr\w*",
    # blood, vomiting
    r"\bblod\w*|\bkaster opp\b|\boppkast\w*|\bblør\b|\bblø\b|\bblødning\w*",
    # fever and measurements
    r"\bfeber\w*|\bmetning\w* (?:\w+ )?(?:under|faller|synker)\b",
    # self-harm
    r"\bskade (?:seg|deg)\b|\bta livet\b|\bselvmord\w*",
)
VAGUE = _c(
    r"\bverre\b|\bdårligere\b|\bdårlig\b|\bforverr\w*|\bforandr\w*|\bendr\w* seg\b|\bendring\w*|\bved behov\b",
    r"\bikke (?:blir |er |går |har blitt )?(?:bedre|over)\b|\bbekymret\b|\burolig\b|\bnoe (?:skjer|endrer seg)\b",
    r"\bannerledes\b",
)
_UNIT = r"(?:minutt\w*|time\w*|timer|halvtime\w*|døgn\w*|dag\w*|uke\w*|uker|måned\w*)"
THRESHOLD = _c(
    rf"\b(?:innen|etter|om|i løpet av|før|til|på) (?:\d+|en|ei|et|noen|et par|par|halv)(?: \d+)? ?{_UNIT}\b",
    r"\b(?:innen|før|til|på|etter) (?:mandag|tirsdag|onsdag|torsdag|fredag|lørdag|søndag|i morgen\w*|morgenen|"
    r"helgen)\b",
    r"\bfør (?:klokken|kl) \d+",
    r"\b(?:over|under|høyere enn|lavere enn|mer enn|mindre enn) \d+(?:,\d+)?\b",
    r"\bforbi (?:streken|merket)\b",
    needles=(
        "0",
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
        "8",
        "9",
        "en ",
        "ei ",
        "et ",
        "noen",
        "par ",
        "halv",
        "dag",
        "morgen",
        "helg",
        "forbi",
    ),
)

# expected course or openly stated uncertainty (safety-netting element a)
UNCERTAINTY = _c(
    r"\bkan (?:jeg |vi )?ikke (?:\w+ ){0,2}(?:være|bli) (?:helt |hundre prosent )?sikker\b",
    r"\bkan (?:jeg |vi )?ikke (?:\w+ )?utelukke\b",
    r"\b(?:jeg|vi) (?:er|føler meg) (?:litt |noe |veldig |helt )?usikker\b",
    r"\bdet er (?:litt |noe |veldig )?usikkert\b",
    r"\bkan (?:jeg |vi )?ikke (?:\w+ )?(?:skille|avgjøre|si|vite|fastslå|vurdere) (?:\w+ ){0,4}?(?:sikkert|sikker|"
    r"over telefon\w*|med sikkerhet)\b",
    r"\bvanskelig å (?:si|vite|avgjøre|vurdere|skille) (?:\w+ ){0,3}(?:sikkert|over telefon\w*)\b",
    r"\b(?:jeg|vi) vet ikke (?:sikkert|helt sikkert|med sikkerhet)\b",
    r"\b(?:jeg|vi) er ikke (?:helt )?sikker på (?:hva|om)\b",
    needles=(
        "sikker",
        "utelukke",
        "skille",
        "avgjøre",
        "vanskelig",
        "vet ikke",
        "fastslå",
        "vite",
        "vurdere",
    ),
)
COURSE = _c(
    r"\bgår (?!det\b|den\b|han\b|hun\b|dette\b)(?:\w+ ){0,3}over\b",
    r"\bpleier (?:\w+ )?(?:å )?(?:gå over|roe seg|bli bedre|gi seg|forsvinne|gå bort|gå ned|vare)\b",
    r"\b(?:bør|skal|vil|kommer til å) (?:\w+ ){0,2}(?:bli bedre|gå over|gå ned|roe seg|forsvinne|gi seg|gå bort|"
    r"avta|gro)\b",
    r"\bkan vare\b",
    r"\b(?:det|den|dette) (?:kan|vil|kommer til å) (?:\w+ )?ta (?:\w+ ){0,3}(?:dager|dag|uke|uker|døgn|timer|tid|"
    r"måneder)\b",
    r"\bforsvinner (?:gradvis|etter hvert|av seg selv)\b",
    r"\bbli\w* (?:gradvis )?bedre (?:etter hvert|av seg selv|i løpet av)\b",
    r"\bdet er (?:helt |ganske |veldig )?(?:vanlig|normalt|forventet)\b",
    r"\b(?:helt |ganske )?(?:vanlig|normalt) (?:at|å)\b",
    r"\bkan (?:kjenne|føle) (?:deg|seg)\b",
    r"\bkan bli (?:litt |noe )?(?:større|verre|vondere|mer|høyere|sår|stiv|hoven|rød|rødere)\b",
    r"\bkan merke\b",
    r"\bav seg selv\b",
    r"\bdet kan (?:også )?være (?:et|en|ei|noe)\b",
)
WORKING_DIAGNOSIS_CUES = frozenset({"høres", "ser"})  # "høres ut som det kan være …" is a working diagnosis

# --- checks_understanding --------------------------------------------------------------------
TEACH_BACK = _c(
    r"\b(?:(?:kan|vil|kunne) (?:du|dere) (?:\w+ ){0,2})?(?:si|fortelle|fortell|gjenta|forklare|oppsummere) "
    r"(?:\w+ ){0,3}?"
    r"(?:tilbake|for meg|til meg|med (?:dine |deres )?egne ord)\b(?: \w+){0,3}? (?:hva|hvor|når|hvordan|hvilke)"
    r"(?: \w+)? (?:du|dere) (?:\w+ )?(?:skal|gjør|må|ser|følger|tar|ringer|sier|drar|kjører)\b",
    r"\bhva (?:gjør|skal|vil) (?:du|dere) (?:\w+ ){0,3}(?:hvis|om|dersom)\b",
    r"\bhva (?:du|dere) (?:skal gjøre|gjør|vil gjøre) (?:\w+ ){0,3}(?:hvis|om|dersom)\b",
    r"\bså (?:jeg|vi) er sikker på at (?:jeg|vi) har forklart\b",
    r"\b(?:si|gjenta) (?:det )?(?:tilbake|med egne ord)\b",
    needles=(
        "tilbake",
        "for meg",
        "til meg",
        "egne ord",
        "hva gjør",
        "hva skal",
        "hva vil",
        "hva du",
        "hva dere",
        "forklart",
    ),
)
TAG_CHECK = _c(
    r"\bskjønner du\b",
    r"\bforstår du\b",
    r"\bok\b",
    r"\bhar du (?:noen )?spørsmål\b",
    r"\ber det greit\b",
    needles=("skjønner du", "forstår du", "ok", "spørsmål", "greit"),
)

# --- summarises ------------------------------------------------------------------------------
SUMMARY_MARKER = _c(
    r"\boppsummer\w*",
    r"\bdet (?:jeg|vi) (?:hører|har hørt|har fått med meg|forstår|har forstått|skjønner)\b",
    r"\b(?:jeg|vi) har forstått (?:det )?(?:sånn|slik|deg)\b",
    r"\bhvis jeg har forstått (?:deg )?riktig\b",
    r"\b(?:bare )?så (?:jeg|vi) har (?:forstått|skjønt|oppfattet)\b",
    r"(?:^|[.?] |\bok |\bokei |\bja |\bgreit )så (?:\w+ )?(?:han|hun|du|dere|hen|\w+) (?:er|har)\b",
    needles=("oppsummer", "hører", "hørt", "fått med", "forstå", "skjønn", "oppfattet", "så "),
)
SUMMARY_CHECK = _c(
    r"\bstemmer det\b",
    r"\ber det (?:riktig|rett)\b",
    r"\bhar (?:jeg|vi) forstått (?:deg |det )?riktig\b",
    r"\bhar (?:jeg|vi) fått med (?:meg|oss) (?:alt|det viktigste)\b",
    needles=("stemmer det", "riktig", "rett", "fått med"),
)
FACT_CLAUSE = _c(r"\b(?:han|hun|hen|du|dere) (?:\w+ )?(?:har|hadde|er|var|bruker|sier|vil|fikk|kastet)\b")

# --- offers_video ----------------------------------------------------------------------------
VIDEO_OFFER = _c(
    r"\bvideo\w*",
    r"\b(?:send\w*|ta|tar|få|motta\w*|se på|legge ved) (?:\w+ ){0,3}(?:bilde|bilder|foto\w*)\b|\bkamera\w*",
    r"\blenke\w* (?:\w+ )?(?:på|via|i) sms\b|\bsms (?:\w+ )?lenke\b|\bsender (?:deg |dere )?(?:en )?lenke\b",
    needles=("video", "bilde", "foto", "kamera", "lenke", "sms"),
)
VISUAL_CUE = _c(
    r"\brød\w*|\bhoven\w*|\bhovne\b|\bhevelse\w*|\butslett\w*|\bprikker\b|\bsår\b|\bsåret\b|\bkutt\w*|\bblemm\w*",
    r"\bbrann\w*|\bbrent\w*|\bbitt\w*|\bflått\w*|\bøye\w*|\bøyne\w*|\barr\w*|\bpuss\b|\bfarge\w*|\bblå\w*|\bblek\w*",
    r"\bskjev\w*|\bblåmerke\w*|\bhud\w*|\binndragning\w*|\bpuster (?:fort|tungt|raskt)\b|\bfelstilling\w*",
)
NO_VISUAL_TOPIC = _c(
    r"\bmedisin\w*|\bdose\w*|\bdosering\w*|\btablett\w*",
    r"\bkan (?:jeg|vi|hun|han) (?:ta|gi|bruke|kombinere)\b",
    r"\bblærebetennelse\w*|\burinveis\w*|\bsvir (?:\w+ ){0,2}tiss\w*",
    r"\bresept\w*|\bsykemelding\w*|\battest\w*",
)
