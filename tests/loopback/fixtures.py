"""Pytest fixtures for the loopback Discord. Import them into a conftest.py::

    from tests.loopback.fixtures import loopback  # noqa: F401

then ``async def test_x(loopback): ...`` gets a started :class:`LoopbackDiscord` with discord.py pointed at it.
For non-default settings use ``async with loopback_discord(ack_timeout=0.3, ...) as server:`` in the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .harness import loopback_discord
from .server import LoopbackDiscord


@pytest.fixture
async def loopback() -> AsyncIterator[LoopbackDiscord]:
    async with loopback_discord() as server:
        yield server
