"""Knowledge base: the service-guide schema, its store, import/export and the 一次性告知 renderer."""
