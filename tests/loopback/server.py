"""The loopback Discord server: REST API v10 + gateway on 127.0.0.1, plus the test-side controls.

See the package docstring (``tests/loopback/__init__.py``) for how a test starts a bot against it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .gateway import (
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MEMBERS,
    INTENT_GUILD_MESSAGES,
    INTENT_GUILDS,
    INTENT_MESSAGE_CONTENT,
    PRIVILEGED_INTENTS,
    GatewayConnection,
    GatewayMixin,
    GatewaySession,
)
from .ids import iso_now, snowflake
from .interactions import InteractionsMixin
from .records import (
    EVERYONE_RE,
    ROLE_MENTION_RE,
    USER_MENTION_RE,
    ApiError,
    InteractionHandle,
    RecordedRequest,
    RequestError,
    Send,
)
from .validation import (
    FLAG_COMPONENTS_V2,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    FLAG_SUPPRESS_EMBEDS,
    FLAG_SUPPRESS_NOTIFICATIONS,
    form_error,
    validate_message,
)
from .world import (
    ADMINISTRATOR,
    ARCHIVE_MINUTES,
    CREATE_PUBLIC_THREADS,
    MENTION_EVERYONE,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
    FakeChannel,
    FakeGuild,
    FakeUser,
)

API_PREFIX = "/api/v10"
_SEND_KINDS_THAT_PING = ("channel", "response", "followup", "deferred_edit")


def json_response(status: int, body: Any) -> web.Response:
    # Exactly "application/json": discord.py's json_or_text() compares the header verbatim, and aiohttp's
    # web.json_response() would append "; charset=utf-8".
    return web.Response(
        status=status, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )


Handler = Callable[..., Awaitable[tuple[int, Any]]]


class LoopbackDiscord(InteractionsMixin, GatewayMixin):
    """A fake Discord for one bot and one guild. Use ``async with LoopbackDiscord() as server``.

    Parameters:
        token: the bot token the server accepts (REST ``Authorization: Bot <token>`` and IDENTIFY).
        heartbeat_interval_ms: sent in HELLO.
        privileged_intents: privileged intents "enabled in the developer portal"
            (subset of "members", "presences", "message_content"); asking for another one closes with 4014.
        ack_timeout: seconds after dispatch within which an interaction must be acknowledged (Discord: 3).
        followup_window: seconds an interaction token stays usable (Discord: 15 minutes).
        permissions_override: simulates a server admin who overrode the commands' default_member_permissions
            in Server Settings > Integrations, so any member can invoke any synced command.
    """

    def __init__(
        self,
        *,
        token: str = "loopback.bot.token",
        bot_name: str = "QABot",
        heartbeat_interval_ms: int = 1000,
        privileged_intents: tuple[str, ...] | frozenset[str] | set[str] = (
            "members",
            "presences",
            "message_content",
        ),
        ack_timeout: float = 3.0,
        followup_window: float = 15 * 60.0,
        permissions_override: bool = False,
        channels: tuple[str, ...] = ("general", "ask"),
    ) -> None:
        unknown = set(privileged_intents) - set(PRIVILEGED_INTENTS)
        if unknown:
            raise ValueError(f"unknown privileged intents {unknown}; use {sorted(PRIVILEGED_INTENTS)}")
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.privileged_intents = frozenset(privileged_intents)
        self.ack_timeout = ack_timeout
        self.followup_window = followup_window
        self.permissions_override = permissions_override
        self.ack_heartbeats = True
        self.dm_blocked: set[int] = set()  # members whose privacy settings refuse DMs from server members

        self.bot = FakeUser(id=snowflake(), name=bot_name, bot=True)
        self.application_id = self.bot.id  # as for every bot created since 2020
        self.owner = FakeUser(id=snowflake(), name="appowner")
        self.guild = FakeGuild(bot=self.bot, channels=channels)

        # --- records ---------------------------------------------------------------------------------------
        self.requests: list[RecordedRequest] = []
        self.errors: list[RequestError] = []  # every 4xx/5xx answer
        self.validation_failures: list[RequestError] = []  # the 50035 / 50006 subset
        self.unimplemented: list[RecordedRequest] = []  # routes answered 501
        self.sends: list[Send] = []
        self.messages: dict[int, dict[str, Any]] = {}  # current state of every live message, by id
        self.deleted_messages: dict[int, dict[str, Any]] = {}
        self.channel_log: dict[int, list[int]] = {c.id: [] for c in self.guild.channels.values()}
        self.attachments: dict[int, bytes] = {}
        self.typing: list[tuple[int, float]] = []
        self.reactions: list[tuple[int, int, str]] = []
        self.interactions: dict[int, InteractionHandle] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}  # scope (None = global, or guild id)
        self.command_syncs: list[tuple[int | None, Any, float]] = []  # (scope, payload, time) of every PUT
        self.command_creates = 0  # commands created (new names), Discord limits these to 200/day/guild
        # gateway
        self.heartbeats: list[float] = []
        self.heartbeat_acks: list[float] = []
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.refused_intents: list[list[str]] = []
        self.member_requests: list[dict[str, Any]] = []
        self.presence_updates: list[Any] = []
        self.gateway_connects: list[dict[str, Any]] = []
        self.gateway_closes: list[tuple[int, str]] = []  # closes initiated by the server (code, reason)
        self.gateway_disconnects: list[int | None] = []
        self.gateway_unknown_ops: list[Any] = []
        self.dispatched: list[tuple[str, Any]] = []

        self._sessions: dict[str, GatewaySession] = {}
        self._connections: set[GatewayConnection] = set()
        self._by_token: dict[str, InteractionHandle] = {}
        self._nonces: dict[str, int] = {}
        self._channel_sends: dict[int, list[dict[str, Any]]] = {}
        self._read_cursor: dict[int, int] = {}
        self.internal_errors: list[tuple[RecordedRequest, str]] = []
        self.last_autocomplete: InteractionHandle | None = None
        self._cond: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._routes: list[tuple[str, re.Pattern[str], Handler, bool]] = self._route_table()

    # ============================================================================ lifecycle
    async def start(self) -> LoopbackDiscord:
        self._cond = asyncio.Condition()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("GET", "/", self._gateway_handler)
        app.router.add_route("*", "/{tail:.*}", self._rest_handler)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets, "loopback server did not bind"
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        for conn in list(self._connections):
            await conn.close(1001, "Loopback server shutting down.")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LoopbackDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """The value for ``discord.http.Route.BASE``."""
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """The value (as ``yarl.URL``) for ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``."""
        return f"ws://127.0.0.1:{self.port}/"

    # ============================================================================ waiting
    async def _notify(self) -> None:
        if self._cond is None:
            return
        async with self._cond:
            self._cond.notify_all()

    async def wait_for(
        self,
        predicate: Callable[[], Any],
        timeout: float = 5.0,
        *,
        what: str = "a condition",
        about: Any = None,
    ) -> Any:
        """Waits until ``predicate()`` is truthy and returns its value; raises TimeoutError otherwise.

        Event-driven: the predicate is re-checked whenever the server records anything (request, gateway
        frame, dispatch). It is also re-checked every 20 ms, so predicates over the bot's own state
        (``lambda: bot.errors``) work too."""
        assert self._cond is not None, "server not started"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._cond.wait(), min(remaining, 0.02))
        detail = f" ({about.summary()})" if about is not None and hasattr(about, "summary") else ""
        recent = "; ".join(
            f"{e.status}/{e.code} {e.request.method} {e.request.path}" for e in self.errors[-5:]
        )
        raise TimeoutError(
            f"loopback: timed out after {timeout}s waiting for {what}{detail}"
            + (f"; recent errors: {recent}" if recent else "")
        )

    async def wait_for_message(
        self,
        channel: str | int = "general",
        timeout: float = 5.0,
        *,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """Returns the next message the bot posted with ``POST /channels/{id}/messages`` in ``channel`` that this
        method has not returned before (a per-channel cursor), waiting for it if needed. Messages skipped by
        ``predicate`` are consumed too. Returns the message's current state."""
        ch = self.guild.channel(channel)

        def next_message() -> dict[str, Any] | None:
            sent = self._channel_sends.get(ch.id, [])
            while self._read_cursor.get(ch.id, 0) < len(sent):
                msg = sent[self._read_cursor.get(ch.id, 0)]
                self._read_cursor[ch.id] = self._read_cursor.get(ch.id, 0) + 1
                current = self.messages.get(int(msg["id"]), msg)
                if predicate is None or predicate(current):
                    return current
            return None

        return await self.wait_for(next_message, timeout, what=f"a bot message in #{ch.name}")

    async def wait_until_identified(self, timeout: float = 5.0) -> GatewaySession:
        return await self.wait_for(
            lambda: next((s for s in self._sessions.values() if s.conn is not None), None),
            timeout,
            what="an IDENTIFY",
        )

    async def wait_for_heartbeats(self, count: int, timeout: float = 10.0) -> None:
        await self.wait_for(
            lambda: len(self.heartbeat_acks) >= count, timeout, what=f"{count} heartbeat ACKs"
        )

    # ============================================================================ queries
    @property
    def intents(self) -> int | None:
        """The intents of the most recent IDENTIFY."""
        return self.identifies[-1].get("intents") if self.identifies else None

    def channel_messages(self, channel: str | int = "general") -> list[dict[str, Any]]:
        """Current state of the messages in ``channel`` (users' and the bot's), oldest first."""
        ch = self.guild.channel(channel)
        return [self.messages[mid] for mid in self.channel_log.get(ch.id, []) if mid in self.messages]

    def bot_messages(self, channel: str | int | None = None) -> list[dict[str, Any]]:
        """Current state of the visible messages authored by the bot (channel sends and interaction messages)."""
        channels = (
            [self.guild.channel(channel)]
            if channel is not None
            else [*self.guild.channels.values(), *self.guild.threads.values()]
        )
        return [
            m
            for ch in channels
            for m in self.channel_messages(ch.id)
            if m["author"]["id"] == str(self.bot.id)
        ]

    def requests_to(self, method: str, path_pattern: str) -> list[RecordedRequest]:
        """Recorded requests whose method matches and whose path (without /api/v10) matches the regex."""
        rx = re.compile(path_pattern)
        return [r for r in self.requests if r.method == method.upper() and rx.fullmatch(r.path)]

    def synced_commands(self, guild: bool | int | None = True) -> list[dict[str, Any]]:
        """The command objects currently registered: guild commands (default) or global ones (guild=None/False)."""
        scope = self.guild.id if guild is True else (None if guild in (None, False) else int(guild))
        return list(self.commands.get(scope, []))

    def pings(self, send: Send) -> dict[str, Any]:
        """Who this send actually notified, as Discord computes it from content + allowed_mentions
        (missing allowed_mentions = parse everything, replied_user defaults to true for replies)."""
        if send.kind not in _SEND_KINDS_THAT_PING:
            return {"users": [], "roles": [], "everyone": False, "replied_user": False}
        am = send.allowed_mentions
        parse = {"users", "roles", "everyone"} if am is None else set(am.get("parse") or [])
        users = {int(u) for u in USER_MENTION_RE.findall(send.content)}
        roles = {int(r) for r in ROLE_MENTION_RE.findall(send.content)}
        allowed_users = {int(u) for u in (am or {}).get("users") or []}
        allowed_roles = {int(r) for r in (am or {}).get("roles") or []}
        replied = False
        if send.is_reply:
            replied = True if am is None else bool(am.get("replied_user", False))
        return {
            "users": sorted(u for u in users if "users" in parse or u in allowed_users),
            "roles": sorted(r for r in roles if "roles" in parse or r in allowed_roles),
            "everyone": "everyone" in parse and bool(EVERYONE_RE.search(send.content)),
            "replied_user": replied,
        }

    def would_ping(self, send: Send) -> bool:
        """True if the send could notify anyone: allowed_mentions missing altogether (Discord then parses
        every mention), or the mentions it allows match @everyone/@here, <@id> or <@&id> in the content,
        or it is a reply with replied_user true. Plain edits never ping."""
        if send.kind not in _SEND_KINDS_THAT_PING:
            return False
        if send.allowed_mentions is None:
            return True
        p = self.pings(send)
        return bool(p["users"] or p["roles"] or p["everyone"] or p["replied_user"])

    def pinging_sends(self) -> list[Send]:
        return [s for s in self.sends if self.would_ping(s)]

    def assert_clean(self) -> None:
        """Fails if any request was refused (validation, late ack, ...) or hit an unimplemented route."""
        problems = [f"{e.status}/{e.code} {e.request.method} {e.request.path}: {e.body}" for e in self.errors]
        problems += [
            f"501 {r.method} {r.path}"
            for r in self.unimplemented
            if all(e.request is not r for e in self.errors)
        ]
        assert not problems, "loopback recorded problems:\n" + "\n".join(problems)

    # ============================================================================ REST plumbing
    def _route_table(self) -> list[tuple[str, re.Pattern[str], Handler, bool]]:
        d, w = r"(?P<cid>\d+)", r"(?P<app>\d+)/(?P<token>[^/]+)"
        table: list[tuple[str, str, Handler, bool]] = [
            ("GET", r"/users/@me", self._get_me, True),
            ("GET", r"/oauth2/applications/@me", self._get_application, True),
            ("GET", r"/applications/@me", self._get_application, True),
            ("GET", r"/gateway", self._get_gateway, False),
            ("GET", r"/gateway/bot", self._get_gateway_bot, True),
            ("POST", rf"/channels/{d}/messages", self._create_message, True),
            ("GET", rf"/channels/{d}/messages/(?P<mid>\d+)", self._get_message, True),
            ("PATCH", rf"/channels/{d}/messages/(?P<mid>\d+)", self._edit_channel_message, True),
            ("DELETE", rf"/channels/{d}/messages/(?P<mid>\d+)", self._delete_channel_message, True),
            ("POST", rf"/channels/{d}/typing", self._typing, True),
            ("POST", rf"/channels/{d}/messages/(?P<mid>\d+)/threads", self._create_thread, True),
            ("POST", r"/users/@me/channels", self._create_dm, True),
            (
                "PUT",
                rf"/channels/{d}/messages/(?P<mid>\d+)/reactions/(?P<emoji>[^/]+)/@me",
                self._add_reaction,
                True,
            ),
            ("POST", r"/interactions/(?P<iid>\d+)/(?P<token>[^/]+)/callback", self._callback, False),
            ("POST", rf"/webhooks/{w}", self._followup, False),
            ("GET", rf"/webhooks/{w}/messages/(?P<mid>@original|\d+)", self._webhook_message, False),
            ("PATCH", rf"/webhooks/{w}/messages/(?P<mid>@original|\d+)", self._webhook_message, False),
            ("DELETE", rf"/webhooks/{w}/messages/(?P<mid>@original|\d+)", self._webhook_message, False),
            ("PUT", r"/applications/(?P<app>\d+)/commands", self._put_commands, True),
            ("GET", r"/applications/(?P<app>\d+)/commands", self._get_commands, True),
            ("PUT", r"/applications/(?P<app>\d+)/guilds/(?P<gid>\d+)/commands", self._put_commands, True),
            ("GET", r"/applications/(?P<app>\d+)/guilds/(?P<gid>\d+)/commands", self._get_commands, True),
        ]
        return [(m, re.compile(p), h, auth) for m, p, h, auth in table]

    async def _read_body(self, request: web.Request) -> tuple[Any, list[tuple[str, str, bytes]]]:
        files: list[tuple[str, str, bytes]] = []
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/form-data"):
            payload: Any = None
            reader = await request.multipart()
            async for part in reader:
                if part is None:
                    break
                data = await part.read()  # type: ignore[union-attr]
                name = getattr(part, "name", None) or ""
                if name == "payload_json":
                    payload = json.loads(data.decode())
                else:
                    files.append((name, getattr(part, "filename", None) or name, bytes(data)))
            return payload, files
        raw = await request.read()
        if not raw:
            return None, files
        try:
            return json.loads(raw), files
        except ValueError:
            raise ApiError.of(400, 50109, "The request body contains invalid JSON.") from None

    async def _rest_handler(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        rec = RecordedRequest(
            method=request.method,
            path=path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else path,
            query=dict(request.query),
            json=None,
            time=time.monotonic(),
        )
        rec.authorized = request.headers.get("Authorization") == f"Bot {self.token}"
        self.requests.append(rec)
        status, body = await self._route(request, rec)
        rec.status, rec.response = status, body
        if status >= 400:
            err = RequestError(rec, status, body if isinstance(body, dict) else {"message": str(body)})
            self.errors.append(err)
            if err.code in (50035, 50006):
                self.validation_failures.append(err)
            handle = self._handle_for_request(rec)
            if handle is not None:
                handle.errors.append(err)
        await self._notify()
        if body is None:
            return web.Response(status=status)
        return json_response(status, body)

    async def _route(self, request: web.Request, rec: RecordedRequest) -> tuple[int, Any]:
        if not request.path.startswith(API_PREFIX):
            self.unimplemented.append(rec)
            return 501, {"code": 0, "message": f"loopback: only {API_PREFIX} is served, got {request.path}"}
        for method, rx, handler, needs_auth in self._routes:
            m = rx.fullmatch(rec.path)
            if m is None or method != request.method:
                continue
            if needs_auth and not rec.authorized:
                return 401, {"code": 0, "message": "401: Unauthorized"}
            try:
                rec.json, rec.files = await self._read_body(request)
                return await handler(rec, **m.groupdict())
            except ApiError as exc:
                return exc.status, exc.body
            except (
                Exception
            ) as exc:  # a loopback bug: answer 400 (a 5xx would make discord.py retry for ~16 s)
                self.internal_errors.append((rec, repr(exc)))
                return 400, {"code": 0, "message": f"loopback internal error: {exc!r}"}
        self.unimplemented.append(rec)
        message = f"loopback: {request.method} {rec.path} is not implemented"
        if rec.path.startswith(("/webhooks/", "/interactions/")):
            # discord.py's webhook adapter retries every 5xx five times (about 25 s of sleeps): fail fast.
            return 400, {"code": 0, "message": message}
        return 501, {"code": 0, "message": message}

    def _handle_for_request(self, rec: RecordedRequest) -> InteractionHandle | None:
        m = re.match(r"/(?:interactions/\d+|webhooks/\d+)/([^/]+)", rec.path)
        return self._by_token.get(m.group(1)) if m else None

    # ============================================================================ message building
    def _author_can_mention_everyone(self, author: FakeUser) -> bool:
        return bool(self.guild.permissions_for(author) & (MENTION_EVERYONE | ADMINISTRATOR))

    def _resolve_mentions(
        self, content: str, allowed: dict[str, Any] | None, author: FakeUser, replied_to: FakeUser | None
    ) -> tuple[list[dict[str, Any]], list[str], bool]:
        """Discord fills ``mentions`` with the users whose mention was parsed (allowed_mentions permitting)."""
        parse = {"users", "roles", "everyone"} if allowed is None else set(allowed.get("parse") or [])
        allowed_users = {str(u) for u in (allowed or {}).get("users") or []}
        allowed_roles = {str(r) for r in (allowed or {}).get("roles") or []}
        users: list[FakeUser] = []
        for uid in USER_MENTION_RE.findall(content):
            user = self.guild.find_member(uid)
            if user is not None and user not in users and ("users" in parse or uid in allowed_users):
                users.append(user)
        replied_user_allowed = allowed is None or allowed.get("replied_user", False)
        if replied_to is not None and replied_to not in users and replied_user_allowed:
            users.append(replied_to)
        can_everyone = self._author_can_mention_everyone(author)
        roles: list[str] = []
        for rid in ROLE_MENTION_RE.findall(content):
            role = self.guild.find_role(rid)
            if role is None or rid in roles or not ("roles" in parse or rid in allowed_roles):
                continue
            if role.mentionable or can_everyone:
                roles.append(rid)
        everyone = "everyone" in parse and bool(EVERYONE_RE.search(content)) and can_everyone
        mentions = [{**u.user_payload(), "member": u.member_payload(with_user=False)} for u in users]
        return mentions, roles, everyone

    def _attachments_from(
        self, payload: dict[str, Any], files: list[tuple[str, str, bytes]]
    ) -> list[dict[str, Any]]:
        by_field = {name: (filename, data) for name, filename, data in files}
        out = []
        for i, (name, filename, data) in enumerate(files):
            att_id = snowflake()
            self.attachments[att_id] = data
            meta = next((a for a in payload.get("attachments") or [] if str(a.get("id")) == str(i)), {})
            out.append(
                {
                    "id": str(att_id),
                    "filename": meta.get("filename") or filename or by_field.get(name, ("file",))[0],
                    "size": len(data),
                    "url": f"{self.base_url}/attachments/{att_id}/{filename}",
                    "proxy_url": f"{self.base_url}/attachments/{att_id}/{filename}",
                    "description": meta.get("description"),
                }
            )
        return out

    def _new_message(
        self,
        channel: FakeChannel,
        author: FakeUser,
        payload: dict[str, Any],
        *,
        files: list[tuple[str, str, bytes]] | None = None,
        msg_type: int = 0,
        flags: int = 0,
        reference: dict[str, Any] | None = None,
        interaction: InteractionHandle | None = None,
        reply_ping: bool = True,
    ) -> dict[str, Any]:
        content = payload.get("content") or ""
        replied_to = None
        referenced = None
        if reference is not None:
            referenced = self.messages.get(int(reference["message_id"]))
            if referenced is not None and reply_ping:
                replied_to = self.guild.find_member(referenced["author"]["id"])
        allowed = payload.get("allowed_mentions") if author is self.bot else None
        mentions, roles, everyone = self._resolve_mentions(content, allowed, author, replied_to)
        msg: dict[str, Any] = {
            "id": str(snowflake()),
            "channel_id": str(channel.id),
            "author": author.user_payload(),
            "content": content,
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "tts": bool(payload.get("tts")),
            "mention_everyone": everyone,
            "mentions": mentions,
            "mention_roles": roles,
            "mention_channels": [],
            "attachments": self._attachments_from(payload, files or []),
            "embeds": [{"type": "rich", **e} for e in payload.get("embeds") or []],
            "reactions": [],
            "pinned": False,
            "type": msg_type,
            "flags": flags,
            "components": copy.deepcopy(payload.get("components") or []),
        }
        if payload.get("nonce") is not None:
            msg["nonce"] = payload["nonce"]
        if reference is not None:
            msg["message_reference"] = {
                "type": 0,
                "message_id": str(reference["message_id"]),
                "channel_id": str(reference.get("channel_id") or channel.id),
                "guild_id": str(self.guild.id),
            }
            # Discord nests one level: the replied message comes without its own referenced_message.
            msg["referenced_message"] = copy.deepcopy(referenced)
            if referenced is not None:
                msg["referenced_message"].pop("referenced_message", None)
        if interaction is not None:
            msg["webhook_id"] = str(self.application_id)
            msg["application_id"] = str(self.application_id)
            user = self.guild.member(interaction.user_id)
            msg["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": user.user_payload(),
                "authorizing_integration_owners": {"0": str(self.guild.id)},
                **({"name": interaction.name, "command_type": 1} if interaction.type == 2 else {}),
            }
        return msg

    def _gateway_form(self, msg: dict[str, Any]) -> dict[str, Any]:
        data = copy.deepcopy(msg)
        channel = self.guild.find_channel(msg["channel_id"])
        if channel is not None and channel.is_dm:  # a DM carries no guild and no member
            return data
        data["guild_id"] = str(self.guild.id)
        author = self.guild.find_member(msg["author"]["id"])
        if author is not None:
            data["member"] = author.member_payload(with_user=False)
        return data

    async def dispatch(
        self, event: str, data: Any, *, transform: Callable[[GatewaySession, Any], Any] | None = None
    ) -> int:
        """Sends a DISPATCH to every identified session; returns how many live connections got it."""
        delivered = 0
        for session in list(self._sessions.values()):
            if session.conn is None:
                continue
            payload = transform(session, data) if transform is not None else data
            if payload is None:
                continue
            if await self._send_dispatch(session, event, payload):
                delivered += 1
        return delivered

    def _message_event_for(self, session: GatewaySession, data: dict[str, Any]) -> dict[str, Any] | None:
        """What Discord sends this session: nothing without GUILD_MESSAGES; blanked content fields without
        MESSAGE_CONTENT, unless the bot wrote the message or is mentioned in it. DMs need DIRECT_MESSAGES and
        are never blanked."""
        if "guild_id" not in data:
            return data if session.intents & INTENT_DIRECT_MESSAGES else None
        if not session.intents & INTENT_GUILD_MESSAGES:
            return None
        if session.intents & INTENT_MESSAGE_CONTENT:
            return data
        if data["author"]["id"] == str(self.bot.id) or any(
            m["id"] == str(self.bot.id) for m in data["mentions"]
        ):
            return data
        blanked = dict(data, content="", embeds=[], attachments=[], components=[])
        blanked.pop("poll", None)
        return blanked

    async def _dispatch_message(self, event: str, msg: dict[str, Any]) -> int:
        return await self.dispatch(event, self._gateway_form(msg), transform=self._message_event_for)

    async def _dispatch_delete(self, msg: dict[str, Any]) -> None:
        data = {"id": msg["id"], "channel_id": msg["channel_id"], "guild_id": str(self.guild.id)}
        await self.dispatch(
            "MESSAGE_DELETE", data, transform=lambda s, d: d if s.intents & INTENT_GUILD_MESSAGES else None
        )

    def _store(self, msg: dict[str, Any], *, visible: bool) -> None:
        self.messages[int(msg["id"])] = msg
        if visible:
            self.channel_log.setdefault(int(msg["channel_id"]), []).append(int(msg["id"]))

    def _record_send(
        self,
        kind: str,
        msg: dict[str, Any],
        payload: dict[str, Any],
        interaction: InteractionHandle | None = None,
    ) -> Send:
        send = Send(kind, int(msg["channel_id"]), copy.deepcopy(payload), msg, time.monotonic(), interaction)
        self.sends.append(send)
        return send

    def _apply_edit(
        self, msg: dict[str, Any], payload: dict[str, Any], new_attachments: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """The message as it would be after a PATCH (not stored)."""
        out = copy.deepcopy(msg)
        if "content" in payload:
            out["content"] = payload["content"] or ""
            author = self.guild.find_member(msg["author"]["id"]) or self.bot
            mentions, roles, everyone = self._resolve_mentions(
                out["content"], payload.get("allowed_mentions"), author, None
            )
            out.update(mentions=mentions, mention_roles=roles, mention_everyone=everyone)
        if "embeds" in payload:
            out["embeds"] = [{"type": "rich", **e} for e in payload["embeds"] or []]
        if "components" in payload:
            out["components"] = copy.deepcopy(payload["components"] or [])
        if "attachments" in payload:
            keep = {str(a.get("id")) for a in payload["attachments"] or []}
            out["attachments"] = [
                a for a in out.get("attachments") or [] if a["id"] in keep
            ] + new_attachments
        elif new_attachments:
            out["attachments"] = (out.get("attachments") or []) + new_attachments
        if payload.get("flags") is not None:
            keep_flags = int(out.get("flags") or 0) & ~FLAG_SUPPRESS_EMBEDS
            out["flags"] = keep_flags | (int(payload["flags"]) & (FLAG_SUPPRESS_EMBEDS | FLAG_COMPONENTS_V2))
        return out

    def _check_edit(
        self, merged: dict[str, Any], payload: dict[str, Any], prefix: list[str | int] | None = None
    ) -> None:
        error = validate_message(merged, prefix=prefix)
        if error is not None:
            raise ApiError(400, error)
        if payload is not merged:
            error = validate_message(payload, prefix=prefix, check_empty=False)
            if error is not None:
                raise ApiError(400, error)

    async def _commit_edit(
        self, msg: dict[str, Any], merged: dict[str, Any], *, clear_loading: bool = False
    ) -> dict[str, Any]:
        was_loading = bool(int(msg.get("flags") or 0) & FLAG_LOADING)
        if clear_loading:
            merged["flags"] = int(merged.get("flags") or 0) & ~FLAG_LOADING
        if not was_loading:
            merged["edited_timestamp"] = iso_now()
        msg.clear()
        msg.update(merged)
        if not int(msg.get("flags") or 0) & FLAG_EPHEMERAL:
            await self._dispatch_message("MESSAGE_UPDATE", msg)
        return msg

    # ============================================================================ REST: simple routes
    async def _get_me(self, rec: RecordedRequest) -> tuple[int, Any]:
        return 200, {
            **self.bot.user_payload(),
            "verified": True,
            "mfa_enabled": False,
            "flags": 0,
            "locale": "en-US",
        }

    async def _get_application(self, rec: RecordedRequest) -> tuple[int, Any]:
        return 200, {
            "id": str(self.application_id),
            "name": self.bot.name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "verify_key": secrets.token_hex(32),
            "owner": self.owner.user_payload(),
            "team": None,
            "flags": 0,
            "bot": self.bot.user_payload(),
            "interactions_endpoint_url": None,
            "redirect_uris": [],
            "tags": [],
        }

    async def _get_gateway(self, rec: RecordedRequest) -> tuple[int, Any]:
        return 200, {"url": self.gateway_url.rstrip("/")}

    async def _get_gateway_bot(self, rec: RecordedRequest) -> tuple[int, Any]:
        return 200, {
            "url": self.gateway_url.rstrip("/"),
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 14400000,
                "max_concurrency": 1,
            },
        }

    def _channel_or_404(self, cid: str) -> FakeChannel:
        channel = self.guild.find_channel(cid)
        if channel is None:
            raise ApiError.of(404, 10003, "Unknown Channel")
        return channel

    def _message_or_404(self, channel: FakeChannel, mid: str) -> dict[str, Any]:
        msg = self.messages.get(int(mid))
        if msg is None or msg["channel_id"] != str(channel.id):
            raise ApiError.of(404, 10008, "Unknown Message")
        return msg

    async def _typing(self, rec: RecordedRequest, cid: str) -> tuple[int, Any]:
        channel = self._channel_or_404(cid)
        self.typing.append((channel.id, time.monotonic()))
        return 204, None

    async def _add_reaction(self, rec: RecordedRequest, cid: str, mid: str, emoji: str) -> tuple[int, Any]:
        channel = self._channel_or_404(cid)
        self._message_or_404(channel, mid)
        self.reactions.append((channel.id, int(mid), emoji))
        return 204, None

    async def _get_message(self, rec: RecordedRequest, cid: str, mid: str) -> tuple[int, Any]:
        return 200, self._message_or_404(self._channel_or_404(cid), mid)

    # ============================================================================ REST: channel messages
    async def _create_dm(self, rec: RecordedRequest) -> tuple[int, Any]:
        """POST /users/@me/channels {recipient_id}: the bot's DM channel with that user (opening it never fails)."""
        rid = (rec.json or {}).get("recipient_id")
        try:
            user = self.guild.anyone(rid)
        except KeyError:
            raise ApiError.of(404, 10013, "Unknown User") from None
        channel = self.guild.dm_channel(user)
        self.channel_log.setdefault(channel.id, [])
        return 200, channel.payload()

    async def _create_message(self, rec: RecordedRequest, cid: str) -> tuple[int, Any]:
        channel = self._channel_or_404(cid)
        if channel.is_dm and channel.recipient is not None and (
                channel.recipient.id in self.dm_blocked or channel.recipient.name not in self.guild.members):  # fmt: skip
            # Discord: the member refuses DMs from server members, or shares no server with the bot any more.
            raise ApiError.of(403, 50007, "Cannot send messages to this user")
        self._check_may_post(channel)
        payload = rec.json or {}
        error = validate_message({**payload, "attachments": payload.get("attachments") or rec.files})
        if error is not None:
            raise ApiError(400, error)
        nonce = payload.get("nonce")
        if nonce is not None and payload.get("enforce_nonce") and str(nonce) in self._nonces:
            existing = self.messages.get(self._nonces[str(nonce)])
            if existing is not None:
                return 200, existing
        reference = payload.get("message_reference")
        if reference is not None:
            target = self.messages.get(int(reference.get("message_id") or 0))
            if target is None and reference.get("fail_if_not_exists", True):
                raise ApiError(
                    400,
                    form_error(
                        {
                            "message_reference": {
                                "_errors": [
                                    {
                                        "code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                                        "message": "Unknown message",
                                    }
                                ]
                            }
                        }
                    ),
                )
            if target is None:
                reference = None
        flags = int(payload.get("flags") or 0) & (
            FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2
        )
        msg = self._new_message(
            channel,
            self.bot,
            payload,
            files=rec.files,
            msg_type=19 if reference else 0,
            flags=flags,
            reference=reference,
        )
        if nonce is not None:
            self._nonces[str(nonce)] = int(msg["id"])
        self._store(msg, visible=True)
        self._channel_sends.setdefault(channel.id, []).append(msg)
        self._record_send("channel", msg, payload)
        await self._dispatch_message("MESSAGE_CREATE", msg)
        return 200, msg

    def _check_may_post(self, channel: FakeChannel) -> None:
        """403/50013 where the bot lacks the permission to post: Send Messages, or Send Messages in Threads."""
        if channel.is_dm:
            return
        needed = VIEW_CHANNEL | (SEND_MESSAGES_IN_THREADS if channel.is_thread else SEND_MESSAGES)
        if self.guild.permissions_in(self.bot, channel) & needed != needed:
            raise ApiError.of(403, 50013, "Missing Permissions")

    async def _create_thread(self, rec: RecordedRequest, cid: str, mid: str) -> tuple[int, Any]:
        """POST /channels/{id}/messages/{id}/threads: a public thread from a message, with the message's id."""
        channel = self._channel_or_404(cid)
        if channel.is_dm or channel.is_thread:
            raise ApiError.of(400, 50024, "Cannot execute action on this channel type")
        msg = self._message_or_404(channel, mid)
        if self.guild.permissions_in(self.bot, channel) & (VIEW_CHANNEL | CREATE_PUBLIC_THREADS) != (
                VIEW_CHANNEL | CREATE_PUBLIC_THREADS):  # fmt: skip
            raise ApiError.of(403, 50013, "Missing Permissions")
        if int(mid) in self.guild.threads:
            raise ApiError.of(400, 160004, "A thread has already been created for this message")
        body = rec.json or {}
        name, minutes = str(body.get("name") or "").strip(), body.get("auto_archive_duration", 4320)
        problems: dict[str, Any] = {}
        if not 1 <= len(name) <= 100:
            problems["name"] = {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH", "message": "Must be between 1 and 100 in length."}]}
        if minutes not in ARCHIVE_MINUTES:
            problems["auto_archive_duration"] = {"_errors": [{"code": "BASE_TYPE_CHOICES",
                                                             "message": f"Value must be one of {ARCHIVE_MINUTES}."}]}  # fmt: skip
        if problems:
            raise ApiError(400, form_error(problems))
        thread = self.guild.add_thread(channel, int(mid), name, self.bot, minutes, iso_now())
        self.channel_log.setdefault(thread.id, [])
        msg["flags"] = int(msg.get("flags") or 0) | 32  # HAS_THREAD
        msg["thread"] = thread.payload()
        created = {**thread.payload(), "newly_created": True,
                   "member": {"id": str(thread.id), "user_id": str(self.bot.id), "join_timestamp": thread.created,
                              "flags": 0}}  # fmt: skip
        await self.dispatch("THREAD_CREATE", created,
                            transform=lambda s, d: d if s.intents & INTENT_GUILDS else None)  # fmt: skip
        return 201, thread.payload()

    async def _edit_channel_message(self, rec: RecordedRequest, cid: str, mid: str) -> tuple[int, Any]:
        channel = self._channel_or_404(cid)
        msg = self._message_or_404(channel, mid)
        payload = rec.json or {}
        if msg["author"]["id"] != str(self.bot.id) and set(payload) - {"flags"}:
            raise ApiError.of(403, 50005, "Cannot edit a message authored by another user")
        merged = self._apply_edit(msg, payload, self._attachments_from(payload, rec.files))
        self._check_edit(merged, payload)
        await self._commit_edit(msg, merged)
        self._record_send("edit", msg, payload)
        return 200, msg

    async def _delete_channel_message(self, rec: RecordedRequest, cid: str, mid: str) -> tuple[int, Any]:
        channel = self._channel_or_404(cid)
        msg = self._message_or_404(channel, mid)
        if msg["author"]["id"] != str(self.bot.id) and not self.guild.permissions_for(self.bot) & (1 << 13):
            raise ApiError.of(403, 50013, "Missing Permissions")
        self._delete(msg)
        await self._dispatch_delete(msg)
        return 204, None

    def _delete(self, msg: dict[str, Any]) -> None:
        mid = int(msg["id"])
        self.messages.pop(mid, None)
        self.deleted_messages[mid] = msg
        log = self.channel_log.get(int(msg["channel_id"]), [])
        if mid in log:
            log.remove(mid)

    # ============================================================================ test-side actions
    def block_dms(self, member: str | int) -> None:
        """The member turns off "direct messages from server members": the bot's DMs get 403/50007."""
        self.dm_blocked.add(self.guild.member(member).id)

    def dm_messages(self, member: str | int) -> list[dict[str, Any]]:
        """The bot's messages in its DM channel with ``member`` (present or departed), oldest first."""
        key = f"dm:{self.guild.anyone(member).name}"
        channel = self.guild.dm_channels.get(key)
        return self.channel_messages(channel.id) if channel is not None else []

    async def wait_for_dm(self, member: str | int, timeout: float = 5.0, *,
                          predicate: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:  # fmt: skip
        """Like ``wait_for_message``, in the bot's DM channel with ``member`` (waits for it to be opened too)."""
        key = f"dm:{self.guild.anyone(member).name}"
        await self.wait_for(lambda: key in self.guild.dm_channels, timeout, what=f"a DM channel with {member}")
        return await self.wait_for_message(key, timeout, predicate=predicate)

    async def delete_channel(self, which: str | int) -> FakeChannel:
        """An admin deletes a channel: CHANNEL_DELETE (GUILDS intent); posting there then gets 404/10003."""
        channel = self.guild.remove_channel(which)
        data = {**channel.payload(), "guild_id": str(self.guild.id)}
        await self.dispatch("CHANNEL_DELETE", data, transform=lambda s, d: d if s.intents & INTENT_GUILDS else None)
        await self._notify()
        return channel

    async def remove_member(self, who: str | int) -> FakeUser:
        """A member leaves the guild: GUILD_MEMBER_REMOVE, which Discord sends with the GUILD_MEMBERS intent only.
        DMs to them then get 403/50007 (they share no server with the bot any more)."""
        user = self.guild.remove_member(who)
        data = {"guild_id": str(self.guild.id), "user": user.user_payload()}
        await self.dispatch("GUILD_MEMBER_REMOVE", data,
                            transform=lambda s, d: d if s.intents & INTENT_GUILD_MEMBERS else None)  # fmt: skip
        await self._notify()
        return user

    async def deny_bot(self, channel: str | int, permissions: int) -> None:
        """An admin denies the bot some permissions in one channel (a member overwrite; its threads follow):
        CHANNEL_UPDATE with the overwrite. E.g. ``await deny_bot("general", CREATE_PUBLIC_THREADS)``: opening a
        thread there then gets 403/50013."""
        ch = self.guild.channel(channel)
        ch.denied[self.bot.id] = ch.denied.get(self.bot.id, 0) | permissions
        data = {**ch.payload(), "guild_id": str(self.guild.id)}
        await self.dispatch("CHANNEL_UPDATE", data, transform=lambda s, d: d if s.intents & INTENT_GUILDS else None)
        await self._notify()

    def thread_of(self, message: dict[str, Any] | int | str) -> FakeChannel | None:
        """The thread opened from ``message`` (same id), if any."""
        mid = int(message["id"]) if isinstance(message, dict) else int(message)
        return self.guild.threads.get(mid)

    async def send_user_message(
        self,
        content: str,
        *,
        author: str | int = "alice",
        channel: str | int = "general",
        mention_bot: bool = False,
        reply_to: dict[str, Any] | None = None,
        ping: bool = True,
    ) -> dict[str, Any]:
        """A member posts a message: MESSAGE_CREATE with a real snowflake and Discord's mention fields.

        ``mention_bot`` prefixes ``<@bot id> ``. ``mentions`` is filled from ``<@id>`` tokens (and the replied
        author), ``mention_everyone`` is true only if the author may mention everyone, and ``content`` (with
        embeds, attachments, components) is blanked for a bot without the message-content intent unless it is
        mentioned. ``reply_to`` makes it a reply (type 19, ``message_reference`` and ``referenced_message``);
        ``ping=False`` is a reply whose member turned the ping off: the replied author is not mentioned. In a
        thread, ``channel`` is the thread (its name or id) and the message carries its id as ``channel_id``.
        Returns the full (unblanked) message; raises if no bot session received it."""
        user = self.guild.member(author)
        ch = self.guild.channel(channel)
        if mention_bot:
            content = f"<@{self.bot.id}> {content}"
        reference = {"message_id": reply_to["id"], "channel_id": reply_to["channel_id"]} if reply_to else None
        msg = self._new_message(
            ch, user, {"content": content}, msg_type=19 if reference else 0, reference=reference, reply_ping=ping
        )
        self._store(msg, visible=True)
        await self._dispatch_message("MESSAGE_CREATE", msg)
        await self._notify()
        return msg
