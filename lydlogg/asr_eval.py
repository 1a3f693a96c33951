"""Speech recognition measured on the site's own calls: reviewers' corrected segments are the test set.

A corrected segment is an audio span (call, channel, start, end) with the reviewer's text as its
reference. :func:`corrected_segments` reads them; :func:`evaluate` scores hypotheses against them
per model, service and channel, overall and on the words that matter to the rubrics (numbers,
113/116117, key vocabulary, symptom and advice words). :func:`retranscribe` runs a model on just
those spans. Scoring is pure; reading the database and decoding audio are kept apart.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import jiwer

from lydlogg.access import check
from rubrics.scorers import lexicon
from rubrics.text import KEY_VOCAB
from rubrics.text import normalise as rubric_normalise
from transcription.evaluation import corpus_wer, normalise

__all__ = [
    "CorrectedSegment",
    "EvalRow",
    "corrected_segments",
    "day_range",
    "evaluate",
    "key_word_errors",
    "latest_results",
    "AsrEvalReport",
    "eval_runs",
    "propose_prompt",
    "propose_vocabulary",
    "run_asr_eval",
    "retranscribe",
]

log = logging.getLogger(__name__)

ORIGINAL = "transkripsjon"  # the pseudo-model name for the stored transcript's own text

_KEY_LEXICONS = (
    lexicon.SIGN,
    lexicon.ACTION,
    lexicon.AMBULANCE,
    lexicon.URGENCY,
    lexicon.COME_IN_NOW,
    lexicon.COME_IN_WHEN,
)


@dataclass(frozen=True)
class CorrectedSegment:
    """One span a reviewer corrected: where it is, what the model said and what was said."""

    call_id: str
    transcript_id: str
    segment_index: int
    service: str | None
    channel: int | None
    start_s: float
    end_s: float
    audio_path: str
    model_id: str
    original_text: str
    corrected_text: str
    corrected_at: datetime | None
    free_of_identifiers: bool = False  # a reviewer marked this corrected text free of identifiers


@dataclass(frozen=True)
class EvalRow:
    """WER of one model on one service/channel group, with what the figure rests on."""

    model: str
    service: str
    channel: str
    segments: int
    reference_words: int
    wer: float
    key_words: int
    key_wer: float
    first_corrected: datetime | None
    last_corrected: datetime | None


def _key_tokens(text: str) -> tuple[list[str], set[int]]:
    """Rubric-normalised tokens (punctuation dropped) and the indices of the key ones."""
    norm = rubric_normalise(text, fuzzy_cutoff=100)
    keep = [i for i, t in enumerate(norm.tokens) if t[0].isalnum()]
    tokens = [norm.tokens[i] for i in keep]
    key: set[int] = set()
    for i, t in enumerate(tokens):
        if any(ch.isdigit() for ch in t) or t in KEY_VOCAB:
            key.add(i)
    plain = " ".join(tokens)
    starts, pos = [], 0
    for t in tokens:
        starts.append(pos)
        pos += len(t) + 1
    for lex in _KEY_LEXICONS:
        for m in lex.finditer(plain):
            for i, s in enumerate(starts):
                if m.start() <= s < m.end():
                    key.add(i)
    return tokens, key


def key_word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(errors, key words) over the reference's key words: a key word counts as an error when the
    alignment substitutes or deletes it."""
    ref, key = _key_tokens(reference)
    if not key:
        return 0, 0
    hyp, _ = _key_tokens(hypothesis)
    if not hyp:
        return len(key), len(key)
    out = jiwer.process_words(" ".join(ref), " ".join(hyp))
    errors = 0
    for chunk in out.alignments[0]:
        if chunk.type in ("substitute", "delete"):
            errors += sum(1 for i in range(chunk.ref_start_idx, chunk.ref_end_idx) if i in key)
    return errors, len(key)


def evaluate(segments: Sequence[CorrectedSegment], hypotheses: dict[str, Sequence[str]]) -> list[EvalRow]:
    """WER per (model, service, channel) and for each model over all of them (``alle``).

    ``hypotheses`` maps a model name to one text per segment, in the order of ``segments``; the
    stored transcript's own text is scored as model ``transkripsjon``.
    """
    models: dict[str, Sequence[str]] = {ORIGINAL: [s.original_text for s in segments], **hypotheses}
    rows: list[EvalRow] = []
    for model, texts in models.items():
        if len(texts) != len(segments):
            raise ValueError(f"model {model!r} has {len(texts)} texts for {len(segments)} segments")
        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, s in enumerate(segments):
            service = s.service or "ukjent"
            channel = "mono" if s.channel is None else str(s.channel)
            groups[(service, channel)].append(i)
            groups[("alle", "alle")].append(i)
        for (service, channel), idx in sorted(
            groups.items(), key=lambda kv: (kv[0] == ("alle", "alle"), kv[0])
        ):
            pairs = [(segments[i].corrected_text, texts[i]) for i in idx]
            w = corpus_wer(pairs)
            key_err = key_n = 0
            for r, h in pairs:
                e, n = key_word_errors(r, h)
                key_err, key_n = key_err + e, key_n + n
            dates = [segments[i].corrected_at for i in idx if segments[i].corrected_at is not None]
            rows.append(
                EvalRow(
                    model=model,
                    service=service,
                    channel=channel,
                    segments=len(idx),
                    reference_words=w.reference_words,
                    wer=w.wer,
                    key_words=key_n,
                    key_wer=key_err / key_n if key_n else 0.0,
                    first_corrected=min(dates) if dates else None,
                    last_corrected=max(dates) if dates else None,
                )
            )
    return rows


# What the anonymiser finds that a proposed word must never be part of: a person's name, a phone or
# national identity number, an address. Places (``STED``) stay: a site's place names are what the
# vocabulary is for, and a town names nobody; dates (``DATO``) name nobody on their own either.
_IDENTIFIER_KINDS = frozenset({"NAVN", "TELEFON", "FØDSELSNUMMER", "ADRESSE"})


def _identifier_words(texts: Iterable[str]) -> set[str]:
    """The normalised words that lie inside a name, phone or national id number or address the
    anonymiser (:func:`anonymise.text.find_identifiers`) finds in any of ``texts``."""
    from anonymise.text import find_identifiers

    found: set[str] = set()
    for text in texts:
        for r in find_identifiers(text):
            if r.kind in _IDENTIFIER_KINDS:
                found.update(normalise(text[r.start : r.end]).split())
    return found


def propose_vocabulary(segments: Sequence[CorrectedSegment], *, min_count: int = 2) -> list[str]:
    """Words reviewers keep putting in: in the corrected text but not the model's, in at least
    ``min_count`` different calls (a word put into many segments of one call says something about
    that call, such as where the caller lives, not about the service's vocabulary), the most calls
    first. Numbers and short function words are left out, and
    so is every word the anonymiser takes for part of an identifier (a person's name, a phone or
    national id number, an address), in any corrected text it stands in or written alone: the
    proposals go into settings and onto the admin page, where no identifier may go."""
    calls: dict[str, set[str]] = defaultdict(set)
    spelling: dict[str, str] = {}
    for s in segments:
        original = set(normalise(s.original_text).split())
        added = {w for w in normalise(s.corrected_text).split() if w not in original}
        for w in added:
            if len(w) < 4 or any(ch.isdigit() for ch in w):
                continue
            calls[w].add(s.call_id)
        for raw in s.corrected_text.split():
            key = normalise(raw)
            if key in added and key not in spelling:
                spelling[key] = raw.strip(".,!?;:")
    counts = {w: len(ids) for w, ids in calls.items()}
    ranked = sorted((w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
    if not ranked:
        return []
    wanted = set(ranked)
    contexts = [s.corrected_text for s in segments if wanted & set(normalise(s.corrected_text).split())]
    alone = [spelling.get(w, w)[:1].upper() + spelling.get(w, w)[1:] for w in ranked]  # as a name is written
    private = _identifier_words([*contexts, *alone])
    kept = [w for w in ranked if w not in private]
    if len(kept) < len(ranked):
        log.info("asr-eval: %d proposed word(s) left out as identifiers", len(ranked) - len(kept))
    return [spelling.get(w, w) for w in kept]


def propose_prompt(words: Sequence[str]) -> str:
    """An ``asr.initial_prompt`` from the proposed words: one line naming them, which the decoder
    takes as if it had been said before the call. Empty without words."""
    return ", ".join(words) + "." if words else ""


def eval_runs(name: str, options, words: Sequence[str]) -> list[tuple[str, object]]:
    """The runs of one model: as configured, then (with proposed words) once with them as
    ``hotwords`` (``NAME+ordliste``) and once with them as the initial prompt (``NAME+ledetekst``),
    each on the same segments, so the table shows before and after."""
    from dataclasses import replace

    runs: list[tuple[str, object]] = [(name, options)]
    if words:
        runs.append((f"{name}+ordliste", replace(options, hotwords=" ".join(words))))
        runs.append((f"{name}+ledetekst", replace(options, initial_prompt=propose_prompt(words))))
    return runs


def day_range(
    since: date | None, until: date | None, timezone: str = "Europe/Oslo"
) -> tuple[datetime | None, datetime | None]:
    """Calendar days (both included) in ``timezone`` as the instants :func:`corrected_segments`
    compares correction times with: the start of ``since`` and the last moment of ``until``."""
    tz = ZoneInfo(timezone)
    start = datetime.combine(since, time(0), tz) if since else None
    end = (
        datetime.combine(until + timedelta(days=1), time(0), tz) - timedelta(microseconds=1)
        if until
        else None
    )
    return start, end


def corrected_segments(
    con, *, since: datetime | None = None, until: datetime | None = None
) -> list[CorrectedSegment]:
    """Every segment whose text a reviewer corrected (latest correction wins), oldest call first,
    with whether a reviewer marked that latest corrected text free of identifiers."""
    rows = con.execute(
        """
        WITH latest AS (
            SELECT transcript_id, segment_index, max(correction_id) AS correction_id,
                   arg_max(text, correction_id) AS text, max(corrected_at) AS corrected_at
            FROM segment_corrections WHERE text IS NOT NULL
            GROUP BY transcript_id, segment_index
        ),
        marks AS (
            SELECT correction_id, arg_max(free_of_identifiers, mark_id) AS free
            FROM segment_identifier_marks GROUP BY correction_id
        )
        SELECT t.call_id, s.transcript_id, s.segment_index, c.service, s.channel, s.start_s, s.end_s,
               a.path, t.model_id, s.text, l.text, l.corrected_at, coalesce(m.free, false)
        FROM latest l
        LEFT JOIN marks m USING (correction_id)
        JOIN segments s USING (transcript_id, segment_index)
        JOIN transcripts t ON t.transcript_id = s.transcript_id
        JOIN calls c ON c.call_id = t.call_id
        JOIN audio_files a ON a.sha256 = t.audio_sha256
        WHERE (CAST(? AS TIMESTAMPTZ) IS NULL OR l.corrected_at >= ?)
          AND (CAST(? AS TIMESTAMPTZ) IS NULL OR l.corrected_at <= ?)
        ORDER BY t.call_id, s.start_s, s.segment_index
        """,
        [since, since, until, until],
    ).fetchall()
    return [CorrectedSegment(*r) for r in rows]


def retranscribe(
    segments: Sequence[CorrectedSegment],
    transcriber,
    *,
    dual_mono_correlation: float = 0.98,
    decode: Callable[..., object] | None = None,
) -> list[str]:
    """The text ``transcriber`` gives for each segment's span alone (each file decoded once).

    A file that cannot be read gives empty texts for its segments (counted as all deleted) and a
    warning naming the file; the rest go on.
    """
    import numpy as np

    from transcription.audio import SAMPLE_RATE, AudioError, DecodedAudio, decode_audio

    decode = decode or decode_audio
    by_path: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(segments):
        by_path[s.audio_path].append(i)
    texts = [""] * len(segments)
    for path, idx in by_path.items():
        try:
            audio = decode(Path(path), dual_mono_correlation=dual_mono_correlation)
        except (AudioError, OSError) as e:
            log.warning(
                "asr-eval: cannot read %s (%s); its %d segment(s) count as deleted", path, e, len(idx)
            )
            continue
        for i in idx:
            s = segments[i]
            row = s.channel if (s.channel is not None and audio.layout == "stereo") else 0
            a, b = int(s.start_s * SAMPLE_RATE), int(s.end_s * SAMPLE_RATE)
            span = np.ascontiguousarray(audio.samples[row, a:b])[None, :]
            if span.shape[1] == 0:
                continue
            result = transcriber.transcribe(DecodedAudio(samples=span, layout="mono", info=audio.info))
            texts[i] = " ".join(seg.text for seg in result.segments)
    return texts


def rows_table(rows: Iterable[EvalRow]) -> list[dict]:
    """Rows as plain dicts for a table or JSON."""
    return [
        {
            "modell": r.model,
            "tjeneste": r.service,
            "kanal": r.channel,
            "segmenter": r.segments,
            "ord": r.reference_words,
            "wer": round(r.wer, 4),
            "nøkkelord": r.key_words,
            "wer_nøkkelord": round(r.key_wer, 4),
            "fra": r.first_corrected,
            "til": r.last_corrected,
        }
        for r in rows
    ]


@dataclass(frozen=True)
class AsrEvalReport:
    """What ``lydlogg asr-eval`` found: the rows, how many segments, and the proposed vocabulary."""

    rows: tuple[EvalRow, ...]
    segments: int
    vocabulary: tuple[str, ...]
    prompt: str = ""  # the proposed asr.initial_prompt (from the vocabulary)


def run_asr_eval(
    settings,
    models: Sequence[str] = (),
    *,
    vocabulary: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
) -> AsrEvalReport:
    """Re-transcribe the corrected spans with each model (default: the configured one) and score
    them; with ``vocabulary`` each model runs again with the proposed words as hotwords
    (``MODEL+ordliste``) and as the initial prompt (``MODEL+ledetekst``), on the same segments
    (:func:`eval_runs`)."""
    from lydlogg.batch import asr_options
    from lydlogg.db import connect
    from transcription import Transcriber, load_model, resolve_model

    with connect(settings.db_path, read_only=True) as con:
        segments = corrected_segments(con, since=since, until=until)
    words = tuple(propose_vocabulary(segments)) if vocabulary else ()
    hypotheses: dict[str, list[str]] = {}
    if segments:
        options = asr_options(settings)
        for name in models or (settings.asr.model,):
            spec = resolve_model(name, models_dir=settings.asr.models_dir, offline=settings.asr.offline)
            model = load_model(
                spec,
                device=options.device,
                compute_type=options.compute_type,
                cpu_threads=settings.asr.cpu_threads,
            )
            for label, opts in eval_runs(spec.name, options, words):
                log.info("asr-eval: %s on %d corrected segment(s)", label, len(segments))
                hypotheses[label] = retranscribe(
                    segments,
                    Transcriber(model, opts),
                    dual_mono_correlation=settings.audio.dual_mono_correlation,
                )
            del model
    rows = evaluate(segments, hypotheses) if segments else []
    if rows:
        import uuid

        run_id = uuid.uuid4().hex
        with connect(settings.db_path) as con:
            con.executemany(
                "INSERT INTO asr_eval_results (run_id, model, service, channel, segments, reference_words, wer,"
                " key_words, key_wer, first_corrected, last_corrected, vocabulary)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(run_id, r.model, r.service, r.channel, r.segments, r.reference_words, r.wer, r.key_words,
                  r.key_wer, r.first_corrected, r.last_corrected, " ".join(words) or None) for r in rows],
            )  # fmt: skip
    return AsrEvalReport(
        rows=tuple(rows), segments=len(segments), vocabulary=words, prompt=propose_prompt(words)
    )


def latest_results(db_path: Path, user) -> list[dict]:
    """The last ``asr-eval`` run's figures (admin page); needs the ``manage_users`` right."""
    from lydlogg.db import connect

    check(user, "manage_users")
    with connect(db_path, read_only=True) as con:
        cur = con.execute(
            "SELECT run_at, model, service, channel, segments, reference_words, wer, key_words, key_wer,"
            " first_corrected, last_corrected, vocabulary FROM asr_eval_results"
            " WHERE run_id = (SELECT arg_max(run_id, run_at) FROM asr_eval_results)"
            " ORDER BY model, service = 'alle', service, channel"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
