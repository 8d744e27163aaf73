#!/usr/bin/env bash
# What tracing costs, as ONE table for the run: a fork+exec+exit storm of /bin/true (bench/storm.c)
# alone, then under lifetop --json, the lifetop UI (160x50, in a detached tmux) and, where
# installed, libbpf-tools execsnoop and exitsnoop, forkstat and a bpftrace one-liner, one after
# the other. Per tracer: storm rate, processes spawned, events received, loss, CPU per spawned
# process (the tracer's own, its BPF programs' run time, their sum and its ratio to execsnoop's),
# peak RSS, start-up CPU and (UI) the time to the first full frame. Then the table pane's frame
# cost at 50 and 50 000 rows (bench/table.js). Prints figures; asserts nothing.
# Usage: bench/overhead.sh [SECONDS=5] [WORKERS=2]   (as root; `make bench` installs the peers)
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-5}; WORKERS=${2:-2}
OUT=build/bench; mkdir -p "$OUT"
cc -O2 -o "$OUT/storm" bench/storm.c
TCK=$(getconf CLK_TCK)
TMUX_SOCK=lifetop-bench-$$
sysctl -qw kernel.bpf_stats_enabled=1 || true
# execsnoop and exitsnoop attach to tracefs tracepoints: mount it if nobody has.
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
trap 'tmux -L "$TMUX_SOCK" kill-server 2>/dev/null || true' EXIT

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
peak_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
now_ms() { date +%s%3N; }
bpf_ns() { # run_time_ns of the BPF programs process $1 holds (from fdinfo; needs bpf_stats_enabled)
  local sum=0 fd
  for fd in /proc/"$1"/fd/*; do
    [ "$(readlink "$fd" 2>/dev/null)" = anon_inode:bpf-prog ] || continue
    sum=$((sum + $(awk '/^run_time_ns:/ { print $2 }' "/proc/$1/fdinfo/${fd##*/}" 2>/dev/null || echo 0)))
  done
  echo "$sum"
}

ROWS=()
FMT="%-14s %7s %8s %8s %7s %8s %8s %8s %6s %8s %8s %7s"
row() { ROWS+=("$(printf "$FMT" "$@")"); }
EXEC_US=""
# result NAME EVENTS LOSS [FRAME]: a table row from what measure() left
result() {
  local name=$1 got=$2 loss=$3 frame=${4:--} own bpf sum ratio=-
  own=$(awk -v k="$TICKS" -v t="$TCK" -v s="$SPAWNED" 'BEGIN { printf "%.1f", k * 1e6 / t / s }')
  bpf=$(awk -v b="$BNS" -v s="$SPAWNED" 'BEGIN { printf "%.1f", b / 1e3 / s }')
  sum=$(awk -v a="$own" -v b="$bpf" 'BEGIN { printf "%.1f", a + b }')
  [ "$name" = execsnoop ] && EXEC_US=$sum
  [ -n "$EXEC_US" ] && ratio=$(awk -v a="$sum" -v b="$EXEC_US" 'BEGIN { printf "%.2fx", a / b }')
  row "$name" "$(awk -v s="$SPAWNED" -v t="$SECS" 'BEGIN { printf "%.0f/s", s / t }')" "$SPAWNED" "$got" "$loss" \
    "$own" "$bpf" "$sum" "$ratio" "$PEAK" "$START" "$frame"
}
loss_of() { awk -v s="$SPAWNED" -v g="$1" 'BEGIN { printf "%.2f%%", (s - g) * 100 / s }'; }

# measure PID: waits 1 s after ready, runs the storm; sets SPAWNED SECS TICKS BNS START PEAK
measure() {
  local pid=$1
  sleep 1 # what it does right after start (seeding) is start-up, not the storm's
  START="$(( $(cpu_ticks "$pid") * 1000 / TCK ))ms"
  local t0 b0; t0=$(cpu_ticks "$pid"); b0=$(bpf_ns "$pid")
  read -r SPAWNED SECS < <("$OUT/storm" "$WORKERS" "$DUR")
  sleep 0.5 # let the consumer drain
  TICKS=$(( $(cpu_ticks "$pid") - t0 )); BNS=$(( $(bpf_ns "$pid") - b0 ))
  PEAK="$(( $(peak_kb "$pid") / 1024 ))M"
}

# headless NAME READY_REGEX COUNT_REGEX CMD...: a tracer writing to a file; ready when stderr or stdout matches
headless() {
  local name=$1 ready=$2 count=$3; shift 3
  "$@" > "$OUT/$name.out" 2> "$OUT/$name.err" &
  local pid=$! end=$(( $(now_ms) + 20000 ))
  until grep -qE "$ready" "$OUT/$name.err" "$OUT/$name.out" 2>/dev/null || [ "$(now_ms)" -gt "$end" ]; do sleep 0.05; done
  measure "$pid"
  kill -INT "$pid"; wait "$pid" 2>/dev/null || true
  local got; got=$(grep -cE "$count" "$OUT/$name.out" || true)
  result "$name" "$got" "$(loss_of "$got")"
}

# The UI at 160x50 in a detached tmux: time to the first full frame, then the storm; loss as its status bar says.
ui() {
  local t=(tmux -L "$TMUX_SOCK" -f /dev/null)
  # The pane waits for a key, so the clock starts when lifetop does, not when tmux does.
  "${t[@]}" new-session -d -x 160 -y 50 -s ui "read x; exec ./bin/lifetop -f '*'"
  local pid; pid=$("${t[@]}" display-message -p -t ui '#{pane_pid}')
  sleep 0.3
  local t0 frame=- s; t0=$(now_ms)
  "${t[@]}" send-keys -t ui Enter
  # A full frame: the status bar, the table's header and the key hints on the bottom line.
  for _ in $(seq 1000); do
    s=$("${t[@]}" capture-pane -p -t ui)
    if grep -q ' PID ' <<< "$s" && tail -1 <<< "$s" | grep -q 'quit' && grep -qE 'lost 0|LOST|attaching' <<< "$s"; then
      frame="$(( $(now_ms) - t0 ))ms"; break
    fi
    sleep 0.005
  done
  # The status line only: with -f '*' the table and log show this very grep, 'attaching' in its args.
  for _ in $(seq 400); do s=$("${t[@]}" capture-pane -p -t ui); head -1 <<< "$s" | grep -q 'attaching' || break; sleep 0.05; done
  measure "$pid"
  local lost; lost=$("${t[@]}" capture-pane -p -t ui | grep -oE 'lost 0|LOST( [a-z]+ [0-9.kM]+)+' | head -1 || true)
  result "lifetop UI" - "$([ "$lost" = 'lost 0' ] && echo 0.00% || echo "${lost:-?}")" "$frame"
  "${t[@]}" send-keys -t ui q
  sleep 0.5
  "${t[@]}" kill-server 2>/dev/null || true
}

read -r SPAWNED SECS < <("$OUT/storm" "$WORKERS" "$DUR")
row none "$(awk -v s="$SPAWNED" -v t="$SECS" 'BEGIN { printf "%.0f/s", s / t }')" "$SPAWNED" - - - - - - - - -
EXECSNOOP=$(command -v execsnoop || ls /usr/sbin/execsnoop 2>/dev/null || true)
if [ -n "$EXECSNOOP" ]; then headless execsnoop 'PCOMM' '^true\s' "$EXECSNOOP"; fi
headless lifetop-json 'tracing' '"type":"exec","time":"[^"]*","pid":[0-9]*,"ppid":[0-9]*,"uid":[0-9]*,"comm":"true"' \
  ./bin/lifetop --json --filter '*' --verbose
ui
EXITSNOOP=$(command -v exitsnoop || ls /usr/sbin/exitsnoop 2>/dev/null || true)
if [ -n "$EXITSNOOP" ]; then headless exitsnoop 'PCOMM' '^true\s' "$EXITSNOOP"; fi
if command -v forkstat >/dev/null; then headless forkstat 'Time' ' exec .* true' forkstat -e exec; fi
if command -v bpftrace >/dev/null; then
  headless bpftrace 'Attaching' ' true$' bpftrace -e 'tracepoint:sched:sched_process_exec { printf("%d %s\n", pid, comm); }'
fi

echo "storm: $WORKERS workers x ${DUR}s of /bin/true, $(nproc) CPUs, $(uname -r), $(date -u +%Y-%m-%d)."
echo "CPU us/proc: the tracer's CPU during the storm per process spawned (own), its BPF programs' run time"
echo "(bpf), their sum (x execsnoop); start-up: its CPU until 1 s after it said it was tracing; frame: to the"
echo "first full frame of the UI. forkstat uses the proc connector (no BPF; its kernel share is not counted)."
printf "$FMT\n" tracer rate spawned events loss "own us" "bpf us" "sum us" ratio "peak RSS" start-up frame
printf '%s\n' "${ROWS[@]}"
[ -n "$EXECSNOOP" ] || echo "(execsnoop not installed: make bench-deps)"
node bench/table.js | sed 's/^/table pane: /'
