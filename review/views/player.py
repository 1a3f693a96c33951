"""The call's player: one Streamlit component (``st.components.v2``) that owns the ``<audio>``
element and the transcript beside it.

The segment being played is highlighted as the audio runs (on the element's own ``timeupdate``
events, no polling); a click on a segment seeks there and plays; the speed goes from 0.75x to 2x;
space plays and pauses and left/right jump 5 s while the player has focus. The playing time goes
back to Python (when playback pauses, jumps or a segment is clicked), so a comment can be anchored
to "now". The transcript rows arrive as HTML that :func:`transcript_rows` has escaped.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from review.views.transcript_html import MARK_STYLE

__all__ = ["SPEEDS", "audio_url", "player"]

SPEEDS = (0.75, 1.0, 1.25, 1.5, 1.75, 2.0)

_CSS = """
.lydlogg-player { font-family: "Source Sans Pro", sans-serif; font-size: 15px; color: var(--st-text-color, #262730); outline: none; }
.lydlogg-player .bar { display: flex; gap: 12px; align-items: center; position: sticky; top: 0; background: var(--st-background-color, #fff); padding: 4px 0; z-index: 1; }
.lydlogg-player audio { flex: 1; min-width: 0; }
.lydlogg-player .rows { max-height: 600px; overflow-y: auto; }
.lydlogg-player .seg { padding: 4px 8px; border-left: 3px solid transparent; cursor: pointer; }
.lydlogg-player .seg:hover { background: #f0f2f6; }
.lydlogg-player .seg.evidence { background: #e3effd; border-left-color: #1c83e1; }
.lydlogg-player .seg.playing { border-left-color: #ff4b4b; background: #fff1f1; }
.lydlogg-player .who { color: #555; font-size: 13px; margin-right: 6px; white-space: nowrap; }
.lydlogg-player .play { color: #ff4b4b; }
.lydlogg-player .role-operator .who, .lydlogg-player .role-doctor .who { font-weight: 600; }
.lydlogg-player .low { color: #c45c00; text-decoration: underline dotted; }
.lydlogg-player .note { color: #555; font-size: 13px; margin: 2px 0 0 22px; }
""" + "\n".join(f".lydlogg-player {rule}" for rule in MARK_STYLE.strip().splitlines())

_JS = """
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let root = parentElement.querySelector(".lydlogg-player");
  if (root && root.dataset.version === data.version) return;  // same call and rows: keep playing
  if (root) root.remove();
  root = document.createElement("div");
  root.className = "lydlogg-player";
  root.dataset.version = data.version;
  root.tabIndex = 0;
  const bar = document.createElement("div");
  bar.className = "bar";
  const audio = document.createElement("audio");
  audio.controls = true;
  audio.preload = "metadata";
  if (data.url) audio.src = data.url;
  const speed = document.createElement("select");
  speed.setAttribute("aria-label", "Avspillingshastighet");
  for (const s of data.speeds) {
    const o = document.createElement("option");
    o.value = String(s);
    o.textContent = String(s).replace(".", ",") + "x";
    if (s === 1) o.selected = true;
    speed.appendChild(o);
  }
  speed.addEventListener("change", () => { audio.playbackRate = parseFloat(speed.value); });
  if (data.url) { bar.appendChild(audio); bar.appendChild(speed); }
  const rows = document.createElement("div");
  rows.className = "rows";
  rows.innerHTML = data.rows;  // escaped in Python (transcript_rows)
  root.appendChild(bar);
  root.appendChild(rows);
  parentElement.appendChild(root);

  const segs = Array.from(rows.querySelectorAll(".seg"));
  const report = () => setStateValue("time", Math.round(audio.currentTime * 100) / 100);
  let current = null;
  const highlight = () => {
    const t = audio.currentTime;
    const on = segs.find((s) => t >= parseFloat(s.dataset.start) && t < parseFloat(s.dataset.end)) || null;
    if (on === current) return;
    if (current) current.classList.remove("playing");
    if (on) { on.classList.add("playing"); on.scrollIntoView({ block: "nearest" }); }
    current = on;
  };
  audio.addEventListener("timeupdate", highlight);
  audio.addEventListener("seeked", () => { highlight(); report(); });
  audio.addEventListener("pause", report);
  for (const seg of segs) {
    seg.addEventListener("click", () => {
      if (!data.url) return;
      audio.currentTime = parseFloat(seg.dataset.start);
      audio.play();
    });
  }
  root.addEventListener("keydown", (e) => {
    if (!data.url || e.target.tagName === "SELECT") return;
    if (e.key === " ") { e.preventDefault(); audio.paused ? audio.play() : audio.pause(); }
    else if (e.key === "ArrowLeft") { e.preventDefault(); audio.currentTime = Math.max(0, audio.currentTime - 5); }
    else if (e.key === "ArrowRight") { e.preventDefault(); audio.currentTime = audio.currentTime + 5; }
  });
  if (data.url && data.start > 0) {
    audio.addEventListener("loadedmetadata", () => { audio.currentTime = data.start; }, { once: true });
  }
  return () => { audio.pause(); };
}
"""

_component = st.components.v2.component("lydlogg.player", css=_CSS, js=_JS)


def audio_url(path: Path | bytes, coordinates: str) -> str:
    """A URL the browser loads the recording from (Streamlit's media file server, as st.audio);
    ``bytes`` are a PCM WAV copy made in memory (an encrypted database)."""
    from streamlit import runtime

    if isinstance(path, bytes):
        return runtime.get_instance().media_file_mgr.add(path, "audio/wav", coordinates)
    mimetype = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".flac": "audio/flac", ".ogg": "audio/ogg",
                ".opus": "audio/ogg"}.get(path.suffix.lower(), "audio/wav")  # fmt: skip
    return runtime.get_instance().media_file_mgr.add(str(path), mimetype, coordinates)


def player(
    call_id: str, audio: Path | bytes | None, rows_html: str, *, start: float = 0.0, key: str
) -> float | None:
    """Mount the player; return the playing time (s) the browser last reported, or None."""
    url = audio_url(audio, f"lydlogg-player-{call_id}") if audio is not None else ""
    version = f"{call_id}:{hash(rows_html) & 0xFFFFFFFF:x}:{url}"
    result = _component(
        key=key,
        data={
            "url": url,
            "rows": rows_html,
            "speeds": list(SPEEDS),
            "start": float(start),
            "version": version,
        },
        default={"time": None},
        on_time_change=lambda: None,
    )
    return getattr(result, "time", None)
