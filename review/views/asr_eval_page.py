"""Admin page: speech recognition measured on the spans reviewers corrected (from `lydlogg asr-eval`)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lydlogg.access import AccessDenied
from lydlogg.asr_eval import latest_results, propose_prompt
from review.service import ReviewService
from review.views.common import md_text, shown_frame, shown_time

COLUMNS = {
    "model": "Modell",
    "service": "Tjeneste",
    "channel": "Kanal",
    "segments": "Segmenter",
    "reference_words": "Ord",
    "wer": "WER",
    "key_words": "Nøkkelord",
    "key_wer": "WER nøkkelord",
    "first_corrected": "Rettet fra",
    "last_corrected": "Rettet til",
}


IDENTIFIERS_NOTE = (
    "Personnavn, telefonnumre, fødselsnumre og adresser foreslås aldri: ord som anonymiseringen ville "
    "skjult i en rettet tekst, er tatt ut av forslagene. Stedsnavn kan foreslås."
)


def render(service: ReviewService) -> None:
    st.title("Talegjenkjenning på egne samtaler")
    if not service.available():
        st.info("Ingen database ennå.")
        return
    try:
        rows = latest_results(service.db_path, service.user)
    except AccessDenied:
        st.error("ingen tilgang")
        return
    if not rows:
        st.info(
            "Ingen måling ennå. Rett transkripsjoner på samtalesiden; målingen gjøres når administrator "
            "kjører evalueringen av talegjenkjenningen."
        )
        return
    df = pd.DataFrame(rows)
    st.caption(
        f"Målt {shown_time(df['run_at'].iloc[0])} på segmenter rettet av vurderere. «transkripsjon» er "
        "modellen som laget den lagrede transkripsjonen; «+ordliste» er samme modell med foreslåtte ord "
        "som hotwords, «+ledetekst» med dem som innledende tekst. «Rettet fra/til» er tidsrommet rettingene "
        "ble gjort i, og «Segmenter» hvor mange rettede segmenter hvert tall bygger på."
    )
    if df["vocabulary"].notna().any():
        words = str(df["vocabulary"].dropna().iloc[0])
        st.write("Foreslåtte ord til talegjenkjenningens ordliste (`asr.hotwords`): " + md_text(words))
        st.write(
            "Foreslått innledende tekst (`asr.initial_prompt`): " + md_text(propose_prompt(words.split()))
        )
        st.caption(IDENTIFIERS_NOTE)
    st.dataframe(shown_frame(df[list(COLUMNS)]).rename(columns=COLUMNS), hide_index=True, width="stretch")
