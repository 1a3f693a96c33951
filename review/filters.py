"""Inbox filters: a small value object that lives in the URL so a filtered inbox can be shared."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

__all__ = ["InboxFilter"]


@dataclass(frozen=True)
class InboxFilter:
    services: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    only_flagged: bool = False
    qualities: tuple[str, ...] = ()  # transcript quality levels: "god", "usikker", "dårlig", "skrevet"
    units: tuple[str, ...] = ()  # units (legevakter) among those the user may see

    @classmethod
    def from_query(cls, get_all: Mapping[str, Sequence[str]]) -> InboxFilter:
        """From URL query parameters (each key to its list of values)."""
        return cls(
            services=tuple(get_all.get("tjeneste", ())),
            operators=tuple(get_all.get("operator", ())),
            statuses=tuple(get_all.get("status", ())),
            only_flagged=list(get_all.get("rekontakt", ())) == ["1"],
            qualities=tuple(get_all.get("kvalitet", ())),
            units=tuple(get_all.get("enhet", ())),
        )

    def to_query(self) -> dict[str, list[str]]:
        query = {
            "tjeneste": list(self.services),
            "operator": list(self.operators),
            "status": list(self.statuses),
        }
        query["rekontakt"] = ["1"] if self.only_flagged else []
        query["kvalitet"] = list(self.qualities)
        query["enhet"] = list(self.units)
        return {k: v for k, v in query.items() if v}

    def apply(self, calls: pd.DataFrame) -> pd.DataFrame:
        keep = pd.Series(True, index=calls.index)
        for column, wanted in (
            ("service", self.services),
            ("operator_id", self.operators),
            ("status", self.statuses),
            ("unit", self.units),
        ):
            if wanted:
                keep &= calls[column].isin(wanted)
        if self.only_flagged:
            keep &= calls["flagged"].astype(bool)
        if self.qualities and "quality_level" in calls:
            keep &= calls["quality_level"].isin(self.qualities)
        return calls[keep]
