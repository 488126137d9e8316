"""Job types; importing this package registers every one of them."""

from actors.jobtypes import chat

__all__ = ["chat"]
