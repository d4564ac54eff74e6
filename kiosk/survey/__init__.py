"""The survey terminal: `khiu kiosk --mode survey`. A citizen rates the service they just had, once per
ticket, anonymously: on a stand at the exit (the ticket number on a big pad, or the ticket's QR code
through a USB scanner), or on a tablet at a counter that asks about the ticket just completed there.

- `texts`: every word, Thai and English.
- `scanner`: a USB barcode scanner types like a keyboard; its fast burst ending with Enter becomes a
  ticket (the QR holds the ticket page's address).
- `model`: the flow as a plain view-model (no Kivy, no MQTT): pad → one-tap overall rating → optional
  questions → optional profile → the server's verdict or store-and-forward thanks.
- `runtime`: the MQTT link with its durable outbox, the catalog cache, the counter watch.
- `app`, `screens`, `kv/`: the Kivy screens; `faces`: the five faces drawn on the canvas.
- `cli`: what `khiu kiosk --mode survey` runs."""
