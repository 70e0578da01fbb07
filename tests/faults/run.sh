#!/bin/sh
# The full fault runs of docs/RELIABILITY.md, each printing one line of counts.
#
#   tests/faults/run.sh [build-dir] [what...]      what: broker nats cluster jetstream services (default: all)
#
# broker/nats: 30,000 numbered messages at 2,000/s, the server SIGKILLed 5 times (1 s down).
# cluster/jetstream: 30,000 at 2,000/s to a three-node nats-server cluster, a node SIGKILLed
# every 3 s (1 s down), round robin; jetstream: stream with 3 replicas, Nats-Msg-Id publishes.
# services: tests/faults/services_kill.py, 20 rounds of each kind (the broker outage on
# mf-broker and on nats-server; the cluster with core publishes and with --jetstream).
# Exit status: 1 when a run failed its assertion (see each line), else 0.
set -u
build=${1:-build}
[ $# -gt 0 ] && shift
what=${*:-broker nats cluster jetstream services}
here=$(dirname "$0")
faults=$build/bin/faults
[ -x "$faults" ] || { echo "run.sh: $faults not built (cmake --build $build --target faults)" >&2; exit 2; }
rc=0
for w in $what; do
    case $w in
    broker) "$faults" broker-restart --server mf-broker --msgs 30000 --rate 2000 --kills 5 --outage-ms 1000 || rc=1 ;;
    nats) "$faults" broker-restart --server nats-server --msgs 30000 --rate 2000 --kills 5 --outage-ms 1000 || rc=1 ;;
    cluster) "$faults" cluster --msgs 30000 --rate 2000 --kill-every-ms 3000 --outage-ms 1000 --min-kills 3 || rc=1 ;;
    jetstream) "$faults" cluster --jetstream --msgs 30000 --rate 2000 --kill-every-ms 3000 --outage-ms 1000 \
                   --min-kills 3 || rc=1 ;;
    services)
        for mode in campaign import; do
            python3 "$here/services_kill.py" --build "$build" --mode "$mode" --rounds 20 || rc=1
        done
        python3 "$here/services_kill.py" --build "$build" --mode broker --rounds 20 || rc=1
        python3 "$here/services_kill.py" --build "$build" --mode broker --rounds 20 --server nats-server || rc=1
        python3 "$here/services_kill.py" --build "$build" --mode cluster --rounds 20 || rc=1
        python3 "$here/services_kill.py" --build "$build" --mode cluster --jetstream --rounds 20 || rc=1 ;;
    *) echo "run.sh: unknown run '$w'" >&2; exit 2 ;;
    esac
done
exit $rc
