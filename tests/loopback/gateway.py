"""The gateway half of the loopback: HELLO, heartbeats, IDENTIFY/READY/GUILD_CREATE, RESUME, member chunks.

JSON text frames only; the ``compress`` query parameter and IDENTIFY's ``compress`` flag are ignored, which
discord.py accepts (it only decompresses binary frames).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from .server import LoopbackDiscord

# Gateway intents (https://discord.com/developers/docs/events/gateway#gateway-intents).
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = {
    "members": INTENT_GUILD_MEMBERS,
    "presences": INTENT_GUILD_PRESENCES,
    "message_content": INTENT_MESSAGE_CONTENT,
}
# Application flags Discord reports for intents enabled in the developer portal ("limited" variants).
_APP_FLAG_FOR_INTENT = {"presences": 1 << 13, "members": 1 << 15, "message_content": 1 << 19}


@dataclass
class GatewaySession:
    """A logical (resumable) gateway session; ``conn`` is the live websocket or None between connections."""

    session_id: str
    intents: int
    identify: dict[str, Any]
    seq: int = 0
    events: list[tuple[int, str, Any]] = field(default_factory=list)
    conn: GatewayConnection | None = None


class GatewayConnection:
    def __init__(self, ws: web.WebSocketResponse, query: dict[str, str]):
        self.ws = ws
        self.query = query
        self.session: GatewaySession | None = None
        self._lock = asyncio.Lock()

    async def send(self, payload: dict[str, Any]) -> bool:
        if self.ws.closed:
            return False
        async with self._lock:
            try:
                await self.ws.send_str(json.dumps(payload))
            except (ConnectionError, RuntimeError):
                return False
        return True

    async def close(self, code: int, message: str) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close(code=code, message=message.encode())


class GatewayMixin:
    """Gateway handling for :class:`LoopbackDiscord` (which provides the state used here)."""

    async def _gateway_handler(self: LoopbackDiscord, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, heartbeat=None)
        await ws.prepare(request)
        conn = GatewayConnection(ws, dict(request.query))
        self._connections.add(conn)
        self.gateway_connects.append({"query": dict(request.query), "time": time.monotonic()})
        await conn.send(
            {"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}, "s": None, "t": None}
        )
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    try:
                        frame = json.loads(msg.data)
                    except ValueError:
                        await self._gateway_close(conn, 4002, "Error while decoding payload.")
                        break
                    await self._on_gateway_frame(conn, frame)
                elif msg.type == WSMsgType.BINARY:
                    await self._gateway_close(conn, 4002, "Error while decoding payload.")
                    break
        finally:
            self._connections.discard(conn)
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
            self.gateway_disconnects.append(ws.close_code)
            await self._notify()
        return ws

    async def _gateway_close(self: LoopbackDiscord, conn: GatewayConnection, code: int, reason: str) -> None:
        self.gateway_closes.append((code, reason))
        await self._notify()
        await conn.close(code, reason)

    async def _on_gateway_frame(
        self: LoopbackDiscord, conn: GatewayConnection, frame: dict[str, Any]
    ) -> None:
        op, d = frame.get("op"), frame.get("d")
        if op == 1:  # HEARTBEAT
            self.heartbeats.append(time.monotonic())
            if self.ack_heartbeats:
                await conn.send({"op": 11})
                self.heartbeat_acks.append(time.monotonic())
            await self._notify()
        elif op == 2:
            await self._on_identify(conn, d or {})
        elif op == 3:  # PRESENCE_UPDATE
            self.presence_updates.append(d)
        elif op == 4:  # VOICE_STATE_UPDATE: not modelled
            pass
        elif op == 6:
            await self._on_resume(conn, d or {})
        elif op == 8:
            await self._on_request_members(conn, d or {})
        else:
            self.gateway_unknown_ops.append(frame)
            await self._gateway_close(conn, 4001, "Unknown opcode.")

    async def _on_identify(self: LoopbackDiscord, conn: GatewayConnection, d: dict[str, Any]) -> None:
        if conn.session is not None:
            await self._gateway_close(conn, 4005, "Already authenticated.")
            return
        self.identifies.append({k: v for k, v in d.items() if k != "token"})
        if d.get("token") != self.token:
            await self._gateway_close(conn, 4004, "Authentication failed.")
            return
        intents = d.get("intents")
        if not isinstance(intents, int) or intents < 0:
            await self._gateway_close(conn, 4013, "Invalid intent(s).")
            return
        refused = [
            n for n, bit in PRIVILEGED_INTENTS.items() if intents & bit and n not in self.privileged_intents
        ]
        if refused:
            self.refused_intents.append(refused)
            await self._gateway_close(conn, 4014, "Disallowed intent(s).")
            return
        session = GatewaySession(session_id=secrets.token_hex(16), intents=intents, identify=d)
        self._sessions[session.session_id] = session
        session.conn = conn
        conn.session = session
        app_flags = 0
        for name in self.privileged_intents:
            app_flags |= _APP_FLAG_FOR_INTENT.get(name, 0)
        ready: dict[str, Any] = {
            "v": 10,
            "user": {**self.bot.user_payload(), "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(self.guild.id), "unavailable": True}],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": app_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "guild_join_requests": [],
            "user_settings": {},
            "_trace": ["loopback"],
        }
        if "shard" in d:
            ready["shard"] = d["shard"]
        await self._send_dispatch(session, "READY", ready)
        if intents & INTENT_GUILDS:
            # Like Discord: the member list is complete only with the presences intent (small guild); otherwise
            # it holds the bot itself and discord.py asks for the rest with op 8 if it has the members intent.
            payload = self.guild.guild_create_payload(all_members=bool(intents & INTENT_GUILD_PRESENCES))
            await self._send_dispatch(session, "GUILD_CREATE", payload)
        await self._notify()

    async def _on_resume(self: LoopbackDiscord, conn: GatewayConnection, d: dict[str, Any]) -> None:
        self.resumes.append({k: v for k, v in d.items() if k != "token"})
        if d.get("token") != self.token:
            await self._gateway_close(conn, 4004, "Authentication failed.")
            return
        session = self._sessions.get(str(d.get("session_id")))
        if session is None:
            await conn.send({"op": 9, "d": False, "s": None, "t": None})
            return
        old = session.conn
        session.conn = conn
        conn.session = session
        if old is not None and old is not conn:
            await old.close(4000, "Session resumed elsewhere.")
        last = d.get("seq") or 0
        for seq, event, data in list(session.events):
            if seq > last:
                await conn.send({"op": 0, "s": seq, "t": event, "d": data})
        await self._send_dispatch(session, "RESUMED", {"_trace": ["loopback"]})
        await self._notify()

    async def _on_request_members(self: LoopbackDiscord, conn: GatewayConnection, d: dict[str, Any]) -> None:
        self.member_requests.append(d)
        session = conn.session
        if session is None:
            await self._gateway_close(conn, 4003, "Not authenticated.")
            return
        if str(d.get("guild_id")) != str(self.guild.id):
            return
        members = list(self.guild.members.values())
        if d.get("user_ids"):
            wanted = {str(u) for u in d["user_ids"]}
            members = [m for m in members if str(m.id) in wanted]
        else:
            query = (d.get("query") or "").lower()
            members = [m for m in members if m.name.lower().startswith(query)]
            limit = int(d.get("limit") or 0)
            if limit:
                members = members[:limit]
        chunk: dict[str, Any] = {
            "guild_id": str(self.guild.id),
            "members": [m.member_payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if d.get("presences"):
            chunk["presences"] = []
        if d.get("nonce") is not None:
            chunk["nonce"] = d["nonce"]
        await self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", chunk)

    async def _send_dispatch(self: LoopbackDiscord, session: GatewaySession, event: str, data: Any) -> bool:
        session.seq += 1
        session.events.append((session.seq, event, data))
        if len(session.events) > 1000:
            del session.events[:500]
        self.dispatched.append((event, data))
        if session.conn is None:
            return False
        return await session.conn.send({"op": 0, "s": session.seq, "t": event, "d": data})

    async def reconnect_gateway(self: LoopbackDiscord) -> None:
        """Sends op 7 RECONNECT on every live connection; discord.py then reconnects and RESUMEs."""
        for conn in list(self._connections):
            await conn.send({"op": 7, "d": None, "s": None, "t": None})

    async def invalidate_session(self: LoopbackDiscord, resumable: bool = False) -> None:
        """Sends op 9 INVALID_SESSION on every live connection."""
        for conn in list(self._connections):
            await conn.send({"op": 9, "d": resumable, "s": None, "t": None})
