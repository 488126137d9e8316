"""The web side: REST routes, the WebSocket relay and the dashboard (`uvicorn web.app:app`)."""
