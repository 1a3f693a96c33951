"""Linking repeat contacts at scale: 1,000,000 synthetic contacts, then 1,000 new ones.

Contacts are spread over a year from 300,000 phones; a third name a patient, and some patients
call from a second phone. Targets: the whole history links in under 10 s, and the episodes
reached by 1,000 new contacts link in under 1 s.

    python bench/episodes.py [--contacts N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lydlogg.db import connect  # noqa: E402
from lydlogg.episodes import link_episodes, summarise  # noqa: E402
from lydlogg.vocabulary import SERVICES  # noqa: E402

# The service codes as a SQL list literal (constants from the vocabulary, no user input).
_SERVICES = {"services": "[" + ", ".join(f"'{s}'" for s in SERVICES) + "]", "n_services": len(SERVICES)}

_CONTACTS = """
INSERT INTO calls (call_id, started_at, service, caller_pseudonym, patient_pseudonym, source)
SELECT 'c' || lpad(i::VARCHAR, 8, '0'),
       TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(CAST(hash(i, 'when') % {seconds} AS BIGINT)),
       {services}[1 + CAST(hash(i, 'svc') % {n_services} AS INTEGER)],
       'pho_' || CAST(hash(i, 'phone') % {phones} AS VARCHAR),
       CASE WHEN hash(i, 'hasp') % 3 = 0 THEN 'pat_' || CAST(hash(i, 'phone') % {phones} AS VARCHAR) END,
       'bench'
FROM range({start}, {stop}) t(i)
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=1_000)
    args = parser.parse_args()
    year = 365 * 24 * 3600
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp, connect(Path(tmp) / "bench.duckdb") as con:
        phones = max(1, int(args.contacts * 0.3))
        con.execute(_CONTACTS.format(seconds=year, phones=phones, start=0, stop=args.contacts, **_SERVICES))
        t0 = time.perf_counter()
        full = link_episodes(con)
        t_full = time.perf_counter() - t0
        counts = summarise(full)
        del full  # the check below links everything again: hold one full result at a time
        con.execute(
            _CONTACTS.format(
                seconds=year, phones=phones, start=args.contacts, stop=args.contacts + args.new, **_SERVICES
            )
        )
        new_ids = [f"c{i:08d}" for i in range(args.contacts, args.contacts + args.new)]
        t0 = time.perf_counter()
        part = link_episodes(con, call_ids=new_ids)
        t_incr = time.perf_counter() - t0
        check = link_episodes(con).set_index("call_id")
    same = (part.set_index("call_id")["episode_id"] == check.loc[part["call_id"], "episode_id"]).all()
    print(
        f"{args.contacts:,} contacts: {counts['episodes']:,} episodes with re-contacts, {counts['recontacts']:,} re-contacts"
    )
    print(f"  link all             {t_full:6.2f} s  (target < 10 s)")
    print(
        f"  link {args.new:,} new      {t_incr:6.2f} s  (target < 1 s; {len(part):,} contacts in the episodes reached)"
    )
    print(f"  incremental result equals the full relink for those contacts: {bool(same)}")


if __name__ == "__main__":
    main()
