#!/usr/bin/env bash
# The "plain curl" alternative of bench scenario 1: one sandbox's life as a shell script would
# drive it, a curl process per request. Prints the command's output (hi).
#   curl_tti.sh HOST:PORT API_KEY
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 HOST:PORT API_KEY" >&2; exit 2; }
api="http://$1/v1"
key="OPEN-SANDBOX-API-KEY: $2"

created=$(curl -sSf -H "$key" -H 'Content-Type: application/json' -X POST "$api/sandboxes" \
  -d '{"image":{"uri":"host"},"entrypoint":["tail","-f","/dev/null"],"resourceLimits":{"cpu":"1","memory":"2Gi"},"timeout":600}')
id=$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' <<<"$created")
trap 'curl -sS -o /dev/null -H "$key" -X DELETE "$api/sandboxes/$id"' EXIT
endpoint=$(curl -sSf -H "$key" "$api/sandboxes/$id/endpoints/44772?use_server_proxy=true")
execd="http://$(sed -n 's/.*"endpoint":"\([^"]*\)".*/\1/p' <<<"$endpoint")"
token="X-EXECD-ACCESS-TOKEN: $(sed -n 's/.*"X-EXECD-ACCESS-TOKEN":"\([^"]*\)".*/\1/p' <<<"$endpoint")"
until curl -sf -o /dev/null -H "$token" "$execd/ping"; do sleep 0.002; done
curl -sSfN -H "$token" -H 'Content-Type: application/json' -X POST "$execd/command" \
  -d '{"command":"echo hi"}' | sed -n 's/.*"type":"stdout".*"text":"\([^"]*\)".*/\1/p'
