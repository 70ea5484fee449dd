"""Interactions and application commands: the REST side (callbacks, followups, ``@original``, command sync)
and the test side (invoke a slash command, autocomplete, click a button, pick in a select menu)."""

from __future__ import annotations

import copy
import secrets
import time
from typing import TYPE_CHECKING, Any

from .ids import snowflake
from .records import (
    Ack,
    ApiError,
    CommandNotPermitted,
    CommandNotSynced,
    InteractionFailed,
    InteractionHandle,
    RecordedRequest,
)
from .validation import (
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    RESPONSE_FLAGS,
    form_error,
    validate_autocomplete,
    validate_commands,
    validate_message,
)
from .world import ADMINISTRATOR, FakeUser

if TYPE_CHECKING:
    from .server import LoopbackDiscord

# Callback types each interaction type accepts (2 command, 3 component, 4 autocomplete, 5 modal submit).
_ALLOWED_CALLBACKS = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}


class InteractionsMixin:
    """Part of :class:`LoopbackDiscord`; uses its state (``interactions``, ``commands``, ``guild`` ...)."""

    # ============================================================================ REST: interactions
    async def _callback(self: LoopbackDiscord, rec: RecordedRequest, iid: str, token: str) -> tuple[int, Any]:
        h = self.interactions.get(int(iid))
        if h is None or h.token != token:
            raise ApiError.of(404, 10062, "Unknown interaction")
        if h.ack is not None:
            raise ApiError.of(400, 40060, "Interaction has already been acknowledged.")
        elapsed = time.monotonic() - h.dispatched_at
        if elapsed > self.ack_timeout:
            raise ApiError.of(404, 10062, "Unknown interaction")
        body = rec.json or {}
        rtype = body.get("type")
        data = body.get("data") or {}
        if rtype not in _ALLOWED_CALLBACKS.get(h.type, set()):
            raise ApiError(
                400,
                form_error(
                    {
                        "type": {
                            "_errors": [
                                {
                                    "code": "INTERACTION_RESPONSE_TYPE_INVALID",
                                    "message": f"Response type {rtype} is invalid for interaction type {h.type}",
                                }
                            ]
                        }
                    }
                ),
            )
        flags = int(data.get("flags") or 0)
        channel = self.guild.channel(h.channel_id)
        resource_msg: dict[str, Any] | None = None

        if rtype == 4:
            error = validate_message(
                {**data, "attachments": data.get("attachments") or rec.files}, prefix=["data"]
            )
            if error is not None:
                raise ApiError(400, error)
            h.ack = Ack(4, flags, data, elapsed)
            msg = self._new_message(
                channel,
                self.bot,
                data,
                files=rec.files,
                msg_type=20 if h.type == 2 else 19,
                flags=flags & RESPONSE_FLAGS,
                interaction=h,
            )
            ephemeral = bool(flags & FLAG_EPHEMERAL)
            self._store(msg, visible=not ephemeral)
            h.original = msg
            self._record_send("response", msg, data, h)
            if not ephemeral:
                await self._dispatch_message("MESSAGE_CREATE", msg)
            resource_msg = msg
        elif rtype == 5:
            h.ack = Ack(5, flags, data or None, elapsed)
            msg = self._new_message(
                channel,
                self.bot,
                {},
                msg_type=20 if h.type == 2 else 19,
                flags=(flags & FLAG_EPHEMERAL) | FLAG_LOADING,
                interaction=h,
            )
            ephemeral = bool(flags & FLAG_EPHEMERAL)
            self._store(msg, visible=not ephemeral)
            h.original = msg
            if not ephemeral:
                await self._dispatch_message("MESSAGE_CREATE", msg)
            resource_msg = msg
        elif rtype == 6:
            h.ack = Ack(6, flags, data or None, elapsed)
        elif rtype == 7:
            target = self.messages.get(h.component_message_id or 0)
            if target is None:
                raise ApiError.of(404, 10008, "Unknown Message")
            merged = self._apply_edit(target, data, self._attachments_from(data, rec.files))
            self._check_edit(merged, data, prefix=["data"])
            h.ack = Ack(7, flags, data, elapsed)
            await self._commit_edit(target, merged)
            h.edits.append(copy.deepcopy(data))
            self._record_send("edit", target, data, h)
            resource_msg = target
        elif rtype == 8:
            error = validate_autocomplete(data)
            if error is not None:
                raise ApiError(400, error)
            h.ack = Ack(8, flags, data, elapsed)
            h.choices = list(data.get("choices") or [])
        elif rtype == 9:
            error = self._validate_modal(data)
            if error is not None:
                raise ApiError(400, error)
            h.ack = Ack(9, flags, data, elapsed)
            h.modal = data

        if rec.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        info: dict[str, Any] = {"id": str(h.id), "type": h.type}
        if resource_msg is not None:
            info["response_message_id"] = resource_msg["id"]
            info["response_message_loading"] = bool(int(resource_msg.get("flags") or 0) & FLAG_LOADING)
            info["response_message_ephemeral"] = bool(int(resource_msg.get("flags") or 0) & FLAG_EPHEMERAL)
        resource: dict[str, Any] = {"type": rtype}
        if resource_msg is not None:
            resource["message"] = resource_msg
        return 200, {"interaction": info, "resource": resource}

    @staticmethod
    def _validate_modal(data: dict[str, Any]) -> dict[str, Any] | None:
        problems: dict[str, Any] = {}
        if not data.get("custom_id") or len(data.get("custom_id") or "") > 100:
            problems["custom_id"] = {
                "_errors": [
                    {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be between 1 and 100 in length."}
                ]
            }
        if not data.get("title") or len(data.get("title") or "") > 45:
            problems["title"] = {
                "_errors": [
                    {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be between 1 and 45 in length."}
                ]
            }
        comps = data.get("components") or []
        if not 1 <= len(comps) <= 5:
            problems["components"] = {
                "_errors": [{"code": "BASE_TYPE_BAD_LENGTH", "message": "Must be between 1 and 5 in length."}]
            }
        return form_error({"data": problems}) if problems else None

    def _handle_by_webhook(self: LoopbackDiscord, app: str, token: str) -> InteractionHandle:
        h = self._by_token.get(token)
        if h is None or str(app) != str(self.application_id):
            raise ApiError.of(404, 10015, "Unknown Webhook")
        if time.monotonic() - h.dispatched_at > self.followup_window:
            raise ApiError.of(401, 50027, "Invalid Webhook Token")
        if h.ack is None:
            raise ApiError.of(404, 10015, "Unknown Webhook")
        return h

    async def _followup(self: LoopbackDiscord, rec: RecordedRequest, app: str, token: str) -> tuple[int, Any]:
        h = self._handle_by_webhook(app, token)
        payload = rec.json or {}
        error = validate_message({**payload, "attachments": payload.get("attachments") or rec.files})
        if error is not None:
            raise ApiError(400, error)
        wait = rec.query.get("wait") in ("1", "true", "True")
        if h.ack is not None and h.ack.type == 5 and h.loading:
            # Documented back-compat: the first followup after a "thinking" defer edits the loading message.
            msg = h.original
            assert msg is not None
            merged = self._apply_edit(msg, payload, self._attachments_from(payload, rec.files))
            await self._commit_edit(msg, merged, clear_loading=True)
            self._record_send("followup", msg, payload, h)
            return (200, msg) if wait else (204, None)
        flags = int(payload.get("flags") or 0) & RESPONSE_FLAGS
        channel = self.guild.channel(h.channel_id)
        msg = self._new_message(
            channel,
            self.bot,
            payload,
            files=rec.files,
            msg_type=19 if h.type != 2 else 20,
            flags=flags,
            interaction=h,
        )
        ephemeral = bool(flags & FLAG_EPHEMERAL)
        self._store(msg, visible=not ephemeral)
        h.followups.append(msg)
        self._record_send("followup", msg, payload, h)
        if not ephemeral:
            await self._dispatch_message("MESSAGE_CREATE", msg)
        return (200, msg) if wait else (204, None)

    def _original_target(self: LoopbackDiscord, h: InteractionHandle) -> dict[str, Any] | None:
        if h.original is not None:
            return self.messages.get(int(h.original["id"]))
        if h.ack is not None and h.ack.type in (6, 7) and h.component_message_id is not None:
            return self.messages.get(h.component_message_id)
        return None

    async def _webhook_message(
        self: LoopbackDiscord, rec: RecordedRequest, app: str, token: str, mid: str
    ) -> tuple[int, Any]:
        h = self._handle_by_webhook(app, token)
        if mid == "@original":
            msg = self._original_target(h)
        else:
            msg = self.messages.get(int(mid))
            owned = [m["id"] for m in h.followups] + ([h.original["id"]] if h.original else [])
            if h.component_message_id is not None and h.ack is not None and h.ack.type in (6, 7):
                owned.append(str(h.component_message_id))
            if msg is not None and msg["id"] not in owned:
                msg = None
        if msg is None:
            raise ApiError.of(404, 10008, "Unknown Message")
        if rec.method == "GET":
            return 200, msg
        if rec.method == "DELETE":
            self._delete(msg)
            h.deleted.add(int(msg["id"]))
            if not int(msg.get("flags") or 0) & FLAG_EPHEMERAL:
                await self._dispatch_delete(msg)
            return 204, None
        payload = rec.json or {}
        was_loading = bool(int(msg.get("flags") or 0) & FLAG_LOADING)
        merged = self._apply_edit(msg, payload, self._attachments_from(payload, rec.files))
        merged["flags"] = int(merged.get("flags") or 0) & ~FLAG_LOADING
        self._check_edit(merged, payload)
        await self._commit_edit(msg, merged, clear_loading=True)
        h.edits.append(copy.deepcopy(payload))
        self._record_send("deferred_edit" if was_loading else "edit", msg, payload, h)
        return 200, msg

    # ============================================================================ REST: commands
    def _scope(self: LoopbackDiscord, app: str, gid: str | None) -> int | None:
        if str(app) != str(self.application_id):
            raise ApiError.of(403, 50001, "Missing Access")
        if gid is None:
            return None
        if str(gid) != str(self.guild.id):
            raise ApiError.of(404, 10004, "Unknown Guild")
        return int(gid)

    async def _put_commands(
        self: LoopbackDiscord, rec: RecordedRequest, app: str, gid: str | None = None
    ) -> tuple[int, Any]:
        scope = self._scope(app, gid)
        payload = rec.json
        self.command_syncs.append((scope, copy.deepcopy(payload), time.monotonic()))
        error = validate_commands(payload)
        if error is not None:
            raise ApiError(400, error)
        existing = {(c["type"], c["name"]): c for c in self.commands.get(scope, [])}
        out = []
        for cmd in payload:
            ctype = cmd.get("type", 1)
            old = existing.get((ctype, cmd["name"]))
            if old is None:
                self.command_creates += 1
            dmp = cmd.get("default_member_permissions")
            obj: dict[str, Any] = {
                "id": old["id"] if old else str(snowflake()),
                "application_id": str(self.application_id),
                "version": str(snowflake()),
                "type": ctype,
                "name": cmd["name"],
                "name_localizations": cmd.get("name_localizations"),
                "description": cmd.get("description", ""),
                "description_localizations": cmd.get("description_localizations"),
                "options": copy.deepcopy(cmd.get("options") or []),
                "default_member_permissions": None if dmp is None else str(dmp),
                "dm_permission": cmd.get("dm_permission", True),
                "contexts": cmd.get("contexts"),
                "integration_types": cmd.get("integration_types") or [0],
                "nsfw": bool(cmd.get("nsfw", False)),
            }
            if scope is not None:
                obj["guild_id"] = str(scope)
            out.append(obj)
        self.commands[scope] = out
        return 200, out

    async def _get_commands(
        self: LoopbackDiscord, rec: RecordedRequest, app: str, gid: str | None = None
    ) -> tuple[int, Any]:
        return 200, self.commands.get(self._scope(app, gid), [])

    # ============================================================================ test-side actions
    def _find_command(self: LoopbackDiscord, name: str) -> tuple[dict[str, Any], int | None]:
        for scope in (self.guild.id, None):
            for cmd in self.commands.get(scope, []):
                if cmd["name"] == name and cmd.get("type", 1) == 1:
                    contexts = cmd.get("contexts")
                    if scope is None and contexts is not None and 0 not in contexts:
                        continue
                    return cmd, scope
        synced = {s: [c["name"] for c in cmds] for s, cmds in self.commands.items()}
        raise CommandNotSynced(f"/{name} was never synced (PUT .../commands); synced: {synced or 'nothing'}")

    def _check_permitted(self: LoopbackDiscord, cmd: dict[str, Any], user: FakeUser) -> None:
        dmp = cmd.get("default_member_permissions")
        if dmp is None or self.permissions_override:
            return
        perms = self.guild.permissions_for(user)
        needed = int(dmp)
        if perms & ADMINISTRATOR or (needed != 0 and perms & needed == needed):
            return
        raise CommandNotPermitted(
            f"{user.name} lacks default_member_permissions={needed} for /{cmd['name']} (has {perms}); "
            "set server.permissions_override = True to simulate an admin's override"
        )

    def _is_member(self: LoopbackDiscord, value: Any) -> bool:
        try:
            self.guild.member(value)
        except KeyError:
            return False
        return True

    def _convert_option(
        self: LoopbackDiscord, spec: dict[str, Any], value: Any, resolved: dict[str, dict[str, Any]]
    ) -> Any:
        otype, name = spec["type"], spec["name"]
        if otype == 3:
            assert isinstance(value, str), f"option {name} is a string, got {value!r}"
            assert len(value) >= spec.get("min_length", 0), f"option {name} shorter than min_length"
            assert len(value) <= spec.get("max_length", 6000), f"option {name} longer than max_length"
        elif otype in (4, 10):
            assert isinstance(value, (int, float)) and not isinstance(value, bool), (
                f"option {name}: number expected"
            )
            if otype == 4:
                assert isinstance(value, int), f"option {name} is an integer, got {value!r}"
            if "min_value" in spec:
                assert value >= spec["min_value"], f"option {name} below min_value"
            if "max_value" in spec:
                assert value <= spec["max_value"], f"option {name} above max_value"
        elif otype == 5:
            assert isinstance(value, bool), f"option {name} is a boolean"
        elif otype == 6 or (otype == 9 and self._is_member(value)):
            user = self.guild.member(value)
            resolved.setdefault("users", {})[str(user.id)] = user.user_payload()
            member = user.member_payload(with_user=False)
            member["permissions"] = str(self.guild.permissions_for(user))
            resolved.setdefault("members", {})[str(user.id)] = member
            value = str(user.id)
        elif otype == 7:
            ch = self.guild.channel(value)
            types = spec.get("channel_types")
            assert not types or ch.type in types, f"option {name} does not accept channel type {ch.type}"
            resolved.setdefault("channels", {})[str(ch.id)] = {
                "id": str(ch.id),
                "name": ch.name,
                "type": ch.type,
                "permissions": str(self.guild.permissions_for(self.bot)),
                "guild_id": str(self.guild.id),
                "parent_id": None,
            }
            value = str(ch.id)
        elif otype in (8, 9):
            role = self.guild.role(value)
            resolved.setdefault("roles", {})[str(role.id)] = role.payload()
            value = str(role.id)
        else:
            raise NotImplementedError(f"loopback: option type {otype} ({name}) is not supported")
        choices = spec.get("choices")
        if choices:
            assert value in [c["value"] for c in choices], (
                f"option {name}={value!r} is not one of its choices"
            )
        return value

    def _build_options(
        self: LoopbackDiscord,
        specs: list[dict[str, Any]],
        path: list[str],
        values: dict[str, Any],
        focused: str | None,
    ) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
        if path:
            sub = next((s for s in specs if s["name"] == path[0] and s["type"] in (1, 2)), None)
            assert sub is not None, f"no subcommand {path[0]!r}; declared: {[s['name'] for s in specs]}"
            inner, resolved = self._build_options(sub.get("options") or [], path[1:], values, focused)
            return [{"name": sub["name"], "type": sub["type"], "options": inner}], resolved
        assert not any(s["type"] in (1, 2) for s in specs), (
            "this command has subcommands: invoke it as 'command sub'"
        )
        by_name = {s["name"]: s for s in specs}
        options: list[dict[str, Any]] = []
        resolved: dict[str, dict[str, Any]] = {}
        for key, value in values.items():
            spec = by_name.get(key)
            assert spec is not None, f"unknown option {key!r}; declared: {sorted(by_name)}"
            if key == focused:
                options.append({"name": key, "type": spec["type"], "value": str(value), "focused": True})
            else:
                options.append(
                    {"name": key, "type": spec["type"], "value": self._convert_option(spec, value, resolved)}
                )
        if focused is None:
            missing = [s["name"] for s in specs if s.get("required") and s["name"] not in values]
            assert not missing, f"required options missing: {missing}"
        else:
            assert focused in values, f"focused option {focused!r} must be given a (partial) value"
            assert by_name[focused].get("autocomplete"), f"option {focused!r} has no autocomplete"
        return options, resolved

    def _command_data(
        self: LoopbackDiscord, name: str, options: dict[str, Any] | None, user: FakeUser, focused: str | None
    ) -> dict[str, Any]:
        parts = name.strip().lstrip("/").split()
        cmd, scope = self._find_command(parts[0])
        self._check_permitted(cmd, user)
        opts, resolved = self._build_options(cmd.get("options") or [], parts[1:], options or {}, focused)
        data: dict[str, Any] = {
            "id": cmd["id"],
            "name": cmd["name"],
            "type": cmd.get("type", 1),
            "options": opts,
        }
        if resolved:
            data["resolved"] = resolved
        if scope is not None:
            data["guild_id"] = str(scope)
        return data

    async def _dispatch_interaction(
        self: LoopbackDiscord,
        itype: int,
        data: dict[str, Any],
        *,
        name: str,
        user: FakeUser,
        channel: str | int,
        locale: str,
        message: dict[str, Any] | None = None,
        component_message_id: int | None = None,
    ) -> InteractionHandle:
        ch = self.guild.channel(channel)
        iid = snowflake()
        token = f"loopback-{iid}-{secrets.token_urlsafe(16)}"
        bot_perms = self.guild.permissions_in(self.bot, ch)
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "guild_id": str(self.guild.id),
            "guild": {"id": str(self.guild.id), "locale": "en-US", "features": []},
            "channel_id": str(ch.id),
            "channel": {**ch.payload(), "permissions": str(self.guild.permissions_in(user, ch))},
            "member": self.guild.interaction_member_payload(user),
            "token": token,
            "version": 1,
            "app_permissions": str(bot_perms),
            "locale": locale,
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(self.guild.id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if ch.is_dm:  # a button under a DM: no guild, the user instead of a member, the bot-DM context
            for key in ("guild_id", "guild", "member"):
                payload.pop(key)
            payload.update(user=user.user_payload(), channel=ch.payload(), context=1,
                           authorizing_integration_owners={"0": "0"})  # fmt: skip
        if message is not None:
            payload["message"] = copy.deepcopy(message)
        h = InteractionHandle(
            server=self,
            id=iid,
            token=token,
            type=itype,
            name=name,
            user_id=user.id,
            channel_id=ch.id,
            payload=payload,
            dispatched_at=time.monotonic(),
            component_message_id=component_message_id,
        )
        self.interactions[iid] = h
        self._by_token[token] = h
        h.dispatched_at = time.monotonic()
        delivered = await self.dispatch("INTERACTION_CREATE", payload)
        if not delivered:
            raise AssertionError("loopback: no gateway session is connected to receive the interaction")
        await self._notify()
        return h

    async def invoke_command(
        self: LoopbackDiscord,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: str | int = "alice",
        channel: str | int = "general",
        locale: str = "en-US",
    ) -> InteractionHandle:
        """A member runs a slash command (INTERACTION_CREATE type 2). ``name`` may be "cmd" or "cmd sub".

        Options are typed from the synced payload (users, channels and roles may be given by name and are
        put in ``data.resolved``). Raises CommandNotSynced for a command the bot never synced and
        CommandNotPermitted when the member lacks ``default_member_permissions`` (unless
        ``permissions_override``). Returns immediately; wait with ``handle.wait_done()``."""
        member = self.guild.member(user)
        data = self._command_data(name, options, member, None)
        return await self._dispatch_interaction(
            2, data, name=name, user=member, channel=channel, locale=locale
        )

    async def autocomplete(
        self: LoopbackDiscord,
        name: str,
        options: dict[str, Any],
        focused_option: str,
        *,
        user: str | int = "alice",
        channel: str | int = "general",
        locale: str = "en-US",
        timeout: float = 5.0,
    ) -> list[dict[str, Any]]:
        """Types into ``focused_option`` (INTERACTION_CREATE type 4) and returns the choices the bot answered.
        Raises InteractionFailed if the bot's answer was refused (e.g. more than 25 choices)."""
        member = self.guild.member(user)
        data = self._command_data(name, options, member, focused_option)
        h = await self._dispatch_interaction(4, data, name=name, user=member, channel=channel, locale=locale)
        await self.wait_for(
            lambda: h.ack is not None or h.errors, timeout, what=f"autocomplete of /{name}", about=h
        )
        if h.ack is None:
            raise InteractionFailed(f"autocomplete answer refused: {[e.body for e in h.errors]}")
        self.last_autocomplete = h
        return list(h.choices or [])

    def _message_for_component(self: LoopbackDiscord, message: dict[str, Any] | int | str) -> dict[str, Any]:
        mid = int(message["id"]) if isinstance(message, dict) else int(message)
        msg = self.messages.get(mid)
        assert msg is not None, f"message {mid} does not exist (deleted, or never sent)"
        assert msg["author"]["id"] == str(self.bot.id), "components can only be used on the bot's messages"
        return msg

    @staticmethod
    def _find_component(components: list[dict[str, Any]], custom_id: str) -> dict[str, Any] | None:
        for comp in components:
            if comp.get("custom_id") == custom_id:
                return comp
            for key in ("accessory", "component"):
                child = comp.get(key)
                if isinstance(child, dict) and child.get("custom_id") == custom_id:
                    return child
            found = InteractionsMixin._find_component(comp.get("components") or [], custom_id)
            if found is not None:
                return found
        return None

    async def click_button(
        self: LoopbackDiscord,
        message: dict[str, Any] | int | str,
        custom_id: str,
        *,
        user: str | int = "alice",
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Clicks a button on a bot message (INTERACTION_CREATE type 3, ``message`` = its current state), in
        the member's ``locale``. Acknowledge it with 4 (a message), 5, 6 (nothing visible) or 7 (edit it)."""
        msg = self._message_for_component(message)
        comp = self._find_component(msg.get("components") or [], custom_id)
        assert comp is not None, f"no component {custom_id!r} on message {msg['id']}"
        assert comp.get("type") == 2, f"component {custom_id!r} is not a button"
        assert not comp.get("disabled"), f"button {custom_id!r} is disabled"
        member = self.guild.member(user)
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._dispatch_interaction(
            3,
            data,
            name=custom_id,
            user=member,
            channel=int(msg["channel_id"]),
            locale=locale,
            message=msg,
            component_message_id=int(msg["id"]),
        )

    async def choose(
        self: LoopbackDiscord,
        message: dict[str, Any] | int | str,
        custom_id: str,
        values: list[str],
        *,
        user: str | int = "alice",
    ) -> InteractionHandle:
        """Picks ``values`` in a string select menu on a bot message (INTERACTION_CREATE type 3)."""
        msg = self._message_for_component(message)
        comp = self._find_component(msg.get("components") or [], custom_id)
        assert comp is not None and comp.get("type") == 3, (
            f"no string select {custom_id!r} on message {msg['id']}"
        )
        allowed = [o["value"] for o in comp.get("options") or []]
        assert all(v in allowed for v in values), f"values {values} not among {allowed}"
        assert comp.get("min_values", 1) <= len(values) <= comp.get("max_values", 1), "wrong number of values"
        member = self.guild.member(user)
        data = {"custom_id": custom_id, "component_type": 3, "values": list(values)}
        return await self._dispatch_interaction(
            3,
            data,
            name=custom_id,
            user=member,
            channel=int(msg["channel_id"]),
            locale="en-US",
            message=msg,
            component_message_id=int(msg["id"]),
        )

    async def submit_modal(
        self: LoopbackDiscord,
        handle: InteractionHandle,
        values: dict[str, str],
        *,
        user: str | int | None = None,
    ) -> InteractionHandle:
        """Fills and submits the modal the bot answered ``handle`` with (INTERACTION_CREATE type 5).
        ``values`` maps text inputs' custom_ids to what the user typed."""
        modal = handle.modal
        assert modal is not None, "the bot did not answer this interaction with a modal (callback type 9)"
        unknown = set(values)
        rows: list[dict[str, Any]] = []
        for comp in modal.get("components") or []:
            inputs = [comp["component"]] if comp.get("type") == 18 else list(comp.get("components") or [])
            filled = []
            for text_input in inputs:
                if text_input.get("type") != 4:
                    continue
                cid = text_input["custom_id"]
                value = values.get(cid, "")
                unknown.discard(cid)
                assert value or not text_input.get("required", True), f"text input {cid!r} is required"
                assert len(value) <= text_input.get("max_length", 4000), f"text input {cid!r} too long"
                filled.append({"type": 4, "custom_id": cid, "value": value})
            if comp.get("type") == 18 and filled:
                rows.append({"type": 18, "id": comp.get("id", 0), "component": filled[0]})
            elif filled:
                rows.append({"type": 1, "components": filled})
        assert not unknown, f"the modal has no text inputs {sorted(unknown)}"
        member = self.guild.member(user if user is not None else handle.user_id)
        data = {"custom_id": modal["custom_id"], "components": rows}
        message = self.messages.get(handle.component_message_id or 0)
        return await self._dispatch_interaction(
            5,
            data,
            name=modal["custom_id"],
            user=member,
            channel=handle.channel_id,
            locale="en-US",
            message=message,
            component_message_id=handle.component_message_id,
        )
