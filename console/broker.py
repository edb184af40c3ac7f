"""The Redis transport Celery uses, with one fault of kombu's worked around.

When a worker loses Redis while it holds unacknowledged messages (acks_late: every
build and long task), kombu closes the channel and tries to put those messages back
through a connection it has already released: an AttributeError that the worker takes
for an unrecoverable error, so it exits (kombu 5.7.0; the same trace as celery/kombu
#582 and #970). Here that restore is skipped with a warning instead: the messages stay
in Redis's unacked set, and a healthy worker restores them after the visibility timeout
(with a Redis that lost them in a restart, the sweepers queue their rows again). The
worker then reconnects as it should.
"""

from __future__ import annotations

import logging
from typing import Any

from kombu.transport import redis as kombu_redis

logger = logging.getLogger(__name__)


class QoS(kombu_redis.QoS):
    def restore_unacked(self, client: Any = None) -> Any:
        try:
            return super().restore_unacked(client)
        except AttributeError:
            logger.warning(
                "Redis connection lost with unacknowledged messages; they are left for the visibility timeout to restore"
            )
            return []


class Channel(kombu_redis.Channel):
    QoS = QoS


class Transport(kombu_redis.Transport):
    Channel = Channel
