#!/usr/bin/env python3
"""Writes calls/*.json from the dialogues below (timings are assigned from the text length).

The calls are fictional, written for the standard-advice figures after the library's phrases were
fixed; no real people or numbers. Run again after editing a dialogue.
"""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
S = "staff"
C = "caller"

CALLS = {
    "as-001": (
        "lvs",
        [
            (S, "Legevakten, sykepleier Mona. Hva gjelder det?"),
            (
                C,
                "Hei. Jeg har fått vondt i brystet når jeg puster inn, det stikker på venstre side. Jeg har vært forkjølet en uke.",
            ),
            (S, "Kan du fortelle mer om smerten? Er den verre når du trykker på brystkassen eller hoster?"),
            (C, "Ja, det er verst når jeg hoster, og det gjør vondt hvis jeg trykker der."),
            (
                S,
                "Det høres ut som en muskelsmerte eller betennelse i brystveggen etter hosten, og det går ofte over på noen dager. Ring fastlegen i morgen for en time.",
            ),
            (
                S,
                "Men hvis smertene blir trykkende midt i brystet, stråler ut i armen eller kjeven, eller du blir tung i pusten eller kaldsvett, ring 113 med en gang.",
            ),
            (S, "Kan du si tilbake til meg når du skal ringe 113?"),
            (
                C,
                "Hvis det trykker midt i brystet, går ut i armen eller kjeven, eller jeg blir tung i pusten eller kaldsvett.",
            ),
            (S, "Helt riktig. God bedring."),
        ],
    ),
    "as-002": (
        "lvs",
        [
            (S, "legevakta sjukepleiar kari kva gjeld det"),
            (C, "ja hei det svir når eg tissar og eg må på do heile tida det starta i går"),
            (S, "har du feber eller vondt i ryggen"),
            (C, "nei ikkje noko feber"),
            (
                S,
                "då kan du få ein resept på tablettar frå legen i kveld viss du får feber eller vondt i ryggen eller sida så ring legevakta igjen og viss det ikkje er betre etter to døgn så ring fastlegen",
            ),
            (C, "ja takk"),
        ],
    ),
    "as-003": (
        "lvs",
        [
            (S, "Legevakten, du snakker med sykepleier Tor. Hva har skjedd?"),
            (
                C,
                "Datteren min på seks år falt av sykkelen og slo hodet i asfalten. Hun hadde hjelm, og hun gråt med en gang.",
            ),
            (S, "Hvordan er hun nå?"),
            (C, "Hun er litt skremt, men hun leker og prater som vanlig. Hun har en kul i pannen."),
            (
                S,
                "Det høres betryggende ut, og de fleste barn er fine igjen etter et døgn. Hun kan være hjemme, men følg med på henne i natt.",
            ),
            (
                S,
                "Hvis hun kaster opp flere ganger, blir uvanlig trøtt og vanskelig å vekke, eller blir forvirret, ring 113. Får hun mer vondt i hodet, ring oss på 116117.",
            ),
            (S, "Kan du si tilbake hva du skal se etter?"),
            (C, "Oppkast flere ganger, at hun er vanskelig å vekke eller forvirret, da ringer jeg 113."),
            (S, "Det stemmer."),
        ],
    ),
    "as-004": (
        "lvs",
        [
            (S, "legevakten sykepleier line"),
            (C, "ja hei eg har ete nøtter i ein kake og no klør det i munnen og på halsen eg er allergisk"),
            (S, "har du vondt for å puste eller hovner du opp"),
            (C, "nei ikkje enno"),
            (
                S,
                "ta ein allergitablett no det går som regel over av seg sjølv i løpet av nokre timar men viss du får hevelse i tunga eller leppene tungt for å puste eller vondt for å svelge så ring hundre og tretten med ein gong",
            ),
            (C, "ok takk"),
        ],
    ),
    "as-005": (
        "lvs",
        [
            (S, "Legevakten, sykepleier Hanne. Hva kan jeg hjelpe med?"),
            (
                C,
                "Det er sønnen min på sytten. Han har fått et sånt panikkanfall, han puster fort og sier han tror han skal dø. Han har hatt mye angst i det siste.",
            ),
            (S, "Hva skjedde i kveld, før det startet?"),
            (C, "Han hadde eksamen i dag, og så satt han på rommet og så begynte det."),
            (S, "Er han trygg nå, har han sagt noe om å skade seg?"),
            (C, "Nei, det har han ikke. Han sitter her ved siden av meg og er litt roligere."),
            (
                S,
                "Et angstanfall går over av seg selv etter en stund, selv om det føles veldig skremmende. Bli hos ham og pust rolig sammen med ham. Ring fastlegen i morgen for oppfølging.",
            ),
            (S, "Hvis han snakker om å ta livet sitt eller prøver å skade seg, ring 113."),
            (C, "Ja. Takk."),
        ],
    ),
    "as-006": (
        "lvs",
        [
            (S, "legevakten sykepleier per"),
            (C, "ja hei det er sonen min på to år han har kasta opp i kveld og har diare"),
            (S, "drikker han"),
            (C, "ja litt"),
            (S, "gi ham litt drikke ofte så ring igjen hvis det blir verre"),
            (C, "ok"),
        ],
    ),
    "as-007": (
        "lvs",
        [
            (S, "legevakta sjukepleiar ola"),
            (C, "eg har så vondt i magen nede til høgre sidan i går kveld og no har eg feber"),
            (S, "gjer det vondt når du hoppar eller hostar"),
            (C, "ja det stikk"),
            (S, "då vil eg at du kjem inn til legevakta no så legen får undersøkt deg"),
            (C, "ja eg kjem"),
        ],
    ),
    "as-008": (
        "legevaktlege",
        [
            (
                S,
                "Hei, det er legevaktlege Siri. Du snakket med sykepleieren for litt siden. Fortell meg hvordan du har det.",
            ),
            (C, "Jeg er gravid i uke 28, og jeg har fått feber og vondt i halsen. 38,4 i kveld."),
            (S, "Kjenner du liv som vanlig?"),
            (C, "Ja, hun sparker mye."),
            (S, "Det høres ut som en vanlig forkjølelse, og det går over på en uke. Du kan ta paracetamol."),
            (
                S,
                "Hvis du kjenner mindre liv i magen, får blødning eller sterke magesmerter, kom inn til fødeavdelingen med en gang. Og hvis feberen er over 39 eller ikke er borte innen tre dager, ring fastlegen.",
            ),
            (S, "Kan du fortelle meg med egne ord hva du skal følge med på?"),
            (
                C,
                "Mindre liv, blødning eller mye vondt i magen, da drar jeg til fødeavdelingen. Og feber over 39 eller lenger enn tre dager, da ringer jeg fastlegen.",
            ),
            (S, "Flott. God bedring."),
        ],
    ),
    "as-009": (
        "lvs",
        [
            (S, "Legevakten, sykepleier Jon."),
            (
                C,
                "Hei. Jeg har astma og har blitt tung i pusten i kveld. Jeg har tatt den blå medisinen to ganger.",
            ),
            (S, "Hjalp det?"),
            (C, "Litt. Jeg kan snakke, men jeg piper litt."),
            (
                S,
                "Ta to nye drag av den blå inhalatoren og sitt oppreist. Hvis du ikke klarer å snakke i hele setninger, blir blå på leppene, eller inhalatoren ikke hjelper innen tjue minutter, ring 113.",
            ),
            (C, "Ja, det skal jeg gjøre."),
        ],
    ),
    "as-010": (
        "lvs",
        [
            (S, "legevakten sykepleier eva hva gjelder det"),
            (C, "hei jeg har forstua ankelen på fotballtrening den er hoven"),
            (S, "kan du gå på den"),
            (C, "ja litt haltende"),
            (S, "legg på is og hold foten høyt hvis foten blir kald eller nummen så kom inn til legevakten"),
            (C, "takk"),
        ],
    ),
}


def main() -> None:
    out = HERE / "calls"
    out.mkdir(exist_ok=True)
    for call_id, (service, lines) in CALLS.items():
        staff_role = "doctor" if service == "legevaktlege" else "operator"
        t, segments = 0.0, []
        for who, text in lines:
            dur = round(max(1.0, len(text) / 14), 1)
            segments.append(
                {
                    "start": round(t, 1),
                    "end": round(t + dur, 1),
                    "speaker": "S1" if who == S else "S2",
                    "role": staff_role if who == S else "caller",
                    "text": text,
                }
            )
            t += dur + 0.6
        doc = {"call_id": call_id, "language": "no", "service": service, "segments": segments}
        (out / f"{call_id}.json").write_text(
            json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    main()
