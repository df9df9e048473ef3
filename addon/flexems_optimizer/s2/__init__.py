"""The S2 CEM (EN 50491-12-2): devices' Resource Managers describe their flexibility over a
WebSocket and join the home's plan."""
