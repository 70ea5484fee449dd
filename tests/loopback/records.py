"""What the loopback server records, and the per-interaction handle tests wait on."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import LoopbackDiscord

USER_MENTION_RE = re.compile(r"<@!?(\d+)>")
ROLE_MENTION_RE = re.compile(r"<@&(\d+)>")
EVERYONE_RE = re.compile(r"@(everyone|here)\b")


class CommandNotSynced(AssertionError):
    """A test tried to invoke an application command the bot never synced (Discord's client would not show it)."""


class CommandNotPermitted(AssertionError):
    """The member lacks the command's ``default_member_permissions`` (Discord's client hides the command)."""


class InteractionFailed(AssertionError):
    """The bot's answer to an interaction was refused by the loopback (see ``.errors``)."""


class ApiError(Exception):
    """Raised inside a route handler to answer with an error body."""

    def __init__(self, status: int, body: dict[str, Any]):
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body

    @classmethod
    def of(cls, status: int, code: int, message: str) -> ApiError:
        return cls(status, {"code": code, "message": message})


@dataclass
class RecordedRequest:
    """One REST call as received. ``path`` has the ``/api/v10`` prefix stripped."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    time: float
    files: list[tuple[str, str, bytes]] = field(default_factory=list)
    authorized: bool = False
    status: int | None = None
    response: Any = None


@dataclass
class RequestError:
    """A REST call the loopback answered with a 4xx/5xx."""

    request: RecordedRequest
    status: int
    body: dict[str, Any]

    @property
    def code(self) -> int:
        return int(self.body.get("code", 0))


@dataclass
class Send:
    """A message the bot posted or whose text it set.

    kind: "channel" (POST /channels/{id}/messages), "response" (callback type 4 or 7), "followup",
    "deferred_edit" (first edit of a deferred "thinking" message, which Discord treats like a send),
    "edit" (any other edit).
    """

    kind: str
    channel_id: int
    payload: dict[str, Any]
    message: dict[str, Any]
    time: float
    interaction: InteractionHandle | None = None

    @property
    def content(self) -> str:
        return self.payload.get("content") or ""

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        """The ``allowed_mentions`` the bot sent, or None when it sent none (Discord then parses everything)."""
        return self.payload.get("allowed_mentions")

    @property
    def is_reply(self) -> bool:
        return bool(self.payload.get("message_reference"))

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.message.get("flags") or 0) & 64)


@dataclass
class Ack:
    """The first successful callback of an interaction."""

    type: int
    flags: int
    data: dict[str, Any] | None
    elapsed: float  # seconds between the INTERACTION_CREATE dispatch and the callback


@dataclass
class InteractionHandle:
    """One dispatched interaction and everything the bot did with it.

    ``original`` is the current state of the original response message (None until there is one);
    ``followups`` the followup messages (current state); ``errors`` every refused call for this token.
    """

    server: LoopbackDiscord
    id: int
    token: str
    type: int  # 2 command, 3 component, 4 autocomplete
    name: str  # command name, or custom_id for components
    user_id: int
    channel_id: int
    payload: dict[str, Any]
    dispatched_at: float
    ack: Ack | None = None
    original: dict[str, Any] | None = None
    followups: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RequestError] = field(default_factory=list)
    choices: list[dict[str, Any]] | None = None
    modal: dict[str, Any] | None = None
    component_message_id: int | None = None
    deleted: set[int] = field(default_factory=set)

    # ------------------------------------------------------------------ state
    @property
    def acked(self) -> bool:
        return self.ack is not None

    @property
    def deferred(self) -> bool:
        return self.ack is not None and self.ack.type in (5, 6)

    @property
    def ephemeral(self) -> bool:
        """True if the response (the original, or the defer) is ephemeral."""
        if self.original is not None:
            return bool(int(self.original.get("flags") or 0) & 64)
        return bool(self.ack and self.ack.flags & 64)

    @property
    def loading(self) -> bool:
        """True while the original is still the deferred "thinking..." message."""
        return self.original is not None and bool(int(self.original.get("flags") or 0) & 128)

    @property
    def response(self) -> dict[str, Any] | None:
        """The original response's final state, unless it is still "thinking" or was deleted."""
        if self.original is None or self.loading or int(self.original["id"]) in self.deleted:
            return None
        return self.original

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The visible messages of this interaction: the original (if answered) then the followups."""
        out = [self.response] if self.response is not None else []
        return out + list(self.followups)

    @property
    def text(self) -> str:
        """Content and embed text of all visible messages, joined (handy for ``in`` assertions)."""
        parts: list[str] = []
        for msg in self.messages:
            parts.append(msg.get("content") or "")
            for embed in msg.get("embeds") or []:
                parts.extend([embed.get("title") or "", embed.get("description") or ""])
                for f in embed.get("fields") or []:
                    parts.extend([f.get("name") or "", f.get("value") or ""])
                parts.append((embed.get("footer") or {}).get("text") or "")
        return "\n".join(p for p in parts if p)

    @property
    def done(self) -> bool:
        """Answered: a real (non-loading) original, a followup, an update (7, or 6 then an edit), choices (8)
        or a modal (9)."""
        if self.followups or self.response is not None:
            return True
        if self.ack is not None and self.ack.type == 6 and self.edits:
            return True
        return self.ack is not None and self.ack.type in (7, 8, 9)

    # ---------------------------------------------------------------- waiting
    async def wait_acked(self, timeout: float = 5.0) -> InteractionHandle:
        await self.server.wait_for(
            lambda: self.ack is not None, timeout, what=f"an ack of interaction {self.name!r}"
        )
        return self

    async def wait_done(self, timeout: float = 5.0) -> InteractionHandle:
        """Waits until the bot answered (see ``done``). On timeout the error names what was recorded."""
        await self.server.wait_for(
            lambda: self.done, timeout, what=f"an answer to interaction {self.name!r}", about=self
        )
        return self

    async def wait_error(self, timeout: float = 5.0) -> RequestError:
        await self.server.wait_for(
            lambda: bool(self.errors), timeout, what=f"an error on interaction {self.name!r}"
        )
        return self.errors[0]

    def summary(self) -> str:
        ack = (
            f"ack type {self.ack.type} flags {self.ack.flags} after {self.ack.elapsed:.3f}s"
            if self.ack
            else "no ack"
        )
        errs = (
            "; ".join(f"{e.status}/{e.code} {e.request.method} {e.request.path}" for e in self.errors)
            or "none"
        )
        return (
            f"interaction {self.name!r}: {ack}; original={'loading' if self.loading else bool(self.original)}; "
            f"followups={len(self.followups)}; errors: {errs}"
        )
