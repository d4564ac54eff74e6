"""The survey terminal's Kivy screens: each copies what its view says into Kivy properties and builds its
buttons; the layout is in `kiosk/survey/kv/<screen>.kv`. Nothing here decides anything: taps go
straight to `SurveyModel`."""

from __future__ import annotations

import logging
from typing import Any

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from common.ui.widgets import TouchTile
from kiosk.survey.model import PadView, ProfileView, QuestionView, SurveyModel

log = logging.getLogger(__name__)


class FaceButton(TouchTile):
    """One level: its face and its word. `chosen` marks the answer given before (after Back)."""

    level = NumericProperty(5)
    word = StringProperty("")
    chosen = BooleanProperty(False)
    natural_word_height = NumericProperty(0)
    """The height its word needs; the screen gives every face the tallest (`word_height`)."""
    word_height = NumericProperty(0)
    row = BooleanProperty(False)
    """Laid out as a row (face beside its word), in the column of faces of a portrait screen."""


class ChoiceButton(TouchTile):
    """One option of a demographic question."""

    label = StringProperty("")
    chosen = BooleanProperty(False)


class SurveyScreenBase(Screen):  # type: ignore[misc]
    model: SurveyModel | None = ObjectProperty(None, allownone=True)

    def refresh(self, model: SurveyModel) -> None:
        raise NotImplementedError


class PadScreen(SurveyScreenBase):
    prompt = StringProperty("")
    scan_hint = StringProperty("")
    entry = StringProperty("")
    entry_empty = BooleanProperty(True)
    notice = StringProperty("")
    digits_enabled = BooleanProperty(False)
    letters_enabled = BooleanProperty(True)
    can_delete = BooleanProperty(False)
    can_submit = BooleanProperty(False)
    ok_text = StringProperty("")
    delete_text = StringProperty("")
    clear_text = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._letters: tuple[str, ...] | None = None

    def refresh(self, model: SurveyModel) -> None:
        view: PadView = model.pad_view()
        self.prompt = view.prompt
        self.scan_hint = view.scan_hint
        self.entry = view.entry
        self.entry_empty = view.entry_empty
        self.notice = view.notice
        self.digits_enabled = view.digits_enabled
        self.letters_enabled = view.letters_enabled
        self.can_delete = view.can_delete
        self.can_submit = view.can_submit
        self.ok_text = view.ok
        self.delete_text = view.delete
        self.clear_text = view.clear
        if view.letters != self._letters:
            grid = self.ids.letters
            grid.clear_widgets()
            for letter in view.letters:
                grid.add_widget(
                    Factory.PadKey(text=letter, on_release=lambda _w, ch=letter: model.press_letter(ch))
                )
            self._letters = view.letters


class QuestionScreen(SurveyScreenBase):
    ticket = StringProperty("")
    heading = StringProperty("")
    question = StringProperty("")
    prompt = StringProperty("")
    progress = StringProperty("")
    back_text = StringProperty("")
    skip_text = StringProperty("")
    finish_text = StringProperty("")
    cancel_text = StringProperty("")
    is_overall = BooleanProperty(True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._faces: tuple[Any, ...] | None = None
        self._equalize = Clock.create_trigger(self._equal_words, -1)

    def _equal_words(self, *_args: Any) -> None:
        buttons = list(self.ids.faces.children)
        tallest = max((b.natural_word_height for b in buttons), default=0)
        for button in buttons:
            button.word_height = tallest

    def refresh(self, model: SurveyModel) -> None:
        view: QuestionView | None = model.question_view()
        if view is None:
            return
        self.ticket = view.ticket
        self.heading = view.heading
        self.question = view.question
        self.prompt = view.prompt
        self.progress = view.progress
        self.back_text = view.back
        self.skip_text = view.skip
        self.finish_text = view.finish
        self.cancel_text = view.cancel
        self.is_overall = view.is_overall
        if view.faces != self._faces:
            row = self.ids.faces
            row.clear_widgets()
            for face in view.faces:
                button = Factory.FaceButton(
                    level=face.level,
                    word=face.word,
                    chosen=face.chosen,
                    on_release=lambda _w, level=face.level: model.rate(level),
                )
                button.bind(natural_word_height=self._equalize)
                row.add_widget(button)
            self._faces = view.faces
            self._equalize()


class MoreScreen(SurveyScreenBase):
    title = StringProperty("")
    text = StringProperty("")
    yes_text = StringProperty("")
    no_text = StringProperty("")

    def refresh(self, model: SurveyModel) -> None:
        view = model.more_view()
        self.title = view.title
        self.text = view.text
        self.yes_text = view.yes
        self.no_text = view.no


class ProfileScreen(SurveyScreenBase):
    title = StringProperty("")
    hint = StringProperty("")
    question = StringProperty("")
    progress = StringProperty("")
    back_text = StringProperty("")
    skip_text = StringProperty("")
    finish_text = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._options: tuple[Any, ...] | None = None

    def refresh(self, model: SurveyModel) -> None:
        view: ProfileView | None = model.profile_view()
        if view is None:
            return
        self.title = view.title
        self.hint = view.hint
        self.question = view.question
        self.progress = view.progress
        self.back_text = view.back
        self.skip_text = view.skip
        self.finish_text = view.finish
        if view.options != self._options:
            grid = self.ids.options
            grid.clear_widgets()
            for option in view.options:
                grid.add_widget(
                    Factory.ChoiceButton(
                        label=option.label,
                        chosen=option.chosen,
                        on_release=lambda _w, oid=option.id: model.choose(oid),
                    )
                )
            self._options = view.options


class MessageScreen(SurveyScreenBase):
    kind = StringProperty("thanks")
    title = StringProperty("")
    text = StringProperty("")
    ok_text = StringProperty("")

    def refresh(self, model: SurveyModel) -> None:
        view = model.message_view()
        self.kind = view.kind
        self.title = view.title
        self.text = view.text
        self.ok_text = view.ok
