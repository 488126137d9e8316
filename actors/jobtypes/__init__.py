"""Job types; importing this package registers every one of them (one line each)."""

from actors.jobtypes import backlog, canvas, chat, lore, personas, workflow

__all__ = ["backlog", "canvas", "chat", "lore", "personas", "workflow"]
