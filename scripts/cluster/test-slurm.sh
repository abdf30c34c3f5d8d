#!/bin/bash
# Runs the Slurm recipe for real: starts a one-node Slurm (Debian's slurm-wlm,
# munge) in a temporary folder, submits scripts/cluster/grade-slurm.sbatch as
# an array of 2 tasks over SUBMISSIONS_DIR, waits, merges the two shards and
# prints the merged grades.csv; stops the daemons whatever happens.
#   scripts/cluster/test-slurm.sh SOURCE.ipynb SUBMISSIONS_DIR OUT_DIR
# Needs root (the daemons) and `make setup` done in this checkout.
set -euo pipefail
source_nb=$(realpath "$1") submissions=$(realpath "$2") out=$3
mkdir -p "$out"; out=$(realpath "$out")
here=$(cd "$(dirname "$0")/../.." && pwd)
for tool in slurmctld slurmd munged sbatch; do
  command -v $tool >/dev/null || { echo "$tool is missing: apt-get install slurm-wlm (make test installs it)" >&2; exit 2; }
done
run=$(mktemp -d /tmp/replearn-slurm.XXXXXX)
node=$(hostname -s)
conf=$run/slurm.conf
cat > "$conf" <<CONF
ClusterName=replearn-test
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
SlurmctldPort=$((20000 + RANDOM % 10000))
SlurmdPort=$((30000 + RANDOM % 10000))
StateSaveLocation=$run/state
SlurmdSpoolDir=$run/spool
SlurmctldPidFile=$run/slurmctld.pid
SlurmdPidFile=$run/slurmd.pid
SlurmctldLogFile=$run/slurmctld.log
SlurmdLogFile=$run/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName=$node CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
mkdir -p "$run/state" "$run/spool" "$run/munge"
export SLURM_CONF=$conf
cleanup() {
  local pids=()
  for daemon in slurmd slurmctld munged; do
    [ -f "$run/$daemon.pid" ] && pids+=("$(cat "$run/$daemon.pid")")
  done
  [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "${pids[@]}" 2>/dev/null || break
    sleep 0.2
  done
}
trap cleanup EXIT
munged --socket="$run/munge/socket" --pid-file="$run/munged.pid" --log-file="$run/munged.log" --seed-file="$run/munge/seed" -f
export MUNGE_SOCKET=$run/munge/socket
# slurm reads the munge socket from its auth plugin options.
sed -i "s|^AuthType=auth/munge|AuthType=auth/munge\nAuthInfo=socket=$run/munge/socket|" "$conf"
slurmctld -f "$conf"
slurmd -f "$conf"
for _ in $(seq 60); do
  sinfo -h -o %T 2>/dev/null | grep -qE '^idle' && break
  sleep 1
done
sinfo -h -o '%P %T %C' || { cat "$run"/*.log >&2; exit 1; }
cd "$here"
sbatch --wait --array=1-2 --cpus-per-task=1 --mem=0 --output="$out/slurm-%A_%a.log" \
  scripts/cluster/grade-slurm.sbatch "$source_nb" "$submissions" "$out" || { cat "$out"/slurm-*.log "$run"/*.log >&2; exit 1; }
cat "$out"/slurm-*.log
.venv/bin/replearn-grade merge --out "$out/all" "$out/shard-1" "$out/shard-2"
cat "$out/all/grades.csv"
