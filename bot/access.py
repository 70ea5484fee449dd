"""Who may do what: Newsdesk admins (checked at run time, not only by Discord's permission gate) and the
cool-down between two questions of one member."""

from __future__ import annotations

import logging
import time

import discord
from discord import app_commands

from bot.settings import Settings

log = logging.getLogger(__name__)


class NotAdmin(app_commands.CheckFailure):
    """A member who is not a Newsdesk admin ran an admins' command; `command` says which."""

    def __init__(self, command: str):
        self.command = command
        super().__init__(f"/{command} is for Newsdesk admins")


class Access:
    """The admin rule and the question cool-down, from the settings."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._asked: dict[int, float] = {}

    def is_admin(self, user: discord.abc.User, permissions: discord.Permissions | None) -> bool:
        """Manage Server, a configured admin role, or a configured admin user (checked at run time)."""
        if user.id in self.settings.admin_user_ids:
            return True
        roles = {r.id for r in getattr(user, "roles", [])}
        if roles & set(self.settings.admin_role_ids):
            return True
        return bool(permissions and (permissions.manage_guild or permissions.administrator))

    def require_admin(self, interaction: discord.Interaction) -> bool:
        """An app-command check: True for an admin, else NotAdmin (a server owner may open a command to all)."""
        if self.is_admin(interaction.user, interaction.permissions):
            return True
        command = interaction.command.qualified_name if interaction.command else "?"
        log.warning("refused /%s for %s (%s): not an admin", command, interaction.user, interaction.user.id)
        raise NotAdmin(command)

    def cooldown_left(self, user_id: int) -> float:
        """Seconds the user must still wait; records the question when there is none to wait."""
        now = time.monotonic()
        left = self._asked.get(user_id, 0.0) + self.settings.question_cooldown - now
        if left > 0:
            return left
        self._asked[user_id] = now
        return 0.0
