"""Settings: the one place configuration is read (environment variables, prefix RINGFENCE_)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from limits import parse_many
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./ringfence.db"

# The speech engines of live calls, by capability: the names `adapters/speech/registry.py`
# builds (a test keeps both lists equal). Adding an engine adds its name here.
SpeechPreset = Literal["local", "fake"]
SttEngineName = Literal["whisper", "scripted"]
TtsEngineName = Literal["piper", "espeak", "tone"]
VadEngineName = Literal["webrtc", "energy"]


@dataclass(frozen=True, slots=True)
class SpeechChoice:
    """Which engine each speech capability of live calls runs on."""

    stt: SttEngineName
    tts: TtsEngineName
    vad: VadEngineName

    @staticmethod
    def preset(name: SpeechPreset) -> SpeechChoice:
        return SPEECH_PRESETS[name]

    def __str__(self) -> str:
        return f"stt={self.stt}, tts={self.tts}, vad={self.vad}"


SPEECH_PRESETS: Final[Mapping[SpeechPreset, SpeechChoice]] = {
    "local": SpeechChoice(stt="whisper", tts="piper", vad="webrtc"),
    "fake": SpeechChoice(stt="scripted", tts="tone", vad="energy"),
}


class Settings(BaseSettings):
    """Every knob Ringfence has. Documented in the README's Configuration table.

    The platform's compliance rule values are deliberately *not* here: the product description
    says they "are not configurable" and "apply to every account".
    """

    model_config = SettingsConfigDict(env_prefix="RINGFENCE_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        # The plain DATABASE_URL is honoured too, as most hosting platforms set that name.
        validation_alias=AliasChoices("RINGFENCE_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL: sqlite:///path.db or postgresql+psycopg://user@host/db",
    )
    host: str = Field(default="127.0.0.1", description="Address `serve`/`demo` bind to")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `serve`/`demo` bind to")
    max_request_bytes: int = Field(
        default=1_048_576, ge=1024, description="Request bodies above this size get 413"
    )
    page_size_max: int = Field(default=200, ge=1, le=1000, description="Largest list page")
    sql_echo: bool = Field(default=False, description="Log every SQL statement (debugging)")
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Log lines as text, or as one JSON object a line (with request_id and "
        "call_id) for a log collector; both pass the PHI scrubbing filters",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="Bearer token /metrics asks for; unset: /metrics is open (keep it off the "
        "public internet either way)",
    )
    worker_metrics_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Port a separate `ringfence worker` serves its /metrics on, at host "
        "(0: off; `serve` answers /metrics on its own port)",
    )
    operator_token: SecretStr | None = Field(
        default=None,
        min_length=32,
        description="Bearer token of the platform operator's API (KYC review); unset: disabled",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        min_length=32,  # a short key could be guessed offline from one signed cookie
        description="Signs staff session cookies and CSRF tokens; unset: kept in secret_key_file",
    )
    secret_key_file: Path = Field(
        default=Path("var/secret.key"),
        description="Where a generated secret key is kept (mode 0600) when secret_key is unset",
    )
    phi_keys: SecretStr | None = Field(
        default=None,
        description="Fernet keys encrypting transcripts and recordings, comma-separated, "
        "newest first (it encrypts; all decrypt); unset: kept in phi_key_file",
    )
    phi_key_file: Path | None = Field(
        default=None,
        description="Where generated PHI keys are kept (mode 0600, one a line, newest first) "
        "when phi_keys is unset; default: phi.keys next to secret_key_file",
    )

    # Dispatcher (operational limits of the carrier account; the compliance rules are fixed).
    carrier: str = Field(
        default="sandbox",
        description="Default carrier: sandbox (embedded); each phone number may name its own",
    )
    sandbox_seed: int = Field(default=0, description="Seed of the sandbox carrier's outcomes")
    carrier_cps: float = Field(default=1.0, gt=0, description="Carrier calls per second")
    carrier_burst: float = Field(default=1.0, ge=1, description="Calls the rate may burst to")
    max_concurrent_calls: int = Field(default=20, ge=1, description="Calls in flight at once")
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint for agents whose policy is llm"
    )
    llm_api_key: str | None = Field(default=None, description="API key for llm_base_url")
    llm_model: str = Field(default="gpt-4o-mini", description="Model name for the llm policy")
    recordings_dir: Path = Field(
        default=Path("var/recordings"), description="Where call recordings (WAV) are stored"
    )
    render_recordings: bool = Field(
        default=True, description="Synthesize recordings of finished calls (needs [speech])"
    )
    dispatch_interval: float = Field(
        default=1.0, gt=0, le=60, description="Seconds between dispatcher ticks"
    )
    rate_limit_storage: str = Field(
        default="memory://",
        max_length=500,
        description="Where rate-limit counts live (limits' storage URI): memory:// per "
        "process; redis://host:6379 to share them between web processes",
    )
    api_key_rate_limit: str = Field(
        # 600 a second on average: above the event ingestion target (500/s for a minute on one
        # key, docs/operations.md), far below what a leaked key run in a loop sends.
        default="36000/minute",
        min_length=1,
        max_length=200,
        description="Requests one API key may make, whichever address sends them (limits' "
        "notation: 36000/minute, or 100/second;36000/minute); over it the API answers 429 "
        "with Retry-After",
    )
    public_form_min_fill_seconds: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description="A public form submitted sooner than this after it was shown is refused "
        "(automation); 0 turns the check off",
    )
    captcha_provider: Literal["none", "turnstile", "hcaptcha"] = Field(
        default="none",
        description="Captcha on public forms: none, turnstile (Cloudflare) or hcaptcha; "
        "either needs captcha_site_key and captcha_secret_key",
    )
    captcha_site_key: str | None = Field(
        default=None, max_length=200, description="The captcha vendor's site key (public)"
    )
    captcha_secret_key: SecretStr | None = Field(
        default=None,
        max_length=200,
        description="The captcha vendor's secret key: verifies each form's token server-side",
    )
    webhook_allowed_hosts: str = Field(
        default="",
        max_length=4000,
        description="Comma-separated host names workflow webhooks may be sent to (empty: any "
        "public host). Private, local and metadata addresses are refused either way",
    )

    # Twilio (the [twilio] extra; used by phone numbers whose carrier is twilio).
    twilio_account_sid: str | None = Field(
        default=None, description="Twilio Account SID (AC...) placing calls for twilio numbers"
    )
    twilio_auth_token: SecretStr | None = Field(
        default=None,
        description="Twilio Auth Token: authenticates REST requests and verifies the "
        "X-Twilio-Signature of callbacks and media streams (unset: every callback is refused)",
    )
    public_base_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^/?#]+(/[^?#]*)?$",
        description="Public https:// origin Twilio reaches this server at (callbacks; its wss:// "
        "form carries media streams); also the URL signatures are checked against",
    )
    amd_single_frequency_ringback: bool = Field(
        default=False,
        description="Answering-machine detection: the lines called ring back at one frequency "
        "(425 Hz: most of Europe), so a long low tone before any greeting may be the ringback, "
        "not a beep-only voicemail (off: US lines ring with 440 + 480 Hz, which is always known)",
    )
    speech_engines: SpeechPreset = Field(
        default="local",
        description="Speech engines of live (Twilio, SIP) calls: local (whisper, piper, webrtc: "
        "the [speech] extra) or fake (scripted, tone, energy: tests, line checks); stt, tts and "
        "vad each override one capability",
    )
    # Unset, each follows speech_engines; read them through `speech_choice()`, not directly.
    stt: SttEngineName | None = Field(
        default=None,
        description="Speech-to-text of live calls: whisper (faster-whisper tiny.en, [speech]) or "
        "scripted (fake); unset: from speech_engines",
    )
    tts: TtsEngineName | None = Field(
        default=None,
        description="Text-to-speech of live calls: piper ([speech]), espeak (the espeak-ng "
        "program) or tone (fake); unset: from speech_engines",
    )
    vad: VadEngineName | None = Field(
        default=None,
        description="Voice activity detection of live calls: webrtc (behind a noise gate; energy "
        "where webrtcvad is not installed) or energy; unset: from speech_engines",
    )
    twilio_machine_detection: bool = Field(
        default=True,
        description="Ask Twilio for answering-machine detection (async, DetectMessageEnd) so a "
        "voicemail box is reported as voicemail",
    )

    # SIP trunk or PBX (used by phone numbers whose carrier is sip).
    sip_trunk_host: str | None = Field(
        default=None, description="Host (name or IPv4) of the SIP trunk or PBX every INVITE goes to"
    )
    sip_trunk_port: int = Field(default=5060, ge=1, le=65535, description="Its UDP port")
    sip_domain: str | None = Field(
        default=None,
        description="Domain of our From URI and of dialed numbers (sip:+1...@domain); "
        "default: sip_trunk_host",
    )
    sip_username: str | None = Field(
        default=None, description="Digest user name, when the trunk challenges (401/407)"
    )
    sip_password: SecretStr | None = Field(default=None, description="Digest password")
    sip_register: bool = Field(
        default=False,
        description="REGISTER with the trunk (refreshed at half its expiry); off for trunks "
        "that authenticate each INVITE, and for PBXs that refuse registrations",
    )
    sip_bind_host: str = Field(
        default="0.0.0.0", description="Local address of the SIP and RTP sockets"
    )
    sip_bind_port: int = Field(
        default=0, ge=0, le=65535, description="Local SIP port (0: any free port)"
    )
    sip_codecs: tuple[Literal["PCMU", "PCMA"], ...] = Field(
        default=("PCMU", "PCMA"), min_length=1, description="G.711 laws offered, preferred first"
    )
    sip_ring_timeout: float = Field(
        default=30.0,
        ge=15,
        le=120,
        description="Seconds a call rings before it is canceled as no answer (at least 15)",
    )
    sip_max_call_seconds: float = Field(
        default=600.0, gt=0, le=7200, description="Longest SIP call; then Ringfence hangs up"
    )

    def speech_choice(self) -> SpeechChoice:
        """The live calls' engine for each capability: stt/tts/vad where set, else the
        speech_engines preset's (resolved on each call, so a changed preset is seen)."""
        preset = SPEECH_PRESETS[self.speech_engines]
        return SpeechChoice(
            stt=self.stt or preset.stt, tts=self.tts or preset.tts, vad=self.vad or preset.vad
        )

    @field_validator("api_key_rate_limit")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"not a rate limit (e.g. 600/minute): {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _captcha_keys(self) -> Settings:
        # A provider without its keys would show no widget, or refuse every form: say so at
        # start-up instead.
        if self.captcha_provider == "none":
            return self
        secret = self.captcha_secret_key.get_secret_value() if self.captcha_secret_key else ""
        keys = (("captcha_site_key", self.captcha_site_key or ""), ("captcha_secret_key", secret))
        missing = [name for name, value in keys if not value.strip()]
        if missing:
            named = ", ".join(f"{name} (RINGFENCE_{name.upper()})" for name in missing)
            raise ValueError(f"captcha_provider {self.captcha_provider!r} needs {named}")
        return self
