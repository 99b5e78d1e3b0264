"""Conversations: every chat message stored (masked), in order, and the browsers they are bound to.

``tables.py`` holds the transcripts (``chat_messages``) and the bindings (``conversation_bindings``);
``store.py`` writes and reads messages. The chat routes (``web/routes/chat.py``), the handoff queue
(``handoff/``) and the feedback writer (``knowledge/feedback.py``) all read the one transcript.
"""
