"""Keyboard choice in the review form: in a criterion's radio group (reached with Tab), a digit
picks the option with that label, "j" and "n" pick ja and nei.

The one page script the app injects as HTML. It is a constant: no user text, no formatting, so
nothing a caller or reviewer wrote can reach it (``tests/test_hardening.py`` checks that this is
the only HTML component and that its argument is this constant).
"""

from __future__ import annotations

import streamlit.components.v1 as components

__all__ = ["KEYS_SCRIPT", "install_number_keys"]

KEYS_SCRIPT = """<script>
const doc = window.parent.document;
if (!doc.lydloggKeys) {
  doc.lydloggKeys = true;
  doc.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const group = e.target && e.target.closest && e.target.closest("[role=radiogroup]");
    if (!group) return;
    const wanted = {j: "ja", n: "nei"}[e.key] || e.key;
    const label = [...group.querySelectorAll("label")].find((l) => l.innerText.trim() === wanted);
    if (label) { label.click(); e.preventDefault(); }
  });
}
</script>"""


def install_number_keys() -> None:
    """Install the key handler once on the page, from a zero-height component."""
    components.html(KEYS_SCRIPT, height=0)
