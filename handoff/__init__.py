"""Handoff: a ticket's life, from the citizen asking for a person to the agent closing it.

- ``status.py``: the states (:class:`~handoff.status.TicketStatus`, the strings stored), their groups and
  titles, the resolutions;
- ``tables.py``: the ``handoffs`` table;
- ``queue.py``: opening a ticket and every change of its state, each one conditional UPDATE;
- ``presence.py``: whether an agent can take over now (working hours in the bureau's time zone, consoles
  open);
- ``transcript.py``: what a ticket carries of the conversation;
- ``errors.py``: what goes wrong, without HTTP codes (``web/errors.py`` maps them).

The action server (``actions/handoff.py``) and the web app (``web/routes/chat.py``,
``web/routes/handoffs.py``, ``web/degraded.py``) both go through this package; how the agent console
shows a ticket is ``web/ticket_view.py``.
"""
