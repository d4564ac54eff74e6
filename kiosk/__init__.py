"""Khiu: the touchscreen kiosk where citizens take a queue ticket (`khiu kiosk --device kiosk-1`).

Where things are:
- `viewmodels.py`: what the kiosk shows and does, in plain Python (tested without a window);
  `texts.py` holds every word, Thai and English.
- `app.py`, `screens.py`, `kv/*.kv` (one file per screen), `pictograms.py`: the Kivy side, which only
  shows the view-model and forwards taps. Shared Thai widgets live in `common/ui/`.
- `runtime.py`: wiring of one kiosk (MQTT link, catalog cache, offline numbers, printer worker);
  `catalog_cache.py`, `offline_numbers.py`, `print_worker.py`; `ticket_image.py`, `printing.py`,
  `fonts.py`: the printed ticket.
- `headless.py`: the same model and runtime without a window (tests, benchmark scripts);
  `bench.py`: start-up, tap-to-number and memory figures (`khiu kiosk --benchmark`).
- `cli.py`: the `khiu kiosk` command.
"""
