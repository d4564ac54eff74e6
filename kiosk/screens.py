"""The kiosk's Kivy screens: each copies what its view-model view says into Kivy properties (and builds
its tiles); the layout is in `kiosk/kv/<screen>.kv`. Nothing here decides anything: taps go straight to
`KioskModel`."""

from __future__ import annotations

import logging
from typing import Any

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from common.ui.widgets import TouchTile
from kiosk.viewmodels import (
    HomeView,
    KioskModel,
    PriorityView,
    ServicesView,
    ServiceView,
    TicketPhase,
    TicketView,
)

log = logging.getLogger(__name__)


class GroupTile(TouchTile):
    """A service group on the home screen: its name and how many services it has."""

    title = StringProperty("")
    subtitle = StringProperty("")


class ServiceTile(TouchTile):
    """A service in its group's list: name and standard time, or why it is closed."""

    title = StringProperty("")
    subtitle = StringProperty("")
    accepting = BooleanProperty(True)
    natural_height = NumericProperty(0)
    """The height its text needs; tiles side by side take the taller one's (`ServicesScreen`)."""


class PriorityTile(TouchTile):
    """A priority choice: a pictogram and its words."""

    kind = StringProperty("none")
    label = StringProperty("")


class DocumentLine(BoxLayout):  # type: ignore[misc]
    """One required document, as a bulleted line."""

    text = StringProperty("")


class TilePool:
    """Tiles built once and reused. A kiosk goes through the same few screens hundreds of times a
    day; building new tiles each time leaves their kv bindings on long-lived objects (the theme, the
    app) until those change, which they rarely do, so memory would creep up all day. The pool holds
    at most one tile per service (or group, choice, document) per language."""

    LIMIT = 400
    """More distinct tiles than a real office has (30 services x 2 languages, plus groups and choices);
    beyond it the pool starts again rather than grow."""

    def __init__(self) -> None:
        self._tiles: dict[Any, Any] = {}

    def get(self, key: Any, make: Any) -> Any:
        tile = self._tiles.get(key)
        if tile is None:
            if len(self._tiles) >= self.LIMIT:
                self._tiles.clear()
            tile = self._tiles[key] = make()
        if tile.parent is not None:
            tile.parent.remove_widget(tile)
        return tile


class KioskScreen(Screen):  # type: ignore[misc]
    """A screen that shows part of the model."""

    model: KioskModel | None = ObjectProperty(None, allownone=True)

    def refresh(self, model: KioskModel) -> None:
        raise NotImplementedError


class HomeScreen(KioskScreen):
    office_name = StringProperty("")
    office_name_other = StringProperty("")
    date_text = StringProperty("")
    time_text = StringProperty("")
    prompt = StringProperty("")
    empty = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: HomeView | None = None
        self._pool = TilePool()

    def refresh(self, model: KioskModel) -> None:
        view = model.home_view()
        self.office_name = view.office_name
        self.office_name_other = view.office_name_other
        self.date_text = view.date_text
        self.time_text = view.time_text
        self.prompt = view.prompt
        self.empty = not view.groups
        if self._shown is None or self._shown.groups != view.groups:
            grid = self.ids.groups
            grid.clear_widgets()
            for tile in view.groups:
                grid.add_widget(
                    self._pool.get(
                        tile,
                        lambda t=tile: Factory.GroupTile(
                            title=t.title,
                            subtitle=t.subtitle,
                            on_release=lambda _w: model.open_group(t.group),
                        ),
                    )
                )
        self._shown = view

    def update_clock(self, model: KioskModel) -> None:
        """Once a second: only the date and time change."""
        view = model.home_view()
        if view.time_text != self.time_text:
            self.time_text = view.time_text
        if view.date_text != self.date_text:
            self.date_text = view.date_text


class ServicesScreen(KioskScreen):
    title = StringProperty("")
    prompt = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: ServicesView | None = None
        self._equalize = Clock.create_trigger(self._equal_rows, -1)
        self.bind(size=self._equalize)
        self._pool = TilePool()

    def _make_tile(self, model: KioskModel, tile: Any) -> Any:
        widget = Factory.ServiceTile(
            title=tile.name,
            subtitle=tile.detail,
            accepting=tile.accepting,
            on_release=lambda _w: model.open_service(tile.code),
        )
        widget.bind(natural_height=self._equalize)
        return widget

    def _equal_rows(self, *_args: Any) -> None:
        """Tiles side by side get the same height, so the rows of the grid line up."""
        grid = self.ids.services
        tiles = list(reversed(grid.children))
        cols = max(1, int(grid.cols or 1))
        for start in range(0, len(tiles), cols):
            row = tiles[start : start + cols]
            height = max(t.natural_height for t in row)
            for tile in row:
                tile.height = height

    def refresh(self, model: KioskModel) -> None:
        view = model.services_view()
        self.title = view.title
        self.prompt = view.prompt
        if self._shown is None or self._shown.services != view.services:
            grid = self.ids.services
            grid.clear_widgets()
            for tile in view.services:
                grid.add_widget(self._pool.get(tile, lambda t=tile: self._make_tile(model, t)))
            self.ids.scroller.scroll_y = 1
        self._shown = view


class ServiceScreen(KioskScreen):
    name_text = StringProperty("")
    kind_text = StringProperty("")
    agency_text = StringProperty("")
    time_text = StringProperty("")
    documents_title = StringProperty("")
    documents = ListProperty([])
    accepting = BooleanProperty(True)
    action = StringProperty("")
    closed_title = StringProperty("")
    closed_reason = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pool = TilePool()

    def refresh(self, model: KioskModel) -> None:
        view: ServiceView | None = model.service_view()
        if view is None:
            return
        self.name_text = view.name
        self.kind_text = view.kind_text
        self.agency_text = view.agency_text
        self.time_text = view.time_text
        self.documents_title = view.documents_title
        self.accepting = view.accepting
        self.action = view.action
        self.closed_title = view.closed_title
        self.closed_reason = view.closed_reason
        if list(view.documents) != list(self.documents):
            self.documents = list(view.documents)
            box = self.ids.documents
            box.clear_widgets()
            for document in view.documents:
                box.add_widget(self._pool.get(document, lambda d=document: Factory.DocumentLine(text=d)))
            self.ids.scroller.scroll_y = 1


class PriorityScreen(KioskScreen):
    service_name = StringProperty("")
    prompt = StringProperty("")
    hint = StringProperty("")
    as_list = BooleanProperty(False)
    """Five full-width rows instead of one wide tile and four columns: in large text and on a portrait
    screen, where four columns would squeeze the words."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown: tuple[PriorityView, bool] | None = None
        self._pool = TilePool()
        self.bind(size=self._resized)

    def _resized(self, *_args: Any) -> None:
        if self.model is not None:
            self.refresh(self.model)

    def refresh(self, model: KioskModel) -> None:
        view = model.priority_view()
        self.service_name = view.service_name
        self.prompt = view.prompt
        self.hint = view.hint
        self.as_list = model.large or self.width < self.height
        shown = (view, self.as_list)
        if self._shown != shown:
            first, others = self.ids.first_choice, self.ids.other_choices
            first.clear_widgets()
            others.clear_widgets()
            for i, choice in enumerate(view.choices):
                orientation = "horizontal" if i == 0 or self.as_list else "vertical"
                tile = self._pool.get(
                    (choice, orientation),
                    lambda c=choice, o=orientation: Factory.PriorityTile(
                        kind=c.priority.value,
                        label=c.label,
                        orientation=o,
                        on_release=lambda _w: model.choose_priority(c.priority),
                    ),
                )
                (first if i == 0 and not self.as_list else others).add_widget(tile)
        self._shown = shown


class TicketScreen(KioskScreen):
    phase = StringProperty(TicketPhase.asking.value)
    heading = StringProperty("")
    number = StringProperty("")
    service_name = StringProperty("")
    priority_label = StringProperty("")
    lines = StringProperty("")
    print_text = StringProperty("")
    print_fault = BooleanProperty(False)
    done = StringProperty("")

    def refresh(self, model: KioskModel) -> None:
        view: TicketView | None = model.ticket_view()
        if view is None:
            return
        self.phase = view.phase.value
        self.heading = view.heading
        self.number = view.number
        self.service_name = view.service_name
        self.priority_label = view.priority_label
        self.lines = "\n".join(view.lines)
        self.print_text = view.print_text
        self.print_fault = view.print_fault
        self.done = view.done
