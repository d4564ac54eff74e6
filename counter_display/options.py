"""What `khiu display` decided before a window opens. Plain data, no Kivy: the command checks its
arguments and files with it, then sets Kivy's environment, then imports Kivy (which reads it once)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from common.device_settings import DeviceSettings
from counter_display.announce import AnnouncementSettings


@dataclass
class DisplayOptions:
    """Everything `khiu display` decided from its arguments, the settings file and the office file."""

    mode: Literal["board", "counter"]
    mqtt: DeviceSettings
    data_dir: Path
    counter: str | None = None
    office_th: str = ""
    office_en: str = ""
    counter_th: str = ""
    counter_en: str = ""
    service_names: dict[str, tuple[str, str]] = field(default_factory=dict)
    clips: Path | None = None
    announcement: AnnouncementSettings = field(default_factory=AnnouncementSettings)
    muted: bool = False
    staff: str | None = None

    @property
    def device_dir(self) -> Path:
        return self.data_dir / "devices" / self.mqtt.device_id
