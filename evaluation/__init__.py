"""Evaluations and benchmarks: they drive the layers below — the engine (``make eval``, ``make bench``,
``make eval-external``, ``make eval-adapted``), the trained bot and the running system
(``make eval-dialogue``, ``make bench-chat``) — and change none of them."""
