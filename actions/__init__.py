"""rasa-sdk actions: thin adapters from the dialogue to the knowledge engine (one action a module)."""
