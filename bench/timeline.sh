#!/usr/bin/env bash
# A timeline of one strata command: when each phase of a build starts and
# ends, on which thread, with the container's processes and every fsync
# (docs/performance.md, "Off the critical path"). Uprobes on strata's own
# functions and the kernel's sched/syscall tracepoints, read from tracefs:
# a few microseconds per event, so the timeline is close to a real run
# (perf trace slows every system call several times).
#
# Usage (as root): bench/timeline.sh path/to/strata ARGS...
#   bench/timeline.sh build/strata --root R build -q -t x CTX
# SWITCHES=1 adds every context switch (who had the CPU), SYSCALLS=1 every
# system call of strata's own threads (not the container's); PROBES="NAME=MANGLED
# ..." adds functions (their mangled names as `nm` shows them).
# Prints milliseconds since the exec, the thread, the event. Functions not
# found in the binary (renamed since) are said and skipped.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "timeline.sh: needs root (tracefs, uprobes)" >&2; exit 2; }
BIN=$(readlink -f "$1"); shift
T=/sys/kernel/tracing
[ -d "$T/events" ] || mount -t tracefs nodev "$T"

# Uprobes take file offsets: a symbol's address less its segment's
# (address - offset); 0 for a PIE built the usual way.
read -r off vaddr < <(readelf -lW "$BIN" | awk '$1 == "LOAD" && / E / { print $2, $3; exit }')
BASE=$((vaddr - off))
SYMS=$(nm --defined-only "$BIN" | grep -E ' [tT] ')
probe() {  # NAME MANGLED
  local a
  a=$(grep -E " $2\$" <<<"$SYMS" | head -1 | cut -d' ' -f1)
  if [ -z "$a" ]; then echo "timeline.sh: no $1 ($2) in $BIN" >&2; return; fi
  a=$(printf '0x%x' $((0x$a - BASE)))
  echo "p:strata_tl/${1}_in $BIN:$a" >>"$T/uprobe_events"
  echo "r:strata_tl/${1}_out $BIN:$a" >>"$T/uprobe_events"
}
cleanup() {
  echo 0 >"$T/tracing_on"
  for e in sched/sched_process_exec sched/sched_process_exit sched/sched_switch \
           sched/sched_process_fork syscalls/sys_enter_fsync syscalls/sys_exit_fsync syscalls strata_tl; do
    [ -e "$T/events/$e/enable" ] && echo 0 >"$T/events/$e/enable"
  done
  [ -e "$T/events/syscalls/filter" ] && echo 0 >"$T/events/syscalls/filter"
  grep -v '^p:strata_tl\|^r:strata_tl' "$T/uprobe_events" >/tmp/strata-tl-keep.$$ || true
  echo >"$T/uprobe_events"
  while read -r l; do [ -n "$l" ] && echo "$l" >>"$T/uprobe_events"; done </tmp/strata-tl-keep.$$
  rm -f /tmp/strata-tl-keep.$$
}
trap cleanup EXIT
cleanup
probe main main
probe build _ZN6strata8executor5buildERKNS0_12BuildRequestERNS_5store10ImageStoreERNS0_12ProgressSinkEPNS0_11RunExecutorE
probe summary _ZN6strata8executor19answer_from_summaryERNS0_12BuildSessionERKNS_5cache12BuildSummaryE
probe parse _ZN6strata8frontend15load_dockerfileENSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES6_
probe plan _ZN6strata7planner10plan_buildERKNS_8frontend10DockerfileERKNS0_11PlanOptionsERNS0_13ImageResolverE
probe snapshot _ZN6strata5cache16snapshot_contextERNS0_10FilesystemERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEERKNS0_15SnapshotOptionsE
probe stage _ZN6strata8executor9run_stageERNS0_12BuildSessionERKNS_7planner9StagePlanE
probe warm_up _ZN6strata8executor15ContainerRunner7warm_upERKNS_7planner7RunStepERKNSt10filesystem7__cxx114pathE
probe container _ZN6strata8executor15ContainerRunner3runERKNS0_10RunRequestE
probe unpack _ZN6strata5store10LayerStore15ensure_unpackedB5cxx11ERKNS0_6DigestES4_
probe blob_commit _ZN6strata5store12ContentStore6Writer6commitERKSt8optionalINS0_6DigestEENS1_7DirSyncE
probe export _ZN6strata8executor12_GLOBAL__N_112export_imageERNS0_12BuildSessionERKNS0_11StageResultERSt6vectorINS_5store9ReferenceESaIS9_EE
probe image_commit _ZN6strata5store10ImageStore11Transaction6commitEv
probe stale_cgroups _ZN6strata7sandbox20remove_stale_cgroupsEv
# More, as NAME=MANGLED words (nm shows the mangled names).
for p in ${PROBES:-}; do probe "${p%%=*}" "${p#*=}"; done

echo >"$T/trace"
for e in strata_tl sched/sched_process_exec sched/sched_process_exit sched/sched_process_fork \
         syscalls/sys_enter_fsync syscalls/sys_exit_fsync; do echo 1 >"$T/events/$e/enable"; done
[ "${SWITCHES:-0}" = 1 ] && echo 1 >"$T/events/sched/sched_switch/enable"
if [ "${SYSCALLS:-0}" = 1 ]; then  # every system call of strata's own threads
  echo 'comm == "strata"' >"$T/events/syscalls/filter"
  echo 1 >"$T/events/syscalls/enable"
fi
echo 1 >"$T/tracing_on"
"$BIN" "$@" >/dev/null
echo 0 >"$T/tracing_on"
# Only strata's process tree (its threads and children, followed through
# their forks), from its exec on.
grep -v '^#' "$T/trace" | awk -v bin="$BIN" '
  { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+:$/) { ts = substr($i, 1, length($i) - 1); break }
    pid = $1; sub(/.*-/, "", pid)
    ev = $(i + 1); sub(/:$/, "", ev)
    rest = ""; for (j = i + 2; j <= NF; j++) rest = rest " " $j
    if (t0 == "") {
      if (ev != "sched_process_exec" || index(rest, "filename=" bin " ") == 0) next
      t0 = ts; mine[pid] = 1
    }
    if (ev == "sched_process_fork") {
      if (match(rest, / pid=[0-9]+/)) pp = substr(rest, RSTART + 5, RLENGTH - 5)
      if (match(rest, /child_pid=[0-9]+/)) cp = substr(rest, RSTART + 10, RLENGTH - 10)
      if (pp in mine) mine[cp] = 1
      next
    }
    if (!(pid in mine)) next
    if (ev ~ /_(in|out)$/) rest = ""
    printf "%8.3f %-24s %-20s%s\n", (ts - t0) * 1000, $1, ev, substr(rest, 1, 70) }'
