"""Samtaler: the list of calls and the transcript of the chosen one."""

from __future__ import annotations

import streamlit as st

from review.service import ReviewService

SERVICE_LABELS = {"lvs": "LVS", "amk": "AMK", "legevaktlege": "Legevaktlege", "fastlege": "Fastlege"}
STATUS_LABELS = {
    "transcribed": "transkribert",
    "pending": "venter",
    "failed": "feilet",
    "no_audio": "uten lydfil",
}
CHANNEL_LABELS = {0: "Venstre kanal", 1: "Høyre kanal", None: "Mono"}


def render(service: ReviewService) -> None:
    st.title("Samtaler")
    if not service.available():
        st.info("Ingen database ennå. Kjør `lydlogg ingest` og `lydlogg process`, eller `make demo`.")
        return
    calls = service.calls()
    if calls.empty:
        st.info("Ingen samtaler er lest inn ennå.")
        return
    table = calls.assign(
        tjeneste=calls["service"].map(SERVICE_LABELS).fillna("–"),
        status_no=calls["status"].map(STATUS_LABELS).fillna(calls["status"]),
        varighet=calls["duration_s"].map(lambda d: f"{int(d // 60)}:{int(d % 60):02d}" if d == d else "–"),
    )
    st.dataframe(
        table[["call_id", "started_at", "tjeneste", "varighet", "status_no"]].rename(
            columns={
                "call_id": "Samtale",
                "started_at": "Tidspunkt",
                "tjeneste": "Tjeneste",
                "varighet": "Varighet",
                "status_no": "Status",
            }
        ),
        hide_index=True,
        width="stretch",
    )
    ids = calls.loc[calls["status"] == "transcribed", "call_id"].tolist()
    if not ids:
        st.info("Ingen samtaler er transkribert ennå. Kjør `lydlogg process`.")
        return
    wanted = st.query_params.get("samtale")
    index = ids.index(wanted) if wanted in ids else 0
    call_id = st.selectbox("Velg samtale", ids, index=index)
    st.query_params["samtale"] = call_id
    audio = service.audio_path(call_id)
    if audio is not None and audio.is_file():
        st.audio(str(audio))
    transcript = service.transcript(call_id)
    st.subheader("Transkripsjon")
    for segment in transcript.segments:
        minutes, seconds = divmod(int(segment.start), 60)
        who = segment.role or CHANNEL_LABELS.get(segment.channel, "")
        st.markdown(f"`{minutes:02d}:{seconds:02d}` **{who}**")
        st.text(segment.text)
