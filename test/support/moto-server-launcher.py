"""moto_server, with moto's EventBridge target delivery made as cheap as AWS's.

moto 5.x builds eight jsonpath_ng parsers for every event it delivers to a
target (moto/events/utils.py, EventTemplateParser.parse: one `parse` per path
of its default input template), about 110 ms of CPU per event on this machine,
so 50 hints take moto seconds to deliver, serialized in its one process,
where EventBridge makes its first delivery attempt as soon as an event
arrives (https://docs.aws.amazon.com/eventbridge/latest/onboarding/AWS_EventBridge_Partner_Onboarding_FAQ.html, 1)
and delivers in near real time (https://aws.amazon.com/eventbridge/faqs/).
Memoizing the parse of a path string changes no answer: the parsed expression
is only read by `find`. Everything else is moto_server as installed.
"""

import functools
import sys

import jsonpath_ng.ext

# moto imports `parse` inside the function at each call, so it picks up this attribute.
jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)

from moto.server import main  # noqa: E402  (after the patch, as moto reads it at call time anyway)

if __name__ == "__main__":
    sys.argv[0] = "moto_server"
    sys.exit(main())
