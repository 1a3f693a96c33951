"""Where in a call a scorer's rule looks (pure: no I/O).

A criterion's scorer declares in the rubric YAML which stretch of the staff's speech it reads
(``scorer.params.looks_at``; default: all of it). The scorer reads only that stretch, and the
abstention rule (:mod:`rubrics.recognition`) judges the recognition quality of that stretch, not of
the whole call: "introduces self" looks only at the greeting, so a well-heard greeting keeps its
"no" however badly the rest of the call was heard, and a garbled greeting abstains even when the
rest was heard well.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from rubrics.types import CallText

__all__ = ["AllStaff", "LooksAt", "Opening", "stretch_indices"]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AllStaff(_Part):
    part: Literal["all_staff"] = Field(description="Every staff turn of the call.")

    @property
    def label(self) -> str:
        return ""


class Opening(_Part):
    part: Literal["opening"] = Field(description="The greeting: the first staff turns of the call.")
    max_staff_turns: int = Field(
        3, ge=1, le=10, description="At most this many staff turns form the greeting."
    )
    caller_words_before_end: int = Field(
        6,
        ge=1,
        le=50,
        description="The greeting ends at the first caller turn with at least this many words after a staff turn.",
    )

    @property
    def label(self) -> str:
        return "i innledningen"


LooksAt = Annotated[AllStaff | Opening, Field(discriminator="part")]


def stretch_indices(call: CallText, looks_at: AllStaff | Opening) -> frozenset[int]:
    """The indices of the staff utterances in the stretch ``looks_at`` names."""
    if isinstance(looks_at, AllStaff):
        return frozenset(u.index for u in call.staff)
    found: list[int] = []
    for u in call.utterances:
        if u.role == "caller" and found and len(u.text.split()) >= looks_at.caller_words_before_end:
            break
        if u.is_staff:
            if len(found) >= looks_at.max_staff_turns:
                break
            found.append(u.index)
    return frozenset(found)
