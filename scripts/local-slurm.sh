#!/usr/bin/env bash
# A single-node Slurm on this machine, for testing `--slurm` submissions (see .ci/slurm-test).
#
#   scripts/local-slurm.sh start   install (Debian packages slurmctld slurmd slurm-client munge, once)
#                                  and start munged, slurmctld and slurmd; returns when the node is idle
#   scripts/local-slurm.sh stop    cancel our jobs and stop the three daemons by the pids we recorded
#   scripts/local-slurm.sh status  sinfo / squeue
#
# Needs root and no init system (the daemons are started directly, never through systemd). State
# lives under $SLURM_STATE (default /tmp/attnlab-slurm): config, pids, logs, spool.
set -euo pipefail

state="${SLURM_STATE:-/tmp/attnlab-slurm}"
conf="$state/slurm.conf"
host="$(hostname -s)"

die() { echo "local-slurm: $*" >&2; exit 1; }

# Waits (at most $2 tenths of a second) until the command "$1" succeeds.
wait_for() {
  local what="$1" tenths="$2" i=0
  until eval "$what" >/dev/null 2>&1; do
    i=$((i + 1))
    [ "$i" -le "$tenths" ] || return 1
    sleep 0.1
  done
}

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null; then
    return 0
  fi
  [ "$(id -u)" = 0 ] || die "installing Slurm needs root"
  command -v apt-get >/dev/null || die "no apt-get: install slurmctld, slurmd, slurm-client and munge yourself"
  # No package script may start a daemon whose pid we would not know.
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; made_policy=1
  fi
  echo "local-slurm: installing slurmctld slurmd slurm-client munge" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >&2
  [ "$made_policy" = 0 ] || rm -f "$policy"
}

write_conf() {
  mkdir -p "$state/spool/ctld" "$state/spool/d" "$state/log"
  # The node's shape as slurmd sees it, so the node comes up idle rather than drained.
  local shape
  shape="$(slurmd -C | head -n 1 | sed 's/^NodeName=[^ ]* //; s/ *UpTime=.*//')"
  cat > "$conf" <<EOF
ClusterName=attnlab
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$state/spool/ctld
SlurmdSpoolDir=$state/spool/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
DependencyParameters=kill_invalid_depend
NodeName=$host NodeAddr=127.0.0.1 $shape State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
  install
  mkdir -p "$state"
  export SLURM_CONF="$conf"
  # munge: the key must be the munge user's, mode 0400; the socket folder does not exist without init.
  if ! alive "$state/munged.pid"; then
    chown munge:munge /etc/munge /etc/munge/munge.key 2>/dev/null || true
    chmod 0700 /etc/munge; chmod 0400 /etc/munge/munge.key
    mkdir -p /run/munge; chown munge:munge /run/munge
    runuser -u munge -- /usr/sbin/munged
    wait_for "[ -s /run/munge/munged.pid ]" 50 || die "munged did not start"
    cp /run/munge/munged.pid "$state/munged.pid"
    munge -n | unmunge >/dev/null || die "munge self-test failed"
  fi
  write_conf
  if ! alive "$state/slurmctld.pid"; then
    slurmctld -f "$conf"
    # It daemonises and returns before writing its pid file.
    wait_for "alive $state/slurmctld.pid" 100 || die "slurmctld did not start (see $state/log/slurmctld.log)"
  fi
  if ! alive "$state/slurmd.pid"; then
    slurmd -f "$conf"
    wait_for "alive $state/slurmd.pid" 100 || die "slurmd did not start (see $state/log/slurmd.log)"
  fi
  wait_for "[ \"\$(sinfo -h -n $host -o %t)\" = idle ]" 300 || { sinfo >&2 || true; die "node $host did not come up idle"; }
  echo "local-slurm: up (node $host idle); export SLURM_CONF=$conf"
}

stop() {
  export SLURM_CONF="$conf"
  if alive "$state/slurmctld.pid"; then
    scancel --user="$(id -un)" 2>/dev/null || true
  fi
  for d in slurmd slurmctld munged; do
    local f="$state/$d.pid"
    if alive "$f"; then
      local pid; pid="$(cat "$f")"
      kill -TERM "$pid"
      wait_for "! kill -0 $pid" 150 || kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
  echo "local-slurm: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) export SLURM_CONF="$conf"; sinfo; squeue ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
