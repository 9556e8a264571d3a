#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for `tests/slurm.rs`, CI and trying
# `ablate run --executor slurm` without a real cluster. Run as root; idempotent: it installs
# Debian's slurm-wlm and munge if missing, creates a munge key if there is none, writes
# /etc/slurm/slurm.conf (this host as the only node of a partition `debug`, no accounting
# database), starts whichever of munged, slurmctld and slurmd is not running, and waits until
# the node accepts jobs. A slurm.conf not written by this script is left alone (it exits 1).
#
#   scripts/slurm-local-cluster.sh          bring the cluster up (or check that it is up)
#   scripts/slurm-local-cluster.sh stop     stop the three daemons
set -euo pipefail

MARKER="# written by ablate's scripts/slurm-local-cluster.sh"
CONF=/etc/slurm/slurm.conf
HOST=$(hostname -s)

stop() {
    for daemon in slurmd slurmctld munged; do
        if pid=$(pgrep -x "$daemon"); then kill $pid; fi
    done
}

install() {
    local program
    for program in slurmctld slurmd munged pgrep free; do
        if ! command -v "$program" >/dev/null; then
            apt-get update -q
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge procps
            return
        fi
    done
}

start_munge() {
    if [ ! -s /etc/munge/munge.key ]; then
        mkdir -p /etc/munge
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    fi
    chown munge:munge /etc/munge /etc/munge/munge.key
    chmod 700 /etc/munge
    chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    pgrep -x munged >/dev/null || su -s /bin/sh munge -c /usr/sbin/munged
}

write_conf() {
    # Memory slurmd may report: what `free` sees, less a tenth for the system.
    local memory
    memory=$(free -m | awk '/^Mem:/ { print int($2 * 0.9) }')
    local wanted
    wanted=$(cat <<EOF
$MARKER
ClusterName=ablate
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$HOST CPUs=$(nproc) RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
)
    if [ -e "$CONF" ] && ! grep -qxF "$MARKER" "$CONF"; then
        echo "error: $CONF exists and was not written by this script; move it away to use the local cluster" >&2
        exit 1
    fi
    if [ "$(cat "$CONF" 2>/dev/null)" != "$wanted" ]; then
        mkdir -p /etc/slurm
        printf '%s\n' "$wanted" > "$CONF"
        # Daemons started with another configuration start again below.
        for daemon in slurmd slurmctld; do
            if pid=$(pgrep -x "$daemon"); then kill $pid; while kill -0 $pid 2>/dev/null; do sleep 0.2; done; fi
        done
    fi
}

start_slurm() {
    mkdir -p /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
    pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld
    pgrep -x slurmd >/dev/null || /usr/sbin/slurmd
    local state=""
    for _ in $(seq 60); do
        state=$(sinfo -h -n "$HOST" -o %T 2>/dev/null || true)
        case "$state" in
            idle*|mixed*|allocated*) echo "slurm: node $HOST is $state (partition debug)"; return ;;
            down*|drain*) scontrol update nodename="$HOST" state=resume 2>/dev/null || true ;;
        esac
        sleep 0.5
    done
    echo "error: node $HOST is not up after 30 s (state: ${state:-no answer}); see /var/log/slurm/" >&2
    exit 1
}

case "${1:-up}" in
    up) install; start_munge; write_conf; start_slurm ;;
    stop) stop ;;
    *) echo "usage: $0 [up|stop]" >&2; exit 2 ;;
esac
