#!/usr/bin/env bash
# What tracing costs: a process storm alone, then under `lifetop --json --filter '*'`
# (and libbpf-tools execsnoop when installed), alternating. Prints spawn rates, events
# received vs processes spawned, tracer CPU per 1000 processes, BPF time and drops.
# Usage: bench/overhead.sh [SECONDS=5] [WORKERS=2] [ROUNDS=2]   (as root)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}; WORKERS=${2:-2}; ROUNDS=${3:-2}
OUT=build/bench; mkdir -p "$OUT"
cc -O2 -o "$OUT/storm" bench/storm.c
TCK=$(getconf CLK_TCK)
EXECSNOOP=$(command -v execsnoop-bpfcc 2>/dev/null || ls /usr/sbin/execsnoop 2>/dev/null || true)
sysctl -qw kernel.bpf_stats_enabled=1 || true
# execsnoop attaches to syscall tracepoints, which need tracefs mounted.
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
bpf_ns() { # run_time_ns of the BPF programs process $1 holds (from fdinfo; needs bpf_stats_enabled)
  local sum=0 fd
  for fd in /proc/"$1"/fd/*; do
    [ "$(readlink "$fd")" = anon_inode:bpf-prog ] || continue
    sum=$((sum + $(awk '/^run_time_ns:/ { print $2 }' "/proc/$1/fdinfo/${fd##*/}")))
  done
  echo "$sum"
}

# run_traced NAME CMD...: start the tracer, run the storm, stop it; prints a row.
run_traced() {
  local name=$1; shift
  "$@" > "$OUT/$name.out" 2> "$OUT/$name.err" &
  local tpid=$!
  sleep 1.5 # load and attach
  local t0 b0; t0=$(cpu_ticks "$tpid"); b0=$(bpf_ns "$tpid")
  read -r spawned secs < <("$OUT/storm" "$WORKERS" "$SECS")
  sleep 0.5 # let the consumer drain
  local t1 b1; t1=$(cpu_ticks "$tpid"); b1=$(bpf_ns "$tpid")
  local ticks=$((t1 - t0)) bns=$((b1 - b0))
  kill -INT "$tpid"; wait "$tpid" || true
  local got
  if [ "$name" = lifetop ]; then got=$(grep -c '"type":"exec","time":"[^"]*","pid":[0-9]*,"ppid":[0-9]*,"uid":[0-9]*,"comm":"true"' "$OUT/$name.out" || true)
  else got=$(grep -cE '^(\S+\s+)?true\s' "$OUT/$name.out" || true); fi
  local drops; drops=$(grep -oE '(drops|kernel_ring)=[0-9]+' "$OUT/$name.err" | tail -1 | cut -d= -f2 || true)
  awk -v n="$name" -v s="$spawned" -v t="$secs" -v g="$got" -v k="$ticks" -v tck="$TCK" -v b="$bns" -v d="${drops:-n/a}" -v st="$t0" 'BEGIN {
    printf "%-10s %8.0f/s %9d %9d %6.2f%% %10.1f ms %10.1f ms %6s %8.0f ms\n", n, s / t, s, g, (s - g) * 100 / s, k * 1000 / tck * 1000 / s, b / 1e6 * 1000 / s, d, st * 1000 / tck }'
}

printf "storm: %s workers x %ss, %s rounds. user CPU and BPF time: spent during the storm, per 1000 processes\n" "$WORKERS" "$SECS" "$ROUNDS"
printf "spawned; start-up: the tracer's CPU to load and attach, before the storm (once per run).\n"
printf "%-10s %10s %9s %9s %7s %13s %13s %6s %11s\n" tracer "rate" spawned events loss "user CPU" "BPF time" drops "start-up"
for r in $(seq "$ROUNDS"); do
  read -r spawned secs < <("$OUT/storm" "$WORKERS" "$SECS")
  awk -v s="$spawned" -v t="$secs" 'BEGIN { printf "%-10s %8.0f/s %9d %9s %7s %13s %13s %6s %11s\n", "none", s / t, s, "-", "-", "-", "-", "-", "-" }'
  run_traced lifetop ./bin/lifetop --json --filter '*' --verbose
  if [ -n "$EXECSNOOP" ]; then run_traced execsnoop "$EXECSNOOP"; fi
done
[ -n "$EXECSNOOP" ] || echo "(execsnoop not installed: apt-get install libbpf-tools to compare)"
