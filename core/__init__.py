"""Cross-cutting pieces: settings, logging and personal-data masking."""
