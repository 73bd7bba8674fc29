#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Host test of bench/report.py, the tables of `make bench`, over canned
# guest logs of selftests/test-bench.sh: overheads are taken over the same
# kernel's unpatched loop, ratios compare tocpatch with livepatch on the
# same ftrace mode, and the plot is well-formed SVG. Prints TAP; exits
# non-zero if a case failed.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A tocpatch kernel: unpatched 20/call, ftrace 100 over, tocpatch 300 over
# (local) and 200 (global), on 1 and 10 functions, and its callback path
# 400 and 300 on 1; and a livepatch kernel
# of the same mode: unpatched 10/call, ftrace 50 over, livepatch 150 over
# (local) and 100 (global). Kernel messages
# in between, as on a real console.
cat >"$tmp/bench-icount-mprofile.log" <<'LOG'
tocpatch-bench: loop none 0 local 1 1000 20000 0
tocpatch-bench: loop none 0 global 1 1000 20000 0
[    3.000000] some kernel message
tocpatch-bench: loop ftrace 1 local 1 1000 120000 0
tocpatch-bench: loop ftrace 1 global 1 1000 120000 0
tocpatch-bench: enable tocpatch 1 5000000 1000000
tocpatch-bench: loop tocpatch 1 local 1 1000 320000 0
tocpatch-bench: loop tocpatch 1 global 1 1000 220000 0
tocpatch-bench: disable tocpatch 1 7000000
tocpatch-bench: loop tocpatch-off 1 local 1 100 2000 0
tocpatch-bench: loop tocpatch 10 local 1 100 62000 0
tocpatch-bench: loop tocpatch 10 global 1 100 22000 0
tocpatch-bench: mem enable tocpatch 1 4096 0
tocpatch-bench: mem enable tocpatch 10 40960 0
tocpatch-bench: loop tocpatch-cb 1 local 1 1000 420000 0
tocpatch-bench: loop tocpatch-cb 1 global 1 1000 320000 0
LOG
cat >"$tmp/bench-icount-livepatch.log" <<'LOG'
tocpatch-bench: loop none 0 local 1 1000 10000 0
tocpatch-bench: loop none 0 global 1 1000 10000 0
tocpatch-bench: loop ftrace 1 local 1 1000 60000 0
tocpatch-bench: loop ftrace 1 global 1 1000 60000 0
tocpatch-bench: enable livepatch 1 10000000 2000000
tocpatch-bench: loop livepatch 1 local 1 1000 160000 0
tocpatch-bench: loop livepatch 1 global 1 1000 110000 0
tocpatch-bench: disable livepatch 1 14000000
tocpatch-bench: loop livepatch 10 local 1 100 31000 0
tocpatch-bench: loop livepatch 10 global 1 100 11000 0
LOG
out=$(python3 "$top/bench/report.py" --svg "$tmp/p.svg" --commit test \
	"$tmp/bench-icount-mprofile.log" "$tmp/bench-icount-livepatch.log" 2>&1)
rc=$?

n=0 bad=0
# has NAME REGEX: one test that the report has a line matching REGEX.
has() {
	n=$((n + 1))
	if grep -qE "$2" <<<"$out"; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1 (no line matching '$2')"
		bad=$((bad + 1))
	fi
}
echo "TAP version 13"
echo "1..11"
n=$((n + 1))
if [ $rc = 0 ]; then echo "ok $n - report.py runs"; else echo "not ok $n - report.py exits $rc: $out"; bad=$((bad + 1)); fi
has "the overhead is over the same kernel's unpatched loop" \
	'^  tocpatch, mprofile +- +300 +- +200$'
has "livepatch's over its own kernel's" '^  kernel livepatch, livepatch +- +150 +- +100$'
has "per-case ratio tocpatch / livepatch" '^  ratio tocpatch / livepatch +- +2\.00 +- +2\.00$'
has "engine-work ratio (less the empty ops)" '^  ratio, less the empty ops +- +2\.00 +- +2\.00$'
has "the callback path of a kernel with direct calls" \
	'^  tocpatch, callback path, mprofile +- +400 +- +300$'
has "its ratio to livepatch" '^  ratio, callback path / livepatch +- +2\.67 +- +3\.00$'
has "K functions: overhead at 10" '^  tocpatch local, mprofile +300 +600$'
has "K functions: growth against one function" '^  tocpatch local vs its cost at 1 +1\.00 +2\.00$'
has "enable with the kernel call in brackets" \
	'^  tocpatch enable, mprofile +5\.0 \(1\.0\) +-$'
n=$((n + 1))
if python3 -c "import sys, xml.dom.minidom as m; m.parse(sys.argv[1])" "$tmp/p.svg" 2>/dev/null &&
	grep -q '<polyline' "$tmp/p.svg"; then
	echo "ok $n - the plot is SVG with lines"
else
	echo "not ok $n - the plot is not well-formed SVG with lines"
	bad=$((bad + 1))
fi
[ $bad = 0 ] || echo "$out" | sed 's/^/# /'
exit $((bad != 0))
