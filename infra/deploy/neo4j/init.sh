#!/bin/bash
# One-shot set-up of the cluster of compose.yaml (the neo4j-init service): waits until every
# server is enabled, creates the databases the topology names (infra/deploy/topology.json) and the
# Neo4j user the gateway connects as, then exits. Safe to run again (IF NOT EXISTS).
set -euo pipefail

address=neo4j://neo4j-p1:7687
shell() { cypher-shell -a "$address" -u neo4j -p "$NEO4J_ADMIN_PASSWORD" -d system --non-interactive "$@"; }

echo "waiting for 5 enabled servers ..."
for attempt in $(seq 1 120); do
  enabled=$(shell --format plain "SHOW SERVERS YIELD state WHERE state = 'Enabled' RETURN count(*) AS n" 2>/dev/null | tail -n 1 || true)
  if [ "$enabled" = "5" ]; then break; fi
  if [ "$attempt" = "120" ]; then echo "the cluster did not form (enabled servers: ${enabled:-none})" >&2; exit 1; fi
  sleep 5
done

# one database per shard of the topology: 3 primaries (us-east) and 2 secondaries (eu) each
shell "CREATE DATABASE \`users-us\` IF NOT EXISTS TOPOLOGY 3 PRIMARIES 2 SECONDARIES WAIT"
shell "CREATE DATABASE \`users-eu\` IF NOT EXISTS TOPOLOGY 3 PRIMARIES 2 SECONDARIES WAIT"

# the gateway's own user: reads and writes data, creates labels and property keys, nothing more
# (README, Security: "give its Neo4j user only the privileges the gateway's keys need")
case "$NEO4J_GATEWAY_PASSWORD" in
  *[!A-Za-z0-9_.+/=-]*) echo "NEO4J_GATEWAY_PASSWORD: use letters, digits and _ . + / = - only (openssl rand -hex 24)" >&2; exit 1 ;;
esac
shell --param "password => '$NEO4J_GATEWAY_PASSWORD'" \
  "CREATE USER gateway IF NOT EXISTS SET PASSWORD \$password CHANGE NOT REQUIRED"
shell "GRANT ROLE publisher TO gateway"
echo "cluster ready: databases users-us and users-eu, user gateway"
