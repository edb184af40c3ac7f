"""Hosting's reads, for other apps and for its own views (the public surface)."""

from __future__ import annotations
