"""Writes of the functions app. The console only reads a branch's functions and their
logs; the one write is the demo's log events (`make run`)."""

from __future__ import annotations

from apps.functions.demo import seed_demo_logs as seed_demo_logs
