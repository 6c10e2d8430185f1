"""The check every metric error test shares: a one-line ConfigError that names its parameter."""

from __future__ import annotations

import pytest

from idprobe.errors import ConfigError


def config_error(parameter: str, call, *fragments: str) -> ConfigError:
    """Run ``call``; it must raise a one-line ConfigError naming ``parameter`` (and fragments)."""
    with pytest.raises(ConfigError) as info:
        call()
    message = str(info.value)
    assert info.value.parameter == parameter
    assert message.startswith(f"{parameter}: expected ")
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return info.value
