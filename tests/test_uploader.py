"""The Norwegian uploader's style block (pure); the browser test checks what it shows."""

from __future__ import annotations

import pytest

from review.views.uploader import BUTTON_TEXT, limit_text, uploader_css


def test_the_hint_names_the_limit_and_the_kinds():
    assert limit_text(200.0, ["zip"]) == "Dra filen hit · maks 200 MB · ZIP"
    assert limit_text(12.5, ["csv", "xlsx"]) == "Dra filen hit · maks 12.5 MB · CSV, XLSX"


def test_the_style_is_scoped_to_one_uploader_and_replaces_its_texts():
    css = uploader_css("kasus-import", "Dra filen hit · maks 200 MB · ZIP")
    assert css.startswith("<style>") and css.endswith("</style>")
    rules = css.removeprefix("<style>").removesuffix("</style>").split("}")
    selectors = [rule.split("{")[0] for rule in rules if rule]
    assert selectors and all(
        part.strip().startswith(".st-key-kasus-import [data-testid=stFileUploaderDropzone]")
        for selector in selectors
        for part in selector.split(",")
    )
    assert f'content: "{BUTTON_TEXT}"' in css and 'content: "Dra filen hit · maks 200 MB · ZIP"' in css
    assert "stFileUploaderDropzoneInstructions] span" in css and "display: none" in css


def test_quotes_and_markup_in_the_text_cannot_leave_the_string_or_the_style():
    css = uploader_css("k", 'a"b</style><script>', button="«ok»")
    assert css.count("<style>") == 1 and css.count("</style>") == 1 and "<script>" not in css
    assert 'content: "a\\000022b\\00003c' in css and 'content: "\\0000abok\\0000bb"' in css


@pytest.mark.parametrize("key", ["", "a b", "x]{}", "kasus.import"])
def test_a_key_that_cannot_be_a_css_class_is_refused(key):
    with pytest.raises(ValueError, match="only letters, digits"):
        uploader_css(key, "hint")
