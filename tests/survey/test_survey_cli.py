"""`khiu kiosk --mode survey`: the command refuses what cannot be a survey terminal, with a message that
says why, before any window opens."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import pytest

from common.paths import EXAMPLE_CONFIG
from kiosk import cli


def main(argv: Sequence[str]) -> int:
    """`khiu kiosk ...` alone (the other commands are not needed here)."""
    parser = argparse.ArgumentParser(prog="khiu")
    cli.register(parser.add_subparsers(), None)
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        ("display-1", "device display-1 is a display: the survey runs on a survey device or a kiosk"),
        ("survey-9", "no device 'survey-9' (survey terminals and kiosks: kiosk-1, survey-1)"),
    ],
)
def test_a_device_that_cannot_run_the_survey(
    device: str, expected: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KHIU_MQTT_PASSWORD", raising=False)
    code = main(["kiosk", "--mode", "survey", "--device", device, "--config", str(EXAMPLE_CONFIG)])
    assert code == 2
    assert expected in capsys.readouterr().err


def test_a_survey_device_needs_its_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KHIU_MQTT_PASSWORD", raising=False)
    code = main(["kiosk", "--mode", "survey", "--device", "survey-1", "--config", str(EXAMPLE_CONFIG)])
    assert code == 2
    assert "no MQTT password" in capsys.readouterr().err
