"""Driving Kivy screens in tests under a virtual display (scripts/test.sh runs pytest under Xvfb).

`KivyDriver` opens the one window of the test process, advances frames, taps widgets through the real
touch path and saves screenshots to look at. Typical use in a pytest fixture::

    driver = KivyDriver.get(size=(1280, 800))
    driver.show(root_widget)
    driver.frames(3)
    driver.tap(button)
    driver.screenshot(Path("build/screenshots/app-home.png"))
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any, ClassVar

log = logging.getLogger(__name__)


class KivyDriver:
    """The test process's window. Create it once (`get`); widgets come and go with `show`/`clear`."""

    _instance: ClassVar[KivyDriver | None] = None

    def __init__(self) -> None:
        from kivy.base import EventLoop

        EventLoop.ensure_window()
        self.window: Any = EventLoop.window
        if EventLoop.status != "started":
            EventLoop.start()
        self._loop = EventLoop

    @classmethod
    def get(cls, size: tuple[int, int] | None = None) -> KivyDriver:
        if cls._instance is None:
            cls._instance = KivyDriver()
        driver = cls._instance
        if size is not None and tuple(driver.window.size) != tuple(size):
            driver.window.size = size
            driver.frames(2)
        return driver

    def show(self, widget: Any) -> None:
        """Make `widget` the only thing in the window."""
        self.clear()
        self.window.add_widget(widget)
        self.frames(2)

    def clear(self) -> None:
        for child in self.window.children[:]:
            self.window.remove_widget(child)

    def frames(self, count: int = 1) -> None:
        """Run `count` turns of the event loop: clock callbacks, layout, drawing."""
        for _ in range(count):
            self.window.canvas.ask_update()
            self._loop.idle()

    def tap(self, widget: Any, *, hold_s: float = 0.0) -> None:
        """Press and release at the centre of `widget`, as a finger would."""
        from kivy.tests.common import UnitTestTouch

        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.frames(1)
        if hold_s > 0:
            import time

            time.sleep(hold_s)
            self.frames(1)
        touch.touch_up()
        self.frames(2)

    def screenshot(self, path: Path, widget: Any = None) -> Path:
        """Draw the window now and save it as a PNG at exactly `path`.

        With `widget`, render only that widget into an offscreen buffer instead: for a window larger
        than the virtual display (a 1080x1920 portrait kiosk on a 1280x800 Xvfb)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.frames(2)
        if widget is not None:
            widget.export_to_png(str(path))
            log.info("screenshot %s", path)
            return path
        self.window.canvas.ask_update()
        self.window.dispatch("on_draw")
        with tempfile.TemporaryDirectory() as tmp:
            written = self.window.screenshot(name=str(Path(tmp) / "shot.png"))
            shutil.move(written, path)
        log.info("screenshot %s", path)
        return path
