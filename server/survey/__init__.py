"""The satisfaction survey on the server side: statistics grouped by service, counter, day and fiscal
quarter (`stats`), the copy of each accepted response to the office's Google Form (`mirror`), and the
words of the citizen's phone page (`texts`).

The intake itself (a served ticket, once, within `survey.days_valid`, answers of the catalog) is the
sequencer's (`server/office.py`); everything here reads what it committed."""
