#!/bin/sh
# Healthy when Redis answers PONG to the docexit user. A bare `redis-cli ping` proves nothing
# with the default user off: it prints NOAUTH and still exits 0. Arguments go to redis-cli
# (-p PORT, --tls ...). The password travels in REDISCLI_AUTH, not on the command line.
set -eu
REDISCLI_AUTH=$REDIS_PASSWORD
export REDISCLI_AUTH
[ "$(redis-cli --user docexit "$@" ping)" = PONG ]
