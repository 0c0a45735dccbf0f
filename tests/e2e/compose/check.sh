#!/bin/sh
# The program injector execs in docker-compose.test.yml's app services: assert what arrived.
# Values are compared by sha256 so that no value appears in a command line, a log or
# `docker inspect`. With `stay`, it then marks success in /tmp/received (the service's
# healthcheck) and waits for SIGTERM, which `docker-compose stop` sends to PID 1 (our
# bootloader) and which must be forwarded here.
fail=0
check() { # NAME SHA256
    got=$(eval "printf %s \"\${$1-}\"" | sha256sum | cut -d' ' -f1)
    if [ "$got" = "$2" ]; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi
}
check S3_SECRET   d5492e2edcca481775a213b8de44f4a358ee43df8b054ac40c95aabc38d1d3cd
check DB_PASSWORD 176b7de30bb634953aded1bb1ec3ca031135ed54b984bab57f1665a96f3f2aed
check ENVFILE_KEY 3ac2f2944e2f4afce7ccc84d5fb9484899383de28ee4df4a669695dc88494f02
check SSM_SECRET  c3eb0f73557b81a6ff0205313db06e57df1b56d2baed730e9ab3998cc5c0f9aa
check SM_PASSWORD 577bf9ad26877961e9c9f6a00f9f6c9628187b821718eeb36de3885870cbaa4a
if env | grep -q -e '^INJECTOR_' -e '^CREDENTIALS_' -e '^BUCKETSUFFIX=' -e '^STATICX' -e '^_PYI'; then
    echo "FAIL control variables reached the program"; fail=1
fi
echo "$(uname -m) uid=$(id -u) pid=$$"
[ "$fail" = 0 ] || { echo "$1: FAILED"; exit 1; }
echo "$1: all secrets received"
[ "${2-}" = stay ] || exit 0
: > /tmp/received
trap 'echo "$1: got SIGTERM"; exit 0' TERM
while :; do sleep 1 & wait $!; done
