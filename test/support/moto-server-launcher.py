"""moto_server, with moto's EventBridge target delivery and SQS queue scans made as cheap as AWS's.

moto 5.x builds eight jsonpath_ng parsers for every event it delivers to a
target (moto/events/utils.py, EventTemplateParser.parse: one `parse` per path
of its default input template), about 110 ms of CPU per event on this machine,
so 50 hints take moto seconds to deliver, serialized in its one process,
where EventBridge makes its first delivery attempt as soon as an event
arrives (https://docs.aws.amazon.com/eventbridge/latest/onboarding/AWS_EventBridge_Partner_Onboarding_FAQ.html, 1)
and delivers in near real time (https://aws.amazon.com/eventbridge/faqs/).
Memoizing the parse of a path string changes no answer: the parsed expression
is only read by `find`.

moto's SQS reads the clock through datetime once per queued message, several
times for every message sent or received (below), so each SendMessage, and
each event EventBridge delivers to the queue, costs time in proportion to the
queue's depth: about 8 ms at a depth of 50 on this machine (under 1 ms with
the patches below), where SQS's does not depend on it. The same comparisons
against one reading of the clock per scan give the same messages and counts.

Everything else is moto_server as installed.
"""

import functools
import sys

import jsonpath_ng.ext

# moto imports `parse` inside the function at each call, so it picks up this attribute.
jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)

import moto.sqs.models  # noqa: E402
from moto.core.utils import unix_time_millis  # noqa: E402
from moto.sqs.models import Queue  # noqa: E402


def _scan(keep):
    """A Queue property listing its messages that `keep(message, now)` holds for, at one instant."""

    def messages(queue):
        now = unix_time_millis()
        return [m for m in queue._messages if keep(m, now)]

    return messages


# Message.visible and .delayed (moto/sqs/models.py) each read the clock, and moto reads a queue's
# attributes, which count its messages through them, seven times for each event EventBridge
# delivers and three times for each message received (moto's own comment on Queue.messages:
# "This can become very inefficient if a large number of messages are in-flight").
_visible = _scan(lambda m, now: now > m.visible_at and not now < m.delayed_until)
Queue.messages = property(_visible)
Queue.approximate_number_of_messages = property(lambda q: len(_visible(q)))
Queue.approximate_number_of_messages_not_visible = property(
    lambda q: len(_scan(lambda m, now: not now > m.visible_at)(q))
)
Queue.approximate_number_of_messages_delayed = property(
    lambda q: len(_scan(lambda m, now: now < m.delayed_until)(q))
)

# Each reading of a queue's attributes also converts all ~20 attribute names from camel case,
# character by character; the conversion is a function of the name alone.
moto.sqs.models.camelcase_to_underscores = functools.lru_cache(maxsize=256)(
    moto.sqs.models.camelcase_to_underscores
)

from moto.server import main  # noqa: E402  (after the patches, as moto reads them at call time anyway)

if __name__ == "__main__":
    sys.argv[0] = "moto_server"
    sys.exit(main())
