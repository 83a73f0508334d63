from __future__ import annotations

import pytest

from gongzhi.messaging.tests.fakes import CHANNELS, FakeChannel


@pytest.fixture(autouse=True)
def fake_channels(settings):  # type: ignore[no-untyped-def]
    settings.GONGZHI_MESSAGING_CHANNELS = CHANNELS
    FakeChannel.reset()
    yield FakeChannel
    FakeChannel.reset()
