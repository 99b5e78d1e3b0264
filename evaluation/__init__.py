"""Evaluations that drive the real running system (make eval-dialogue)."""
