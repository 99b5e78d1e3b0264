"""Importers that map other publishers' service-guide data onto our schema (through the import path)."""
