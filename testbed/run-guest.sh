#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the test guest and judge the run:
#   run-guest.sh -k VMLINUX -i INITRD -l LOG [-s SMP] [-m MEM] [-t TIMEOUT]
#                [-a EXTRA_CMDLINE] [-e "SCRIPT..."] [-I] [-v]
# The full console goes to LOG; the host shows boot progress, TAP results
# and kernel problems as they appear (everything with -v). A guest whose
# console stays silent for STALL seconds (TOCPATCH_STALL, default 180) is
# taken for hung: each vCPU's registers go to LOG.hang (qemu monitor), an
# NMI makes the kernel print its stacks, and the run ends.
# TOCPATCH_TCG_THREAD=single runs all vCPUs in one host thread (default
# multi: one thread per vCPU). -I: instruction counting for benchmarks
# (`-icount shift=0,sleep=off`: one guest ns per guest instruction, no
# real-time sleeps), which needs single-threaded TCG and takes one vCPU
# (-s is ignored). Exit status 0 when the guest finished, every
# TAP test passed, every script (and each one -e names) ran the tests its
# plan announced and exited 0 (testbed/tap-verdict.sh), and the kernel log
# shows no WARN, BUG, oops,
# lockdep or list-corruption report. The last line printed is
# "guest: N passed, N failed, N skipped", also written to LOG.verdict.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

smp=2 mem=1G timeout=600 extra="" verbose=0 kernel="" initrd="" logf="" expect="" icount=0
while getopts "k:i:l:s:m:t:a:e:Iv" o; do
	case "$o" in
	k) kernel=$OPTARG ;; i) initrd=$OPTARG ;; l) logf=$OPTARG ;;
	s) smp=$OPTARG ;; m) mem=$OPTARG ;; t) timeout=$OPTARG ;;
	a) extra=$OPTARG ;; e) expect=$OPTARG ;; v) verbose=1 ;; I) icount=1 ;;
	*) die "usage: run-guest.sh -k VMLINUX -i INITRD -l LOG [-s SMP] [-m MEM] [-t SECONDS] [-a CMDLINE] [-e SCRIPTS] [-I] [-v]" ;;
	esac
done
[ -f "$kernel" ] && [ -f "$initrd" ] && [ -n "$logf" ] || die "run-guest.sh needs -k VMLINUX -i INITRD -l LOG"
command -v qemu-system-ppc64 >/dev/null || die "qemu-system-ppc64 missing: run testbed/setup.sh"

# Kernel log lines that fail a run whatever the tests said.
PROBLEMS='cut here ---|WARNING: .* at |WARNING: CPU:|BUG:|Oops|Kernel panic|Unable to handle kernel|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|list_add corruption|list_del corruption|soft lockup|self-detected stall|blocked for more than|Bad page|refcount_t:|UBSAN|general protection'

rm -f "$logf.verdict" "$logf.hang"
stall=${TOCPATCH_STALL:-180}
accel="tcg,thread=${TOCPATCH_TCG_THREAD:-multi}" icount_opt=()
if [ "$icount" = 1 ]; then
	accel="tcg,thread=single" smp=1 icount_opt=(-icount shift=0,sleep=off)
fi
mon=$(mktemp -u "${TMPDIR:-/tmp}/tocpatch-mon.XXXXXX")
log "guest: booting $(basename "$kernel"), $smp cpus, $mem (console log: $logf)"
start=$(date +%s.%N)
filter='^(ok |not ok |TAP version|1\.\.|# |Bail out!)|tocpatch-guest:|'"$PROBLEMS"
[ $verbose = 1 ] && filter='.'
# watchdog: wait for the monitor socket, then for the console to go silent.
watchdog() {
	local size last=-1 quiet=0
	while sleep 10; do
		[ -S "$mon" ] || continue
		size=$(stat -c %s "$logf" 2>/dev/null || echo 0)
		if [ "$size" = "$last" ]; then
			quiet=$((quiet + 10))
		else
			quiet=0
			last=$size
		fi
		[ $quiet -ge "$stall" ] || continue
		log "guest: console silent for ${quiet}s: registers to $logf.hang, NMI"
		"$TESTBED_DIR/qemu-monitor.py" "$mon" "info cpus" "info registers -a" \
			>"$logf.hang" 2>&1 || true
		"$TESTBED_DIR/qemu-monitor.py" "$mon" "nmi" >/dev/null 2>&1 || true
		sleep 20
		"$TESTBED_DIR/qemu-monitor.py" "$mon" "quit" >/dev/null 2>&1 || true
		return
	done
}
watchdog &
wdog=$!
set +e
timeout --foreground -k 5 "$timeout" \
	qemu-system-ppc64 -monitor "unix:$mon,server=on,wait=off" -M pseries,x-vof=on -cpu power9 -accel "$accel" "${icount_opt[@]}" \
		-smp "$smp" -m "$mem" -nographic -vga none -nodefaults \
		-chardev stdio,id=con,mux=off,signal=off -device spapr-vty,chardev=con \
		-no-reboot -kernel "$kernel" -initrd "$initrd" \
		-append "console=hvc0 panic=-1 loglevel=8 log_buf_len=8M $extra" </dev/null 2>&1 |
	sed -u 's/\r$//' | tee "$logf" | grep --line-buffered -E "$filter" | sed -u 's/^/  | /'
rc=${PIPESTATUS[0]}
set -e
kill $wdog 2>/dev/null || true
wait $wdog 2>/dev/null || true
rm -f "$mon"
secs=$(echo "$(date +%s.%N) - $start" | bc)

fail=0
if [ -s "$logf.hang" ]; then
	log "guest: hung (console silent for ${stall}s); see $logf.hang"
	fail=1
elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	log "guest: timed out after ${timeout}s"
	fail=1
elif ! grep -q '^tocpatch-guest: done' "$logf"; then
	log "guest: did not finish (qemu exit $rc)"
	fail=1
fi
# The TAP streams: results, and each script's plan, numbering and exit
# status (testbed/tap-verdict.sh; each broken rule is one more failure).
# shellcheck disable=SC2086 # a list of script names
tv=$("$TESTBED_DIR/tap-verdict.sh" "$logf" $expect) || true
read -r np nf ns <<<"${tv:-0 1 0}"
# Any problem line fails the run. (Linux 7.3.4 itself used to WARN in
# lockdep at every boot; testbed/patches/0004-* fixes that.) lockdep must
# still be on at the end: a lockdep report turns it off for good.
probs=$(grep -E "$PROBLEMS" "$logf" || true)
if grep -q '^tocpatch-guest: lockdep at end 0' "$logf"; then
	log "guest: lockdep turned itself off during the run"
	fail=1
fi
if grep -q '^tocpatch-guest: lockdep 0' "$logf"; then
	log "guest: lockdep was already off when /init started"
	fail=1
fi
if [ -n "$probs" ]; then
	log "guest: the kernel log reports $(wc -l <<<"$probs") problem line(s):"
	head -n 10 <<<"$probs" >&2
	fail=1
fi
boot=$(sed -n 's/^tocpatch-guest: up \([0-9.]*\)s.*/\1/p' "$logf" | head -n1)
log "guest: ran ${secs%.*}s (kernel reached /init at ${boot:-?}s uptime)"
[ "$nf" = 0 ] || fail=1
[ "$np" != 0 ] || { log "guest: no test ran"; fail=1; }
echo "guest: $np passed, $nf failed, $ns skipped" | tee "$logf.verdict"
exit $fail
