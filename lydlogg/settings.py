"""The one typed home of every Lydlogg setting.

Settings are read, highest priority first, from keyword arguments, ``LYDLOGG_*`` environment
variables (nested sections with a double underscore, e.g. ``LYDLOGG_ASR__MODEL``), and the TOML
file given by ``--config`` (default ``lydlogg.toml`` in the working directory, or the file named
by ``LYDLOGG_CONFIG``). Every field carries a description; ``docs/configuration.md`` is generated
from them and a test fails when a setting is missing there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from anonymise.audio import AnonymiseSettings
from lydlogg.audit import AuditSettings
from lydlogg.auth import LoginSettings
from lydlogg.backup_crypto import BackupSettings
from lydlogg.crypto import EncryptionSettings
from lydlogg.formatting import DisplaySettings
from lydlogg.metadata import MetadataSettings
from lydlogg.retention import RetentionSettings
from lydlogg.vocabulary import UserRole
from transcription.diarization.pyannote_adapter import PyannoteSettings
from transcription.diarization.settings import DiarizationSettings
from transcription.quality import POOR_BELOW, UNCERTAIN_BELOW

__all__ = [
    "AdviceSettings",
    "AsrSettings",
    "AudioSettings",
    "CaseSettings",
    "DashboardSettings",
    "ConfigError",
    "default_settings",
    "ExecutorSettings",
    "Settings",
    "env_name",
    "iter_settings",
    "load_settings",
    "production_problems",
    "settings_markdown",
]

DEFAULT_CONFIG_FILE = Path("lydlogg.toml")

_config_file: ContextVar[Path | None] = ContextVar("lydlogg_config_file", default=None)


class ConfigError(ValueError):
    """A configuration file or value that cannot be used."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AsrSettings(_Section):
    """Speech recognition (faster-whisper)."""

    model: str = Field(
        "bundled-base",
        description=(
            "Which Whisper model transcribes. `bundled-base` is Whisper base assembled offline from "
            "the `bundled-model` extra; a path to a local CTranslate2 folder (e.g. NB-Whisper "
            "converted with ct2-transformers-converter); or, when `offline` is false, a "
            "faster-whisper size name (`small`, `large-v3`) or a Hugging Face repo id."
        ),
    )
    models_dir: Path = Field(
        Path("data/models"),
        description="Folder where the bundled model is assembled and local model folders are listed from.",
    )
    language: str = Field(
        "no",
        description=(
            "Language forced on the decoder (ISO 639-1). Norwegian is `no`; auto-detection is not "
            "offered because it picks English or Danish on short telephone audio."
        ),
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where the model runs; `auto` takes CUDA when a GPU is visible, else the CPU."
    )
    compute_type: str = Field(
        "auto",
        description="CTranslate2 compute type; `auto` means int8 on the CPU and float16 on CUDA.",
    )
    beam_size: int = Field(5, ge=1, le=20, description="Beam width of the decoder.")
    batch_size: int = Field(
        8,
        ge=1,
        le=64,
        description=(
            "Chunks of speech decoded together by faster-whisper's BatchedInferencePipeline, on the "
            "CPU and on a GPU; both channels of a stereo call share the batches. 1 decodes "
            "sequentially, channel by channel. Batching needs `vad_filter`. A batched chunk whose text "
            "loops (compression ratio over 2.4) is decoded again sequentially, channel by channel."
        ),
    )
    pause_split_s: float = Field(
        1.0,
        ge=0,
        le=30,
        description=(
            "A segment is split where one word ends this many seconds before the next begins, so "
            "each segment is one stretch of talk and the parties' segments interleave; 0 keeps the "
            "decoder's own segments."
        ),
    )
    block_s: int = Field(
        600,
        ge=60,
        description=(
            "A call longer than this many seconds (a tenth more is let pass) is read from its file "
            "and transcribed block by block, each block cut at the quietest quarter second near its "
            "boundary, so memory does not grow with the call's length (a 10-minute block of mono "
            "audio is 38 MB); a shorter call is decoded whole, as one block. Part of the ASR options "
            "hash: it changes the words of longer calls only, but a stored result names what made it "
            "(README, *Memory on a 3-hour call*)."
        ),
    )
    cpu_threads: int = Field(
        0, ge=0, description="CPU threads for CTranslate2; 0 lets it choose (all cores)."
    )
    vad_filter: bool = Field(
        True, description="Run the Silero voice-activity detector and decode only speech regions."
    )
    vad_min_silence_ms: int = Field(
        1000,
        ge=100,
        description="Silence (ms) that splits two speech regions in the voice-activity detector.",
    )
    hotwords: str = Field(
        "",
        description=(
            "Words the decoder is nudged towards (faster-whisper `hotwords`), space-separated: the "
            "site's place names, local services and drug names. `lydlogg asr-eval --vocabulary` "
            "proposes them from reviewers' corrections. Empty means none. Part of the options hash."
        ),
    )
    initial_prompt: str = Field(
        "",
        description=(
            "Text given to the decoder as if it preceded the call (faster-whisper "
            "`initial_prompt`), e.g. a sentence with the site's vocabulary. Empty means none. Part "
            "of the options hash."
        ),
    )
    offline: bool = Field(
        True,
        description=(
            "Never contact the Hugging Face hub (sets HF_HUB_OFFLINE=1). A model that is not on "
            "disk then fails at once with a message that says how to get one."
        ),
    )


class AudioSettings(_Section):
    """Decoding and inspecting recordings."""

    dual_mono_correlation: float = Field(
        0.98,
        ge=0,
        le=1,
        description=(
            "Two channels count as one signal (dual-mono, transcribed once as mono) when their "
            "correlation is at least this; two parties on separate channels correlate near 0."
        ),
    )
    max_file_mb: int = Field(2048, ge=1, description="Largest audio file accepted by ingest, in mebibytes.")
    playback_dir: Path = Field(
        Path("data/playback"),
        description=(
            "Folder for browser-safe copies (16-bit PCM WAV, named by the recording's sha256) of "
            "recordings browsers cannot play as they are (GSM, ADPCM, G.711, G.722, G.729, AMR, WMA, VOX, AAC). "
            "Unused while `encryption.enabled`: the copy is then made in memory for each playing "
            "and never written, and a copy left here is deleted when its call is played."
        ),
    )


class ExecutorSettings(_Section):
    """Where the heavy stage (decode, speech recognition, diarization, roles) runs."""

    kind: Literal["local", "ray"] = Field(
        "local",
        description=(
            "`local` runs every call in the `lydlogg process` process (no extra dependency); `ray` "
            "spreads calls over a pool of Ray actors, each holding the model once (the `ray` "
            "extra; docs/scaling.md). The driver stays the only writer of the database."
        ),
    )
    address: str = Field(
        "local",
        description=(
            "Ray cluster to use: `local` starts a private Ray instance on this machine for the run, "
            "`auto` joins the cluster started on this machine with `ray start`, `host:6379` joins a "
            "cluster's head node."
        ),
    )
    workers: int = Field(2, ge=1, le=1024, description="Ray actors in the pool; each loads the model once.")
    cpus_per_worker: float = Field(
        1.0,
        gt=0,
        description=(
            "CPUs Ray reserves for each worker; CTranslate2 uses this many threads (rounded up) unless "
            "`asr.cpu_threads` is set."
        ),
    )
    gpus_per_worker: float = Field(
        0.0,
        ge=0,
        description="GPUs Ray reserves for each worker (0.5 puts two workers on one GPU); 0 for CPU workers.",
    )
    local_cpus: int = Field(
        0, ge=0, description="CPUs a `local` Ray instance may use; 0 lets Ray count this machine's cores."
    )
    ship: Literal["bytes", "path"] = Field(
        "bytes",
        description=(
            "How a recording reaches a worker: `bytes` sends the file's content (workers need no access "
            "to the audio folder), `path` sends its path (every node mounts the audio at the same path)."
        ),
    )
    start_timeout_s: float = Field(
        600.0,
        gt=0,
        description=(
            "Seconds to wait for every worker to load its model; a cluster without the CPUs or GPUs "
            "asked for fails after this with a message naming them."
        ),
    )
    max_retries: int = Field(
        2,
        ge=0,
        le=10,
        description=(
            "Times a call is retried on a fresh worker when its worker dies mid-call; after that the "
            "call is recorded as a failure (stage `transcribe`, the reason saying the Ray worker died)."
        ),
    )


class EpisodeSettings(_Section):
    """Linking repeat contacts into episodes."""

    window_hours: float = Field(
        72.0,
        gt=0,
        le=24 * 30,
        description="Contacts from the same phone or about the same patient this close (hours) join one episode; "
        "a changed value relinks every stored episode at the next `lydlogg ingest` or `lydlogg process`.",
    )


class ServerSettings(_Section):
    """The Streamlit review app."""

    address: str = Field("localhost", description="Address the app listens on.")
    port: int = Field(8501, ge=1, le=65535, description="Port the app listens on.")
    session_timeout_minutes: float = Field(
        15,
        gt=0,
        le=24 * 60,
        description=(
            "A logged-in user who does nothing for this long (minutes) must log in again; a reload "
            "within it keeps the session (a random token in a cookie, kept hashed in the database)."
        ),
    )
    session_max_hours: float = Field(
        12,
        gt=0,
        le=7 * 24,
        description=(
            "Absolute lifetime of a log-in session (hours): after this the user must log in again, "
            "however active they were. Applies to local and single sign-on log-ins alike."
        ),
    )


class SsoSettings(_Section):
    """Single sign-on through OpenID Connect (Streamlit's st.login), beside the local accounts."""

    enabled: bool = Field(False, description="Offer log-in through the identity provider below.")
    label: str = Field(
        "Logg inn med Helse-ID / Entra ID",
        description="Text of the single sign-on button on the log-in page.",
    )
    server_metadata_url: str = Field(
        "",
        description=(
            "The provider's discovery document, e.g. "
            "`https://login.microsoftonline.com/<tenant>/v2.0/.well-known/openid-configuration` (Entra ID) "
            "or the health sector's identity service's `/.well-known/openid-configuration`."
        ),
    )
    client_id: str = Field("", description="Client id Lydlogg is registered with at the provider.")
    client_secret_file: Path = Field(
        Path("data/secrets/oidc-client-secret"),
        description="File holding the client secret (one line; keep it readable only by the service account).",
    )
    redirect_uri: str = Field(
        "http://localhost:8501/oauth2callback",
        description="The app's own address with the path `/oauth2callback`, as registered at the provider.",
    )
    prompt: str = Field(
        "login", description="OIDC `prompt` sent with the request (`login`, `select_account`, `consent`)."
    )
    username_claim: str = Field(
        "email",
        description="Claim whose value names the Lydlogg account at an identity's first log-in (`email`, "
        "`preferred_username`, `sub`, ...); from then on the account is found through the ID token's issuer "
        "and `sub`, never through this claim.",
    )
    role_claim: str = Field(
        "roles", description="Claim holding the user's roles or groups (a string or a list of strings)."
    )
    role_map: dict[str, UserRole] = Field(
        default_factory=dict,
        description=(
            'Claim values mapped to Lydlogg roles, e.g. `{ "lydlogg-leder" = "leder" }`. Read at every '
            "SSO log-in: the account's role follows the claims (several: the broadest wins), and claims "
            "that map to no role are refused, unless an admin has pinned the account's role on Brukere "
            "(`lydlogg users pin-role`). Empty (the default): only accounts with a pinned role get in."
        ),
    )
    unit_claim: str = Field(
        "",
        description=(
            "Claim holding the user's units (legevakt or site; a string or a list of strings). Empty (the "
            "default): units are not read from the token; a new SSO account starts in "
            "`metadata.default_unit` and an admin moves it. Set: the units follow the claim at every SSO "
            "log-in, as the role does (not for an account whose role an admin has pinned), and a user who "
            "needs a unit (every role but `regional` and `admin`) and gets none is refused."
        ),
    )
    unit_map: dict[str, str] = Field(
        default_factory=dict,
        description=(
            'Claim values mapped to unit names, e.g. `{ "grp-nordby-lv" = "Nordby legevakt" }`. Empty (the '
            "default): the claim's values are the unit names themselves. Values that map to nothing are ignored."
        ),
    )
    acr_values: list[str] = Field(
        default_factory=list,
        description=(
            "Accepted assurance levels: the ID token's `acr` claim must be one of these values, written "
            "exactly as the provider sends them (see its documentation). "
            "A token without `acr`, or with another value, is refused with one message. Empty (the default): "
            "`acr` is not checked."
        ),
    )
    operator_id_claim: str = Field(
        "",
        description="Claim holding the operator id for operators and doctors (empty: the user name is used).",
    )
    max_identity_age_seconds: int = Field(
        300,
        ge=30,
        le=3600,
        description=(
            "An identity from the provider starts a Lydlogg session only this soon (seconds) after the "
            "provider authenticated the user; an older one (Streamlit keeps it 30 days in a cookie) "
            "is logged out, so the next person at a shared PC is not logged in as the last."
        ),
    )


class TranscriptQualitySettings(_Section):
    """How the review app marks recognised speech by its estimated word accuracy (transcription.quality)."""

    poor_below: float = Field(
        POOR_BELOW,
        ge=0,
        le=1,
        description="Estimated word accuracy below which a segment or call is shown as `dårlig` (heard badly: "
        "listen before trusting the text), in the inbox and in search's poor-quality filter (`lydlogg search "
        "--poor-quality`, Søk). The rubric scorers' own `listen_below` decides abstentions.",
    )
    uncertain_below: float = Field(
        UNCERTAIN_BELOW,
        ge=0,
        le=1,
        description="Estimated word accuracy below which a segment or call is shown as `usikker`; at or above "
        "it, `god`.",
    )


class AdviceSettings(BaseModel):
    """Standard worsening advice per contact reason (``rubrics/advice``)."""

    model_config = ConfigDict(extra="forbid")

    library_dir: Path | None = Field(
        None,
        description="Folder of the standard worsening advice, one YAML file per contact reason; "
        "unset: the example library shipped in rubrics/advice (status eksempel, not approved).",
    )
    service_number: str = Field(
        "116117",
        pattern=r"^[0-9 +]{3,16}$",
        description="The number the SMS draft tells callers to ring for the legevakt.",
    )
    sms_max_chars: int = Field(
        480, ge=160, le=960, description="Longest SMS draft, in characters (signs are left out to fit)."
    )


class DashboardSettings(_Section):
    """The leader's overview (Oversikt) and the monthly report."""

    worsening_concrete_min: int = Field(
        3,
        ge=1,
        le=4,
        description=(
            "A call counts as having concrete worsening advice when `worsening_advice` (0-4) is at "
            "least this: 3 means concrete signs and a concrete action (113, 116117, come in)."
        ),
    )
    safety_netting_min: int = Field(
        3,
        ge=1,
        le=4,
        description="A call counts as safety-netted when `safety_netting` (elements covered, 0-4) is at least this.",
    )
    timezone: str = Field("Europe/Oslo", description="Time zone whose calendar months the figures use.")
    scorer_agreement_min: float = Field(
        0.7,
        ge=0,
        le=1,
        description=(
            "Oversikt warns when a criterion's automatic suggestion agrees exactly with the "
            "reviewers' saved value in less than this share of its last `scorer_agreement_last_n` reviews."
        ),
    )
    scorer_agreement_last_n: int = Field(
        30,
        ge=1,
        description="How many of a criterion's latest reviews the scorer-agreement warning looks at.",
    )


class CaseSettings(_Section):
    """The case library: where anonymised case audio is kept, and the limits of a case package."""

    cases_dir: Path = Field(
        Path("data/cases"),
        description="Folder for the anonymised audio of published cases (never the originals).",
    )
    max_package_mb: float = Field(
        200.0, gt=0, le=2000, description="Largest case package (zip) accepted for import, in MB."
    )
    max_unpacked_mb: float = Field(
        400.0, gt=0, le=4000, description="Largest total size of a package's files once unpacked, in MB."
    )


class Settings(BaseSettings):
    """All settings of one Lydlogg installation."""

    model_config = SettingsConfigDict(
        env_prefix="LYDLOGG_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    db_path: Path = Field(Path("data/lydlogg.duckdb"), description="The DuckDB database file.")
    db_wait_seconds: float = Field(
        30.0,
        ge=0,
        le=3600,
        description=(
            "How long a command or a page waits while another process (a batch run, a backup) holds "
            "the database before it gives up: the command exits with an error naming the file, the "
            "page offers to try again."
        ),
    )
    key_file: Path = Field(
        Path("data/secrets/pseudonym.key"),
        description=(
            "Secret key for pseudonymising caller numbers and patient references (HMAC-SHA256). "
            "Created on first use, readable only by its owner. Losing it breaks repeat-contact "
            "linking between old and new calls."
        ),
    )
    env: Literal["development", "production"] = Field(
        "development",
        description="`production` refuses the demo accounts' passwords at log-in and when creating users.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Level of the log written to standard error."
    )
    asr: AsrSettings = Field(default_factory=AsrSettings, description="Speech recognition.")
    audio: AudioSettings = Field(default_factory=AudioSettings, description="Audio decoding.")
    executor: ExecutorSettings = Field(
        default_factory=ExecutorSettings, description="Where the transcription batch's heavy stage runs."
    )
    diarization: DiarizationSettings = Field(
        default_factory=DiarizationSettings, description="Who spoke when, and in which role."
    )
    pyannote: PyannoteSettings = Field(
        default_factory=PyannoteSettings, description="pyannote.audio diarization for mono calls (optional)."
    )
    metadata: MetadataSettings = Field(
        default_factory=MetadataSettings, description="The call-metadata CSV from the telephony system."
    )
    episodes: EpisodeSettings = Field(default_factory=EpisodeSettings, description="Repeat contacts.")
    server: ServerSettings = Field(default_factory=ServerSettings, description="The review app.")
    sso: SsoSettings = Field(default_factory=SsoSettings, description="Single sign-on (OpenID Connect).")
    login: LoginSettings = Field(default_factory=LoginSettings, description="Log-in lock-out.")
    audit: AuditSettings = Field(default_factory=AuditSettings, description="The audit trail.")
    encryption: EncryptionSettings = Field(
        default_factory=EncryptionSettings, description="Encryption at rest."
    )
    retention: RetentionSettings = Field(default_factory=RetentionSettings, description="Retention rules.")
    backup: BackupSettings = Field(
        default_factory=BackupSettings, description="Backups: encryption of recordings, signed manifest."
    )
    dashboard: DashboardSettings = Field(
        default_factory=DashboardSettings, description="The leader's overview (Oversikt) and monthly report."
    )
    cases: CaseSettings = Field(
        default_factory=CaseSettings, description="The case library (kasusbibliotek)."
    )
    anonymise: AnonymiseSettings = Field(
        default_factory=AnonymiseSettings, description="Anonymisation of audio for the case library."
    )
    advice: AdviceSettings = Field(
        default_factory=AdviceSettings, description="Standard worsening advice per contact reason."
    )
    transcript_quality: TranscriptQualitySettings = Field(
        default_factory=TranscriptQualitySettings, description="Transcript quality marks in the review app."
    )
    display: DisplaySettings = Field(
        default_factory=DisplaySettings, description="How pages and printed documents show times."
    )

    @model_validator(mode="after")
    def _no_unsafe_crypto_in_production(self) -> Settings:
        if self.env == "production" and self.encryption.allow_mbedtls:
            raise ValueError("encryption.allow_mbedtls is refused when env = production")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_file = _config_file.get()
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)


def load_settings(config: Path | None = None, **overrides: object) -> Settings:
    """Read settings from ``config`` (or the default file when it exists) and the environment.

    An explicitly named file that does not exist, a TOML syntax error, or a value of the wrong
    type raises :class:`ConfigError` naming the file and what is accepted.
    """
    explicit = config is not None or "LYDLOGG_CONFIG" in os.environ
    path = Path(config or os.environ.get("LYDLOGG_CONFIG", DEFAULT_CONFIG_FILE))
    if not path.exists():
        if explicit:
            raise ConfigError(f"{path}: configuration file not found")
        path = None
    token = _config_file.set(path)
    try:
        return Settings(**overrides)
    except ValidationError as e:
        where = f"{path} and LYDLOGG_* environment" if path else "LYDLOGG_* environment"
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors())
        raise ConfigError(f"invalid settings in {where}: {problems}") from e
    except ValueError as e:  # TOML syntax errors surface as tomllib.TOMLDecodeError (a ValueError)
        raise ConfigError(f"{path}: not valid TOML ({e})") from e
    finally:
        _config_file.reset(token)


def default_settings(db_path: Path | str | None = None) -> Settings:
    """The documented defaults, reading neither a file nor the environment.

    For a service built without the application's settings (tests, scripts, benchmarks); the app
    and the CLI read the real settings once with :func:`load_settings` and pass them down.
    """
    if db_path is None:
        return Settings.model_construct()
    return Settings.model_construct(db_path=Path(db_path))


def production_problems(settings: Settings) -> list[str]:
    """Why a production installation would write personal data unprotected (empty: none).

    The app, ``lydlogg serve`` and ``lydlogg backup`` refuse to start in production while any is
    left: an unencrypted database (and so unencrypted case audio, which is encrypted with a key
    derived from the database key), or no backup key (recordings in backups would be plain).
    """
    if settings.env != "production":
        return []
    problems = []
    if not settings.encryption.enabled:  # one key encrypts both (lydlogg.crypto.case_audio_key)
        problems.append(
            "the database is not encrypted, and so neither is the case library's audio "
            "(set encryption.enabled and a key from `lydlogg db keygen`)"
        )
    if not os.environ.get(settings.backup.key_env) and not Path(settings.backup.key_file).is_file():
        problems.append(
            f"no backup key ({settings.backup.key_file} or ${settings.backup.key_env}); "
            "backups would hold recordings in plain form (`lydlogg backup-keygen`)"
        )
    return problems


def iter_settings(model: type[BaseModel] = Settings, prefix: str = "") -> Iterator[tuple[str, object, str]]:
    """Yield ``(dotted name, default, description)`` for every leaf setting."""
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from iter_settings(annotation, f"{prefix}{name}.")
            continue
        default = field.default_factory() if field.default_factory is not None else field.default
        yield f"{prefix}{name}", default, field.description or ""


def env_name(dotted: str) -> str:
    """The environment variable that sets a dotted setting name."""
    return "LYDLOGG_" + dotted.replace(".", "__").upper()


def settings_markdown() -> str:
    """The reference table of every setting, as kept in ``docs/configuration.md``."""
    lines = [
        "# Configuration reference",
        "",
        "<!-- Generated by `lydlogg settings --markdown`; a test fails when this file is out of date. -->",
        "",
        "Settings come from `lydlogg.toml` (or the file given with `--config`, or named by",
        "`LYDLOGG_CONFIG`) and from `LYDLOGG_*` environment variables, which win. In TOML a",
        "dotted name is a key in a section: `asr.model` is `model = ...` under `[asr]`.",
        "",
        "| setting | environment variable | default | what it does |",
        "|---|---|---|---|",
    ]
    for name, default, help_text in iter_settings():
        shown = default.as_posix() if isinstance(default, Path) else default
        lines.append(f"| `{name}` | `{env_name(name)}` | `{shown}` | {help_text} |")
    return "\n".join(lines) + "\n"
