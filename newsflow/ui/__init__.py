"""``newsflow ui``: a live page over a namespace's articles and alerts, for machines without Kibana.

``queries`` builds the Elasticsearch request bodies and ``views`` shapes the responses (pure
functions, unit-tested without a server); ``stream`` serves server-sent events; ``app`` wires
the aiohttp handlers; ``static/`` is the page itself (plain HTML, CSS and JavaScript).
"""
