"""What other apps may ask of the sandbox inventory: read the account's sandbox stacks again."""

from __future__ import annotations

from apps.sandboxes.inventory import refresh_inventory as refresh_inventory
