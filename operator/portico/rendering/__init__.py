"""Jinja sandbox rendering: Template skeletons and dashboard JSON."""
