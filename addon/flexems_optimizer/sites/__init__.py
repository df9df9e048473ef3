"""The home's site kept in the add-on: its latest problem, re-planned on every change."""
