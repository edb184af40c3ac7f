"""Hosting's actions, for other apps and for its own views (the public surface)."""

from __future__ import annotations
