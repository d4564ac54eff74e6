"""The hall board screen: `board.kv` for the layout, this module to put a `BoardView` on it.

Tiles, last calls and waiting rows are reused between redraws (only their properties change), so a
redraw on every message costs little. Importing this module imports Kivy."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from counter_display.board_vm import BoardView, Tile
from counter_display.fonts import register_number_font
from counter_display.widgets import ThaiLine  # noqa: F401  (registers the kv class)

KV_FILE = Path(__file__).with_name("board.kv")

TILE_ASPECT = 2.3
"""Width : height a tile looks best at (a ticket number and a counter number side by side)."""

RECENT_SLOTS = 5
WAITING_SLOTS = 6

# Colours of a tile by state. Numbers to go to now are bright; those already served are calmer.
_TILE_BG = (0.06, 0.18, 0.34, 1)
_TILE_EDGE = (0.2, 0.36, 0.58, 1)
_FLASH_BG = (1, 0.77, 0, 1)
_FLASH_FG = (0.05, 0.04, 0, 1)
_CALLED_FG = (1, 1, 1, 1)
_SERVING_FG = (0.72, 0.8, 0.9, 1)
_IDLE_FG = (0.38, 0.46, 0.58, 1)
_COUNTER_FG = (1, 0.82, 0.3, 1)
_SMALL_FG = (0.72, 0.8, 0.92, 1)


def load_kv() -> None:
    """Register the number face and load board.kv (once; after `common.ui.setup()`)."""
    if str(KV_FILE) not in Builder.files:
        register_number_font()
        Builder.load_file(str(KV_FILE))


class BoardTile(BoxLayout):  # type: ignore[misc]
    u = NumericProperty(10)
    number = StringProperty("")
    counter_number = NumericProperty(0)
    service = StringProperty("")
    bg = ColorProperty(_TILE_BG)
    edge = ColorProperty(_TILE_EDGE)
    number_color = ColorProperty(_CALLED_FG)
    counter_color = ColorProperty(_COUNTER_FG)
    small_color = ColorProperty(_SMALL_FG)

    def show(self, tile: Tile, blink_on: bool) -> None:
        self.number = tile.number
        self.counter_number = tile.counter_number
        self.service = tile.service_th or tile.service_en
        lit = tile.flashing and blink_on
        if lit:
            self.bg, self.edge = _FLASH_BG, _FLASH_BG
            self.number_color = self.counter_color = self.small_color = _FLASH_FG
            return
        self.bg = _TILE_BG
        self.edge = _FLASH_BG if tile.flashing else _TILE_EDGE
        self.number_color = {"called": _CALLED_FG, "serving": _SERVING_FG}.get(tile.state, _IDLE_FG)
        self.counter_color = _COUNTER_FG if tile.state != "idle" else _IDLE_FG
        self.small_color = _SMALL_FG


class RecentRowWidget(BoxLayout):  # type: ignore[misc]
    u = NumericProperty(10)
    note = StringProperty("")
    number = StringProperty("")
    counter_number = NumericProperty(0)


class WaitingRowWidget(BoxLayout):  # type: ignore[misc]
    u = NumericProperty(10)
    prefix = StringProperty("")
    name_th = StringProperty("")
    name_en = StringProperty("")
    count = StringProperty("")


class BoardScreen(BoxLayout):  # type: ignore[misc]
    """The board. Call `show(view)` (main thread) whenever the view-model changes."""

    u = NumericProperty(10)
    office_th = StringProperty("")
    office_en = StringProperty("")
    clock = StringProperty("")
    date = StringProperty("")
    banner = StringProperty("")
    caption_th = StringProperty("")
    caption_en = StringProperty("")
    caption_live = BooleanProperty(False)
    staff_note = StringProperty("")
    waiting_title = StringProperty("รอคิว  Waiting")
    empty_text = StringProperty("")
    blink_on = BooleanProperty(True)

    def __init__(self, **kwargs: Any) -> None:
        load_kv()
        super().__init__(**kwargs)
        self._view: BoardView | None = None
        self._tiles: list[BoardTile] = []
        self._recent = [RecentRowWidget() for _ in range(RECENT_SLOTS)]
        self._waiting = [WaitingRowWidget() for _ in range(WAITING_SLOTS)]
        for row in self._recent:
            self.ids.recent.add_widget(row)
        for wrow in self._waiting:
            self.ids.waiting.add_widget(wrow)
        self.bind(size=self._on_size)
        self.ids.tiles.bind(size=lambda *_: self._arrange())

    def _on_size(self, *_args: Any) -> None:
        self.u = self.height / 100.0
        widgets: list[Any] = [*self._tiles, *self._recent, *self._waiting]
        for widget in widgets:
            widget.u = self.u
        self._arrange()

    def show(self, view: BoardView) -> None:
        self._view = view
        self.office_th, self.office_en = view.office_th, view.office_en
        self.clock = view.clock
        self.date = f"{view.date_th}   {view.date_en}"
        self.banner = f"{view.banner_th}   {view.banner_en}".strip()
        self.caption_th, self.caption_en, self.caption_live = (
            view.caption_th,
            view.caption_en,
            view.caption_live,
        )
        self.staff_note = view.staff_note
        self.waiting_title = f"รอคิว {view.waiting_total} คน  Waiting: {view.waiting_total}"
        self.empty_text = "" if view.tiles else "ยังไม่มีช่องบริการเปิด  No counter open yet"
        self._show_tiles(view)
        for row, slot in zip(self._recent, range(RECENT_SLOTS), strict=True):
            if slot < len(view.recent):
                row.number, row.counter_number = view.recent[slot].number, view.recent[slot].counter_number
            else:
                row.number, row.counter_number = "", 0
            row.note = "ยังไม่มีการเรียกคิว  No calls yet" if slot == 0 and not view.recent else ""
        rows = list(view.waiting)
        for wrow, slot in zip(self._waiting, range(WAITING_SLOTS), strict=True):
            if slot < len(rows):
                w = rows[slot]
                wrow.prefix, wrow.name_th, wrow.name_en, wrow.count = (
                    w.prefix,
                    w.name_th,
                    w.name_en,
                    str(w.waiting),
                )
            elif slot == len(rows) and view.waiting_more:
                wrow.prefix, wrow.count = "", ""
                wrow.name_th = f"และอีก {view.waiting_more} บริการ"
                wrow.name_en = f"and {view.waiting_more} more services"
            else:
                wrow.prefix = wrow.name_th = wrow.name_en = wrow.count = ""

    def set_blink(self, on: bool) -> None:
        """Flashing tiles alternate every half second."""
        self.blink_on = on
        if self._view is not None:
            for widget, tile in zip(self._tiles, self._view.tiles, strict=False):
                widget.show(tile, on)

    def _show_tiles(self, view: BoardView) -> None:
        grid = self.ids.tiles
        if len(self._tiles) != len(view.tiles):
            grid.clear_widgets()
            self._tiles = [BoardTile(u=self.u) for _ in view.tiles]
            for widget in self._tiles:
                grid.add_widget(widget)
            self._arrange()
        for widget, tile in zip(self._tiles, view.tiles, strict=True):
            widget.show(tile, self.blink_on)

    def _arrange(self) -> None:
        """Columns for the tiles: the count that makes each tile as large as it can be at TILE_ASPECT."""
        grid = self.ids.tiles
        n = max(1, len(self._tiles))
        width, height = max(1.0, grid.width), max(1.0, grid.height)
        gap = grid.spacing[0] if isinstance(grid.spacing, list | tuple) else grid.spacing
        best_cols, best_scale = 1, 0.0
        for cols in range(1, n + 1):
            rows = math.ceil(n / cols)
            tile_w = (width - gap * (cols - 1)) / cols
            tile_h = (height - gap * (rows - 1)) / rows
            scale = min(tile_w / TILE_ASPECT, tile_h)
            if scale > best_scale:
                best_cols, best_scale = cols, scale
        grid.cols = best_cols
        rows = math.ceil(n / best_cols)
        # Tiles keep their best shape; the spare room stays below them rather than stretching them.
        tile_h = min(best_scale * 1.25, (height - gap * (rows - 1)) / rows)
        for widget in self._tiles:
            widget.size_hint_y = None
            widget.height = tile_h
