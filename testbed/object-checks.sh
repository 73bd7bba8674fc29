#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side checks of the built objects that the guest tests rely on:
# object-checks.sh MODULE_DIR. Prints TAP; exit status 1 if any failed.
#  - tp_target_tail really ends in a sibling call ("b", not "bl") to
#    tp_target_add, so case (c) tests what it claims;
#  - tp_target_add has a TOC-setting global entry, so it gets a marker;
#  - the (h) replacements (asm and Rust) end in "b" to an external symbol;
#  - tocpatch's ftrace callback calls no kernel code outside its cold
#    paths (design.rst "Call flows": what makes a recursion guard on its
#    hot path unnecessary): its calls go only to our own assembly
#    routines or to its cold paths (`guarded` closures, `fell_back`), and
#    at smp_send_nmi_ipi()'s location to kernel_glue/nmi.c's notrace hook.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
mo=${1:?usage: object-checks.sh MODULE_DIR}
OBJDUMP=${CROSS}objdump
n=0 fail=0

check() { # NAME COMMAND...
	n=$((n + 1))
	if "${@:2}"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fail=$((fail + 1)); fi
}

# disasm OBJECT FUNCTION: the function's instructions with relocations.
disasm() {
	"$OBJDUMP" -dr "$1" | awk -v f="<$2>:" '$2 == f { p = 1; next } /^$/ { p = 0 } p'
}

# sibling_call_to OBJECT FUNCTION TARGET: a "b" whose REL24 names TARGET.
sibling_call_to() {
	disasm "$1" "$2" | grep -A1 -E '\sb\s' | grep -qE "R_PPC64_REL24\s+$3"
}

toc_setup() {
	disasm "$1" "$2" | head -n 3 | grep -qE 'addis\s+r2,r12|ld\s+r2,-8\(r12\)'
}

# hot_calls_own_only OBJECT: every call in the callback names one of our
# shims or a cold path (a `guarded` closure, `Counters::fell_back`).
hot_calls_own_only() {
	local fn calls
	fn=$("$OBJDUMP" -t "$1" | awk '$NF ~ /tocpatch_ftrace_handler$/ { print $NF; exit }')
	[ -n "$fn" ] || return 1
	calls=$(disasm "$1" "$fn" | awk '/R_PPC64_REL24/ { print $NF }')
	[ -n "$calls" ] || return 1
	! echo "$calls" |
		grep -vqE '^tocpatch_(classify_call|pcpu_add|pcpu_pushed|nmi_send_hook)$|tocpatch_main.*(7guarded|9fell_back)'
}

t=$mo/selftests/test_modules
echo "TAP version 13"
echo "1..5"
check "tp_target_tail ends in a sibling call (b) to tp_target_add" \
	sibling_call_to "$t/test_target.o" tp_target_tail tp_target_add
check "tp_target_add has a TOC-setting global entry" \
	toc_setup "$t/test_target.o" tp_target_add
check "asm (h) replacement tail-calls tp_target_plain with b" \
	sibling_call_to "$t/test_patch_tail.o" tp_patched_tail_asm tp_target_plain
rust_fn=$("$OBJDUMP" -t "$mo/samples/rust_sample.o" | awk '/rust_tail_rust/ { print $NF; exit }')
check "Rust (h) replacement tail-calls tp_target_plain with b" \
	sibling_call_to "$mo/samples/rust_sample.o" "$rust_fn" tp_target_plain
check "the ftrace callback calls only our shims and its cold paths" \
	hot_calls_own_only "$mo/rust/tocpatch_main.o"
[ $fail = 0 ]
