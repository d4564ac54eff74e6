"""Topic builders and parsers for the wire contract (DESIGN.md, "The wire contract").

Every topic is `khiu/{site}/...`; device ids are also MQTT usernames and match DEVICE_ID_PATTERN,
so they never contain `/`, `+` or `#`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from common.vocabulary import DEVICE_ID_RE

ROOT = "khiu"


def _checked(value: str, what: str) -> str:
    if not DEVICE_ID_RE.fullmatch(value):
        raise ValueError(f"{what} {value!r} must match [a-z0-9-]{{1,64}}")
    return value


@dataclass(frozen=True, slots=True)
class Topics:
    """The topics of one office."""

    site: str

    def __post_init__(self) -> None:
        _checked(self.site, "site id")

    @property
    def base(self) -> str:
        return f"{ROOT}/{self.site}"

    # server -> all, retained
    def catalog(self) -> str:
        return f"{self.base}/catalog"

    def server_status(self) -> str:
        return f"{self.base}/server/status"

    def board_state(self) -> str:
        return f"{self.base}/board/state"

    def board_call(self) -> str:
        return f"{self.base}/board/call"

    def counter_state(self, counter: str) -> str:
        return f"{self.base}/counter/{_checked(counter, 'counter id')}/state"

    # kiosk <-> server
    def ticket_request(self, kiosk: str) -> str:
        return f"{self.base}/kiosk/{_checked(kiosk, 'kiosk id')}/ticket/request"

    def ticket_offline(self, kiosk: str) -> str:
        return f"{self.base}/kiosk/{_checked(kiosk, 'kiosk id')}/ticket/offline"

    def ticket_reply(self, kiosk: str) -> str:
        return f"{self.base}/kiosk/{_checked(kiosk, 'kiosk id')}/ticket/reply"

    # survey terminal <-> server
    def survey_response(self, terminal: str) -> str:
        return f"{self.base}/survey/{_checked(terminal, 'terminal id')}/response"

    def survey_reply(self, terminal: str) -> str:
        return f"{self.base}/survey/{_checked(terminal, 'terminal id')}/reply"

    # counter <-> server
    def counter_command(self, counter: str) -> str:
        return f"{self.base}/counter/{_checked(counter, 'counter id')}/command"

    def counter_reply(self, counter: str) -> str:
        return f"{self.base}/counter/{_checked(counter, 'counter id')}/reply"

    # presence
    def device_status(self, device: str) -> str:
        return f"{self.base}/device/{_checked(device, 'device id')}/status"

    # subscriptions of the server
    def lane_subscriptions(self) -> list[str]:
        """The requests that need no order among themselves (tickets, offline tickets, ratings): the
        server may spread them over several connections. A counter's commands keep their order."""
        return [
            f"{self.base}/kiosk/+/ticket/request",
            f"{self.base}/kiosk/+/ticket/offline",
            f"{self.base}/survey/+/response",
        ]

    def lane_replies(self) -> list[str]:
        """The replies to those requests: each device's own reply topic."""
        return [f"{self.base}/kiosk/+/ticket/reply", f"{self.base}/survey/+/reply"]

    def server_subscriptions(self) -> list[str]:
        """What the server listens to: every request topic and every device's presence."""
        return [
            f"{self.base}/kiosk/+/ticket/request",
            f"{self.base}/kiosk/+/ticket/offline",
            f"{self.base}/survey/+/response",
            f"{self.base}/counter/+/command",
            f"{self.base}/device/+/status",
        ]


_REQUEST_RE = re.compile(
    r"^khiu/(?P<site>[a-z0-9-]+)/(?:"
    r"kiosk/(?P<kiosk>[a-z0-9-]+)/ticket/(?P<ticket_kind>request|offline)"
    r"|survey/(?P<terminal>[a-z0-9-]+)/response"
    r"|counter/(?P<counter>[a-z0-9-]+)/command"
    r"|device/(?P<device>[a-z0-9-]+)/status"
    r")$"
)


@dataclass(frozen=True, slots=True)
class InboundTopic:
    """What a topic the server receives on says about its sender."""

    site: str
    kind: str
    """One of `ticket.request`, `ticket.offline`, `survey.response`, `counter.command`, `device.status`."""
    sender: str
    """The kiosk, terminal, counter or device id in the topic; the broker's ACL ties it to the username."""


def parse_inbound(topic: str) -> InboundTopic | None:
    """Parse a topic the server subscribes to; None for anything else."""
    m = _REQUEST_RE.match(topic)
    if m is None:
        return None
    site = m["site"]
    if m["kiosk"]:
        return InboundTopic(site, f"ticket.{m['ticket_kind']}", m["kiosk"])
    if m["terminal"]:
        return InboundTopic(site, "survey.response", m["terminal"])
    if m["counter"]:
        return InboundTopic(site, "counter.command", m["counter"])
    return InboundTopic(site, "device.status", m["device"])
