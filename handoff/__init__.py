"""Handoff: a ticket's life, from the citizen asking for a person to the agent closing it."""
