#!/usr/bin/env bash
# A long storm under the lifetop UI (160x50, -f '*', in a detached tmux) and lifetop --json -f '*'
# (to /dev/null) at once: every 30 s, each one's RSS, peak RSS and CPU over the last 30 s, and the
# storm's rate. Flat RSS is the criterion. Prints figures; asserts nothing.
# Usage: bench/soak.sh [SECONDS=600] [WORKERS=2]   (as root, after `make`)
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-600}; WORKERS=${2:-2}; STEP=30
OUT=build/bench; mkdir -p "$OUT"
cc -O2 -o "$OUT/storm" bench/storm.c
TCK=$(getconf CLK_TCK)
SOCK=lifetop-soak-$$
T=(tmux -L "$SOCK" -f /dev/null)
cleanup() { kill "${JSON:-}" "${STORM:-}" 2>/dev/null || true; "${T[@]}" kill-server 2>/dev/null || true; }
trap cleanup EXIT

"${T[@]}" new-session -d -x 160 -y 50 -s ui "exec ./bin/lifetop -f '*'"
UI=$("${T[@]}" display-message -p -t ui '#{pane_pid}')
./bin/lifetop --json -f '*' > /dev/null 2> "$OUT/soak-json.err" &
JSON=$!
sleep 3
"$OUT/storm" "$WORKERS" "$((DUR + STEP))" > "$OUT/soak-storm.out" &
STORM=$!

mb() { awk -v k="$2" '$1 == k":" { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
forks() { awk '/^processes/ { print $2 }' /proc/stat; }
printf "%6s %8s | %-26s | %-26s\n" "" "storm" "lifetop UI" "lifetop --json"
printf "%6s %8s | %8s %8s %8s | %8s %8s %8s\n" time "rate" RSS peak CPU RSS peak CPU
u0=$(ticks "$UI"); j0=$(ticks "$JSON"); f0=$(forks)
for ((t = STEP; t <= DUR; t += STEP)); do
  sleep "$STEP"
  u1=$(ticks "$UI"); j1=$(ticks "$JSON"); f1=$(forks)
  printf "%5ss %6.0f/s | %7sM %7sM %7.0f%% | %7sM %7sM %7.0f%%\n" "$t" "$(( (f1 - f0) / STEP ))" \
    "$(mb "$UI" VmRSS)" "$(mb "$UI" VmHWM)" "$(awk -v d=$((u1 - u0)) -v c="$TCK" -v s=$STEP 'BEGIN { print d * 100 / c / s }')" \
    "$(mb "$JSON" VmRSS)" "$(mb "$JSON" VmHWM)" "$(awk -v d=$((j1 - j0)) -v c="$TCK" -v s=$STEP 'BEGIN { print d * 100 / c / s }')"
  u0=$u1; j0=$j1; f0=$f1
done
