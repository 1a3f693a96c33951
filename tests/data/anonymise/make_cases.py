"""Generate ``generated.yaml``: call-style sentences with seeded identifiers and their labels.

Run from the repository root: ``.venv/bin/python tests/data/anonymise/make_cases.py``. The output
is deterministic (seeded). Names, streets and towns come from lists in this file, about a third
of which are *not* in ``anonymise/data``, so the set measures the detector's rules and not only
its word lists. Numbers are spelled by a speller written here, independently of
``anonymise.numbers``, and national identity numbers get their check digits computed here.
"""

from __future__ import annotations

import random
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent

FIRST = [
    "Kari", "Ingrid", "Marit", "Anne", "Solveig", "Torunn", "Eldbjørg", "Halldis", "Gjertrud", "Randi",
    "Astrid", "Nora", "Emma", "Vilde", "Ida", "Tiril", "Oddny", "Bergljot", "Jorid", "Signy",
    "Ole", "Lars", "Knut", "Arne", "Trond", "Ragnvald", "Amund", "Eilert", "Torkel", "Gaute",
    "Håkon", "Sindre", "Magnus", "Jonas", "Aksel", "Iver", "Olve", "Kolbjørn", "Steinar", "Vegard",
]  # fmt: skip
LAST = [
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
    "Haugen", "Bakke", "Solberg", "Moen", "Berg", "Lie", "Dahl", "Grøtterud", "Hovde", "Bjørkli",
    "Kvalvik", "Engebretsen", "Tveitan", "Hjelle", "Skarstein", "Ramberg", "Fjellheim", "Nordahl",
]  # fmt: skip
ROLES = ["sykepleier", "legevaktlege", "lege", "operatør", "legevikar"]
STREET_PREFIX = [
    "Kirke", "Skole", "Stor", "Prinsens ", "Dronning Mauds ", "Bjerke", "Solli", "Fjord", "Elve",
    "Møller", "Jernbane", "Strand", "Bråte", "Eike", "Lønne", "Granly",
]  # fmt: skip
STREET_SUFFIX = ["gata", "veien", "vegen", "gate", "bakken", "lia", "stien", "allé", "svingen"]
TOWNS = [
    "Oslo", "Bergen", "Trondheim", "Stavanger", "Tromsø", "Drammen", "Fredrikstad", "Skien", "Gjøvik",
    "Hamar", "Molde", "Bodø", "Lillehammer", "Kongsberg", "Elverum", "Førde", "Namsos", "Alta",
    "Brønnøysund", "Tolga", "Sokndal", "Kvinesdal", "Lyngseidet", "Eidsvåg",
]  # fmt: skip
MONTHS = ["januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september",
          "oktober", "november", "desember"]  # fmt: skip
UNITS = ["null", "en", "to", "tre", "fire", "fem", "seks", "sju", "åtte", "ni"]
TEENS = ["ti", "elleve", "tolv", "tretten", "fjorten", "femten", "seksten", "sytten", "atten", "nitten"]
TENS = ["", "", "tjue", "tretti", "førti", "femti", "seksti", "sytti", "åtti", "nitti"]
ORD = ["", "første", "andre", "tredje", "fjerde", "femte", "sjette", "sjuende", "åttende", "niende",
       "tiende", "ellevte", "tolvte", "trettende", "fjortende", "femtende", "sekstende", "syttende",
       "attende", "nittende", "tjuende"]  # fmt: skip


def say(n: int, rng: random.Random) -> str:
    """A number 0-999 in words, the way people say it (tens and units joined or not)."""
    if n < 10:
        return UNITS[n]
    if n < 20:
        return TEENS[n - 10]
    if n < 100:
        tens, unit = divmod(n, 10)
        if not unit:
            return TENS[tens]
        return TENS[tens] + ("" if rng.random() < 0.7 else " ") + UNITS[unit]
    hundreds, rest = divmod(n, 100)
    head = (
        "ett " if hundreds == 1 and rng.random() < 0.5 else "" if hundreds == 1 else UNITS[hundreds] + " "
    ) + "hundre"
    return head + (f" og {say(rest, rng)}" if rest else "")


def say_pair(pair: str, rng: random.Random) -> str:
    if pair[0] == "0":
        return f"null {UNITS[int(pair[1])]}"
    return say(int(pair), rng)


def ordinal(day: int) -> str:
    if day <= 20:
        return ORD[day]
    tens, unit = divmod(day, 10)
    return TENS[tens] + (ORD[unit] if unit else "ende")


def phone(rng: random.Random) -> str:
    digits = rng.choice("49") + "".join(rng.choice("0123456789") for _ in range(7))
    pairs = [digits[i : i + 2] for i in range(0, 8, 2)]
    style = rng.randrange(9)
    if style == 0:
        return " ".join(pairs)
    if style == 1:
        return digits
    if style == 2:
        return f"{digits[:3]} {digits[3:5]} {digits[5:]}"
    if style == 3:
        return f"+47 {' '.join(pairs)}"
    if style == 4:
        return " ".join(say_pair(p, rng) for p in pairs)
    if style == 5:
        return (", " if rng.random() < 0.5 else " ").join(say_pair(p, rng) for p in pairs)
    if style == 6:
        return " ".join(UNITS[int(c)] for c in digits)
    if style == 7:
        first, last = digits[:3], digits[5:]
        return (
            f"{say(int(first), rng)}, {say_pair(digits[3:5], rng)}, {say(int(last), rng)}"
            if first[0] != "0"
            else digits
        )
    return f"{' '.join(pairs[:2])} {' '.join(say_pair(p, rng) for p in pairs[2:])}"


def fnr(rng: random.Random) -> tuple[str, str, int, int, int]:
    """A valid 11-digit national identity number, and its birth date parts."""
    w1, w2 = (3, 7, 6, 1, 8, 9, 4, 5, 2), (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    while True:
        day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1930, 1999)
        base = f"{day:02d}{month:02d}{year % 100:02d}{rng.randint(0, 499):03d}"
        k1 = 11 - sum(int(a) * b for a, b in zip(base, w1, strict=True)) % 11
        k1 = 0 if k1 == 11 else k1
        if k1 == 10:
            continue
        k2 = 11 - sum(int(a) * b for a, b in zip(base + str(k1), w2, strict=True)) % 11
        k2 = 0 if k2 == 11 else k2
        if k2 != 10:
            return base + str(k1) + str(k2), base, day, month, year


def say_fnr(number: str, rng: random.Random) -> str:
    style = rng.randrange(4)
    if style == 0:
        return number
    if style == 1:
        return f"{number[:6]} {number[6:]}"
    if style == 2:
        return f"{number[:6]} {number[6:9]} {number[9:]}"
    return " ".join(UNITS[int(c)] for c in number[:6]) + ", " + " ".join(UNITS[int(c)] for c in number[6:])


def birth(day: int, month: int, year: int, rng: random.Random) -> str:
    style = rng.randrange(4)
    if style == 0:
        return f"{ordinal(day)} {MONTHS[month - 1]} {say(year % 100, rng)}"
    if style == 1:
        return f"{day}. {MONTHS[month - 1]} {year}"
    if style == 2:
        return f"{day:02d}.{month:02d}.{year % 100:02d}"
    return f"{ordinal(day)} {MONTHS[month - 1]} nitten {say(year % 100, rng)}"


def street(rng: random.Random) -> str:
    prefix = rng.choice(STREET_PREFIX)
    suffix = rng.choice(STREET_SUFFIX)
    name = prefix + suffix if not prefix.endswith(" ") else prefix + rng.choice(["gate", "vei", "plass"])
    number = rng.randint(1, 140)
    style = rng.randrange(3)
    if style == 0:
        return f"{name} {number}"
    if style == 1:
        return f"{name} {number}{rng.choice('ABCb')}"
    return f"{name} {say(number, rng)}"


def date(rng: random.Random) -> str:
    day, month = rng.randint(1, 31), rng.randint(1, 12)
    style = rng.randrange(3)
    if style == 0:
        return f"{day}. {MONTHS[month - 1]}"
    if style == 1:
        return f"{ordinal(day)} {MONTHS[month - 1]}"
    return f"{day:02d}.{month:02d}.{rng.randint(2019, 2026)}"


TEMPLATES = [
    ("Hei, du snakker med {role} {first}. Hva har skjedd?", {"first": "NAVN"}),
    ("Jeg heter {full}, og jeg ringer for mora mi.", {"full": "NAVN"}),
    ("Ja, hei, det er {full} her.", {"full": "NAVN"}),
    ("Mitt navn er {full}.", {"full": "NAVN"}),
    ("Pasienten heter {full} og er sytti år.", {"full": "NAVN"}),
    ("Kan jeg få snakke med {first}?", {"first": "NAVN"}),
    ("{first} har hatt feber i tre dager nå.", {"first": "NAVN"}),
    ("Nei, det er {first} som har vondt, ikke jeg.", {"first": "NAVN"}),
    ("Nummeret mitt er {phone}.", {"phone": "TELEFON"}),
    ("Du kan ringe meg på {phone} hvis det er noe.", {"phone": "TELEFON"}),
    ("Ja, det er {phone}.", {"phone": "TELEFON"}),
    ("Mobilnummeret er {phone}, det er best å ringe det.", {"phone": "TELEFON"}),
    ("Fødselsnummeret er {fnr}.", {"fnr": "FØDSELSNUMMER"}),
    ("Personnummeret hans er {fnr}, sier du?", {"fnr": "FØDSELSNUMMER"}),
    ("Hun er født {birth}.", {"birth": "FØDSELSNUMMER"}),
    ("Han er født {birth}, og han har diabetes.", {"birth": "FØDSELSNUMMER"}),
    ("Vi bor i {street}.", {"street": "ADRESSE"}),
    ("Adressen er {street}, {postcode} {town}.", {"street": "ADRESSE", "postcode": "ADRESSE", "town": "ADRESSE"}),
    ("Det er {street} i {town}, tredje etasje.", {"street": "ADRESSE", "town": "STED"}),
    ("Hun var hos legen {date}.", {"date": "DATO"}),
    ("Han har time {date} på sykehuset.", {"date": "DATO"}),
    ("Vi er på hytta i {town} nå.", {"town": "STED"}),
    ("Jeg kjører fra {town} i kveld.", {"town": "STED"}),
    ("Hun heter {full}, født {birth}, og nummeret er {phone}.", {"full": "NAVN", "birth": "FØDSELSNUMMER", "phone": "TELEFON"}),
]  # fmt: skip
NEGATIVES = [
    "Hun har hatt feber på {temp} siden i går.",
    "Han har tatt {n} tabletter per dag i {m} dager.",
    "Ring 113 hvis han blir dårligere, eller 116 117 i natt.",
    "Han er {age} år og har hatt vondt i brystet i {m} timer.",
    "Neste dose kan hun ta kl. {h}.{mm}, og så følger du med på pusten.",
    "Det er {n} uker siden forrige gang, og hun er i uke {week}.",
]


def build() -> str:
    """The YAML text of ``generated.yaml``."""
    rng = random.Random(20261126)
    cases = []
    for _round in range(3):
        for template, kinds in TEMPLATES:
            first, last = rng.choice(FIRST), rng.choice(LAST)
            number, _base, day, month, year = fnr(rng)
            values = {
                "role": rng.choice(ROLES), "first": first, "full": f"{first} {last}", "phone": phone(rng),
                "fnr": say_fnr(number, rng), "birth": birth(day, month, year, rng), "street": street(rng),
                "postcode": f"{rng.randint(1, 9899):04d}", "town": rng.choice(TOWNS), "date": date(rng),
            }  # fmt: skip
            text = template.format(**values)
            labels = []
            merged = "postcode" in kinds
            if merged:  # "street, postcode town" is one address
                labels.append(
                    {"text": f"{values['street']}, {values['postcode']} {values['town']}", "kind": "ADRESSE"}
                )
            else:
                order = sorted(kinds, key=lambda k: template.index("{" + k + "}"))
                labels = [{"text": values[k], "kind": kinds[k]} for k in order]
            cases.append({"text": text, "labels": labels})
    for template in NEGATIVES:
        for _ in range(2):
            text = template.format(
                temp=f"{say(rng.randint(37, 40), rng)} og {say(rng.randint(1, 9), rng)}", n=say(rng.randint(2, 4), rng),
                m=rng.randint(2, 6), age=say(rng.randint(20, 95), rng), h=rng.randint(10, 23), mm=rng.choice(["00", "15", "30"]),
                week=say(rng.randint(8, 40), rng),
            )  # fmt: skip
            cases.append({"text": text, "labels": []})
    header = "# Generated by make_cases.py (seeded); do not edit by hand.\n"
    return header + yaml.safe_dump({"cases": cases}, allow_unicode=True, sort_keys=False, width=200)


def main() -> None:
    (HERE / "generated.yaml").write_text(build(), encoding="utf-8")
    print(f"wrote {HERE / 'generated.yaml'}")


if __name__ == "__main__":
    main()
