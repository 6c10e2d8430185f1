"""Checks the metric tests share: one-line errors that name their parameter, results that render."""

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


def assert_scalar_result_renders(result) -> dict:
    """A scalar metric result: JSON round trip, ``float()``, HTML with its value, one-row frame."""
    import json

    import pandas as pd

    record = result.to_dict()
    assert json.loads(json.dumps(record)) == record
    assert record["value"] == result.value and float(result) == result.value
    html = result._repr_html_()
    assert f"{result.value:.6g}" in html and type(result).__name__ in html
    frame = result.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 1
    assert frame["value"].iloc[0] == result.value
    return record
