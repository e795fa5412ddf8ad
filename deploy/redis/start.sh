#!/bin/sh
# redis-server with docexit's ACL users (users.acl, beside this script): the docexit user's
# password comes from $REDIS_PASSWORD, the script's arguments go on to redis-server.
#   REDIS_PASSWORD=... sh start.sh --appendonly yes
# The users reach Redis on stdin (`redis-server -`, then the arguments), so the password is on
# no command line and in no file: only its SHA-256 is, in Redis' memory.
set -eu
: "${REDIS_PASSWORD:?set REDIS_PASSWORD: the docexit Redis user password (deploy/README.md)}"
# It also goes into DOCEXIT_REDIS_URL (redis://docexit:PASSWORD@host:6379/0): URL-safe only.
case $REDIS_PASSWORD in
  *[!A-Za-z0-9._~-]*)
    echo "REDIS_PASSWORD may hold only A-Z a-z 0-9 . _ ~ - (it goes into a URL)" >&2
    exit 1 ;;
esac
if [ "${#REDIS_PASSWORD}" -lt 24 ]; then
  echo "REDIS_PASSWORD is shorter than 24 characters" >&2
  exit 1
fi
hash=$(printf '%s' "$REDIS_PASSWORD" | sha256sum | cut -d ' ' -f 1)
users=$(sed -e '/^#/d' -e '/^[[:space:]]*$/d' -e "s/@REDIS_PASSWORD_SHA256@/$hash/" \
  "$(dirname "$0")/users.acl")
exec redis-server - "$@" <<END
$users
END
