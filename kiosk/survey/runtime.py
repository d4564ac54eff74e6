"""Wiring one survey terminal together: the MQTT link with its durable outbox, the catalog cache, the
counter it may stand at, and the view-model. No Kivy here: the app passes Kivy's handoff and scheduler,
tests a `HeadlessLoop`.

Files in the terminal's data directory (`{data_dir}/survey/{device_id}/`): `outbox.sqlite3` (ratings not
yet answered by the server), `catalog.json` (the last catalog: the questions), `rated.json` (numbers
rated here in the last days).

What staff see: the terminal's retained `device.status` carries `outbox_pending` (ratings waiting for
the server) and, as extra fields, `survey_sent`, `survey_refused_later` and `survey_last_refusal`
(refusals that came after the citizen had been thanked, e.g. a mistyped number while the server was
away)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from common.contract import Catalog, CounterState, DeviceStatus, Reply, SurveyResponse
from common.link import Inbound, MqttLink
from common.vocabulary import DeviceRole
from kiosk.catalog_cache import CatalogCache
from kiosk.runtime import LinkSettings, OutboxStatusChannel
from kiosk.survey.model import RatedTickets, Scheduler, SurveyHealth, SurveyModel, SurveySettings, Timer

log = logging.getLogger(__name__)

STATUS_REFRESH_S = 15.0
"""How often the outbox is counted for the device status, so staff see ratings waiting for the server."""

Task = Callable[[], None]


class LinkSurveyChannel(OutboxStatusChannel):
    """`model.SurveyChannel` over the MQTT link: ratings go through the durable outbox."""

    def __init__(self, link: MqttLink, device_id: str, role: DeviceRole, version: str) -> None:
        super().__init__(link, device_id, version)
        self.role = role
        self._health = SurveyHealth(sent=0, refused_later=0, last_refusal_code=None)

    def send(self, response: SurveyResponse) -> None:
        self.link.request(self.link.topics.survey_response(self.device_id), response)
        self.refresh_status()

    def publish_health(self, health: SurveyHealth) -> None:
        self._health = health
        self._publish()

    def status(self) -> DeviceStatus:
        h = self._health
        return DeviceStatus(
            device=self.device_id,
            role=self.role,
            online=True,
            version=self.version,
            server_reachable=None,
            outbox_pending=max(0, self._last_pending),
            survey_sent=h.sent,
            survey_refused_later=h.refused_later,
            survey_last_refusal=h.last_refusal_code,
        )


class SurveyRuntime:
    """One survey terminal: `start()` connects, `stop()` says offline and stops."""

    def __init__(
        self,
        *,
        settings: SurveySettings,
        link_settings: LinkSettings,
        data_dir: Path,
        handoff: Callable[[Task], None],
        scheduler: Scheduler,
        role: DeviceRole = DeviceRole.survey,
        fallback_catalog: Callable[[], Catalog | None] | None = None,
        version: str = "",
        resend_interval_s: float | None = None,
    ) -> None:
        self.site = link_settings.site
        self.scheduler = scheduler
        self.cache = CatalogCache(data_dir / "catalog.json")
        extra = {"resend_interval_s": resend_interval_s} if resend_interval_s is not None else {}
        self.link = MqttLink(
            host=link_settings.host,
            port=link_settings.port,
            username=link_settings.username,
            password=link_settings.password,
            site=link_settings.site,
            device_id=settings.device_id,
            role=role,
            tls_ca=link_settings.tls_ca,
            outbox_path=data_dir / "outbox.sqlite3",
            handoff=handoff,
            version=version,
            **extra,  # type: ignore[arg-type]
        )
        self.channel = LinkSurveyChannel(self.link, settings.device_id, role, version)
        catalog = self.cache.load(self.site)
        if catalog is None and fallback_catalog is not None:
            catalog = fallback_catalog()
            if catalog is not None:
                log.info("no cached catalog yet: asking the questions of the office file")
        self.model = SurveyModel(
            settings,
            channel=self.channel,
            scheduler=scheduler,
            catalog=catalog,
            rated=RatedTickets(data_dir / "rated.json", settings.days_valid),
        )
        topics = self.link.topics
        self.link.subscribe(topics.catalog(), self._on_catalog)
        self.link.subscribe(topics.survey_reply(settings.device_id), self._on_reply_topic)
        if settings.counter is not None:
            self.link.subscribe(topics.counter_state(settings.counter), self._on_counter_state)
        self.link.on_reply(self._on_reply)
        self._refresh_timer: Timer | None = None

    def start(self) -> None:
        self.channel.publish_health(self.model.health())
        self.link.start()
        self._schedule_refresh()

    def stop(self) -> None:
        if self._refresh_timer is not None:
            self._refresh_timer.cancel()
        self.link.stop()

    def _schedule_refresh(self) -> None:
        def refresh() -> None:
            try:
                self.channel.refresh_status()
            finally:
                self._schedule_refresh()

        self._refresh_timer = self.scheduler.call_later(STATUS_REFRESH_S, refresh)

    def _on_catalog(self, inbound: Inbound) -> None:
        message = inbound.decode(expect=(Catalog,))
        if not isinstance(message, Catalog):
            log.error("ignoring a catalog that cannot be read: %s", getattr(message, "reason", message))
            return
        if message.office.id != self.site:
            log.error("ignoring the catalog of office %s on site %s", message.office.id, self.site)
            return
        try:
            self.cache.save(inbound.payload)
        except OSError:
            log.exception("could not cache the catalog (the terminal still uses it)")
        self.model.set_catalog(message)

    def _on_counter_state(self, inbound: Inbound) -> None:
        message = inbound.decode(expect=(CounterState,))
        if isinstance(message, CounterState):
            self.model.on_counter_state(message)

    def _on_reply(self, reply: Reply) -> None:
        self.model.on_reply(reply)
        self.channel.refresh_status()

    def _on_reply_topic(self, inbound: Inbound) -> None:
        # Replies that settle a request reach the model through `on_reply`; this only notes the rest.
        message = inbound.decode()
        if isinstance(message, Reply) and message.request_id is None:
            reason = getattr(message, "message_en", "")
            log.error("the server could not read a rating of this terminal: %s", reason)
