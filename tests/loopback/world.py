"""The fake guild: users, roles, channels, members, and permissions computed from roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .ids import snowflake

# Permission bits (https://discord.com/developers/docs/topics/permissions).
CREATE_INSTANT_INVITE = 1 << 0
KICK_MEMBERS = 1 << 1
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
CHANGE_NICKNAME = 1 << 26
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1

EVERYONE_PERMISSIONS = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)
THREAD_TYPES = (10, 11, 12)  # announcement, public and private threads
ARCHIVE_MINUTES = (60, 1440, 4320, 10080)
ADMIN_ROLE_PERMISSIONS = (
    MANAGE_GUILD | MANAGE_CHANNELS | MANAGE_MESSAGES | MENTION_EVERYONE | KICK_MEMBERS | BAN_MEMBERS
)
MODERATOR_ROLE_PERMISSIONS = MANAGE_MESSAGES | KICK_MEMBERS

JOINED_AT = "2026-01-01T00:00:00+00:00"


@dataclass
class FakeRole:
    id: int
    name: str
    permissions: int
    position: int
    mentionable: bool = False

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": False,
            "mentionable": self.mentionable,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }


@dataclass
class FakeUser:
    id: int
    name: str
    bot: bool = False
    role_ids: list[int] = field(default_factory=list)

    def user_payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": None if self.bot else self.name.capitalize(),
            "avatar": None,
            "public_flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data

    def member_payload(self, *, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.role_ids],
            "nick": None,
            "avatar": None,
            "joined_at": JOINED_AT,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user_payload()
        return data


@dataclass
class FakeChannel:
    id: int
    name: str
    guild_id: int
    position: int
    type: int = 0
    recipient: FakeUser | None = None  # a DM channel (type 1): the member on the other side
    # A thread (type 11) opened from a message: its id is the message's id, it lives in `parent`.
    parent: FakeChannel | None = None
    owner_id: int | None = None
    archive_minutes: int = 1440
    created: str = ""
    # Member overwrites (user id -> denied permission bits), as set in the channel's settings; a thread
    # follows its parent's.
    denied: dict[int, int] = field(default_factory=dict)

    @property
    def is_dm(self) -> bool:
        return self.type == 1

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    def denied_to(self, user_id: int) -> int:
        return (self.parent or self).denied.get(user_id, 0)

    def payload(self) -> dict[str, Any]:
        if self.is_dm:
            assert self.recipient is not None
            return {"id": str(self.id), "type": 1, "last_message_id": None, "flags": 0,
                    "recipients": [self.recipient.user_payload()]}  # fmt: skip
        if self.is_thread:
            assert self.parent is not None
            return {"id": str(self.id), "type": self.type, "guild_id": str(self.guild_id), "name": self.name,
                    "parent_id": str(self.parent.id), "owner_id": str(self.owner_id), "last_message_id": None,
                    "rate_limit_per_user": 0, "message_count": 0, "member_count": 1, "total_message_sent": 0,
                    "flags": 0, "thread_metadata": {"archived": False, "auto_archive_duration": self.archive_minutes,
                                                    "archive_timestamp": self.created, "locked": False,
                                                    "create_timestamp": self.created}}  # fmt: skip
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [
                {"id": str(uid), "type": 1, "allow": "0", "deny": str(bits)}
                for uid, bits in self.denied.items()
            ],
            "topic": None,
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": None,
            "flags": 0,
        }


class FakeGuild:
    """One guild with an @everyone role (id == guild id), "Admin" (Manage Server) and "Moderator" roles,
    text channels and members. Members are addressed by name ("alice") or id everywhere.

    The bot's DM channels (opened with POST /users/@me/channels) are found by ``channel("dm:alice")`` or their
    id like the guild's channels, but are no part of the guild's channel list."""

    def __init__(
        self, *, bot: FakeUser, name: str = "Loopback Guild", channels: tuple[str, ...] = ("general", "ask")
    ):
        self.id = snowflake()
        self.name = name
        self.roles: dict[str, FakeRole] = {}
        self.channels: dict[str, FakeChannel] = {}
        self.members: dict[str, FakeUser] = {}
        self.dm_channels: dict[str, FakeChannel] = {}  # by "dm:<member name>"
        self.threads: dict[int, FakeChannel] = {}  # by id (== the id of the message they were opened from)
        self.departed: dict[str, FakeUser] = {}  # members who left (remove_member)
        self.add_role("@everyone", EVERYONE_PERMISSIONS, role_id=self.id, position=0)
        self.add_role("Admin", ADMIN_ROLE_PERMISSIONS, position=2, mentionable=True)
        self.add_role("Moderator", MODERATOR_ROLE_PERMISSIONS, position=1, mentionable=True)
        for channel in channels:
            self.add_channel(channel)
        self.bot = bot
        self.members[bot.name] = bot
        owner = self.add_member("owner")
        self.owner_id = owner.id
        self.add_member("admin", roles=["Admin"])
        self.add_member("alice")
        self.add_member("bob", roles=["Moderator"])

    # ----------------------------------------------------------------- building
    def add_role(
        self,
        name: str,
        permissions: int,
        *,
        role_id: int | None = None,
        position: int | None = None,
        mentionable: bool = False,
    ) -> FakeRole:
        role = FakeRole(
            id=role_id or snowflake(),
            name=name,
            permissions=permissions,
            position=len(self.roles) if position is None else position,
            mentionable=mentionable,
        )
        self.roles[name] = role
        return role

    def add_channel(self, name: str) -> FakeChannel:
        channel = FakeChannel(id=snowflake(), name=name, guild_id=self.id, position=len(self.channels))
        self.channels[name] = channel
        return channel

    def add_member(self, name: str, *, roles: list[str] | tuple[str, ...] = ()) -> FakeUser:
        user = FakeUser(id=snowflake(), name=name, role_ids=[self.roles[r].id for r in roles])
        self.members[name] = user
        return user

    def add_thread(self, parent: FakeChannel, message_id: int, name: str, owner: FakeUser,
                   archive_minutes: int, created: str) -> FakeChannel:  # fmt: skip
        """A public thread opened from message `message_id` of `parent` (its id is the message's)."""
        thread = FakeChannel(id=message_id, name=name, guild_id=self.id, position=0, type=11, parent=parent,
                             owner_id=owner.id, archive_minutes=archive_minutes, created=created)  # fmt: skip
        self.threads[thread.id] = thread
        return thread

    def dm_channel(self, who: str | int | FakeUser) -> FakeChannel:
        """The bot's DM channel with a member (present or departed), opened on first use."""
        user = self.anyone(who)
        key = f"dm:{user.name}"
        if key not in self.dm_channels:
            self.dm_channels[key] = FakeChannel(id=snowflake(), name=key, guild_id=0, position=0, type=1,
                                                recipient=user)  # fmt: skip
        return self.dm_channels[key]

    def anyone(self, who: str | int | FakeUser) -> FakeUser:
        """A member, or a member who left, by name, id or object."""
        if isinstance(who, FakeUser):
            return who
        for user in (*self.members.values(), *self.departed.values()):
            if user.name == who or str(user.id) == str(who):
                return user
        raise KeyError(f"no user {who!r} in the loopback guild, present or departed")

    def remove_channel(self, which: str | int) -> FakeChannel:
        channel = self.channel(which)
        assert not channel.is_dm, "DM channels are not deleted"
        del self.channels[channel.name]
        return channel

    def remove_member(self, who: str | int) -> FakeUser:
        user = self.member(who)
        del self.members[user.name]
        self.departed[user.name] = user
        return user

    def set_roles(self, member: str | int, roles: list[str] | tuple[str, ...]) -> None:
        """Replaces a member's roles (by role name). Takes effect for the next dispatched event."""
        self.member(member).role_ids = [self.roles[r].id for r in roles]

    # ----------------------------------------------------------------- lookups
    def member(self, who: str | int | FakeUser) -> FakeUser:
        if isinstance(who, FakeUser):
            return who
        if isinstance(who, str) and who in self.members:
            return self.members[who]
        for user in self.members.values():
            if str(user.id) == str(who):
                return user
        raise KeyError(f"no member {who!r} in the loopback guild (known: {sorted(self.members)})")

    def find_member(self, user_id: int | str) -> FakeUser | None:
        for user in self.members.values():
            if str(user.id) == str(user_id):
                return user
        return None

    def channel(self, which: str | int | FakeChannel) -> FakeChannel:
        if isinstance(which, FakeChannel):
            return which
        if isinstance(which, str) and which in self.channels:
            return self.channels[which]
        if isinstance(which, str) and which in self.dm_channels:
            return self.dm_channels[which]
        for channel in self._all_channels():
            if str(channel.id) == str(which) or (channel.is_thread and channel.name == which):
                return channel
        raise KeyError(f"no channel {which!r} in the loopback guild (known: {sorted(self.channels)})")

    def _all_channels(self) -> tuple[FakeChannel, ...]:
        return (*self.channels.values(), *self.threads.values(), *self.dm_channels.values())

    def find_channel(self, channel_id: int | str) -> FakeChannel | None:
        for channel in self._all_channels():
            if str(channel.id) == str(channel_id):
                return channel
        return None

    def role(self, which: str | int) -> FakeRole:
        if isinstance(which, str) and which in self.roles:
            return self.roles[which]
        for role in self.roles.values():
            if str(role.id) == str(which):
                return role
        raise KeyError(f"no role {which!r} in the loopback guild")

    def find_role(self, role_id: int | str) -> FakeRole | None:
        for role in self.roles.values():
            if str(role.id) == str(role_id):
                return role
        return None

    # ------------------------------------------------------------- permissions
    def permissions_for(self, who: str | int | FakeUser) -> int:
        """Guild-level permissions as Discord computes them: @everyone | roles; owner or ADMINISTRATOR -> all.
        (A channel's overwrites: ``permissions_in``.)"""
        user = self.member(who)
        if user.id == self.owner_id:
            return ALL_PERMISSIONS
        perms = self.roles["@everyone"].permissions
        for role_id in user.role_ids:
            role = self.find_role(role_id)
            if role is not None:
                perms |= role.permissions
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        return perms

    def permissions_in(self, who: str | int | FakeUser, channel: FakeChannel) -> int:
        """Permissions in one channel: the guild's, less what the channel's member overwrite denies (the owner
        and ADMINISTRATOR are not affected by overwrites)."""
        perms = self.permissions_for(who)
        if perms == ALL_PERMISSIONS:
            return perms
        return perms & ~channel.denied_to(self.member(who).id)

    # ---------------------------------------------------------------- payloads
    def interaction_member_payload(self, who: str | int | FakeUser) -> dict[str, Any]:
        user = self.member(who)
        data = user.member_payload()
        data["permissions"] = str(self.permissions_for(user))
        return data

    def guild_create_payload(self, *, all_members: bool) -> dict[str, Any]:
        members = list(self.members.values()) if all_members else [self.bot]
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [r.payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "joined_at": JOINED_AT,
            "large": False,
            "unavailable": False,
            "member_count": len(self.members),
            "voice_states": [],
            "members": [m.member_payload() for m in members],
            "channels": [c.payload() for c in self.channels.values()],
            "threads": [t.payload() for t in self.threads.values()],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }
