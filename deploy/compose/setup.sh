#!/usr/bin/env bash
# The compose `setup` service (docker-compose.yml): everything the stack needs before workers
# start. Idempotent: every step may run again (`docker compose run --rm setup`).
#
#   1. wait for Elasticsearch (as `elastic`, ELASTIC_PASSWORD);
#   2. set the `kibana_system` password to KIBANA_PASSWORD, so Kibana can log in;
#   3. `newsflow bootstrap`: the Kafka topics (NEWSFLOW_PARTITIONS partitions) and the index
#      templates of deploy/elasticsearch/v8/, for NEWSFLOW_NAMESPACE;
#   4. wait for Kibana, then import deploy/kibana/*.ndjson (rendered for the namespace) in one
#      POST /api/saved_objects/_import?overwrite=true.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
deploy="$(dirname "$here")"

stackctl() { python3 "$here/stackctl.py" "$@"; }

echo "setup: namespace ${NEWSFLOW_NAMESPACE:-news}"
stackctl wait-es --timeout "${SETUP_ES_TIMEOUT:-300}"
stackctl kibana-password
newsflow bootstrap
stackctl wait-kibana --timeout "${SETUP_KIBANA_TIMEOUT:-600}"
stackctl import-kibana "$deploy"/kibana/*.ndjson
echo "setup: done"
