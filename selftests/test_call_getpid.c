// SPDX-License-Identifier: GPL-2.0
/*
 * test_call_getpid: the guest program of test-syscall.sh (the counterpart
 * of upstream's tools/testing/selftests/livepatch/test_klp-call_getpid.c).
 * It calls getpid() in a loop until a signal kills it, and checks each
 * answer against the first: a wrong answer (a replacement or a TOC gone
 * wrong in the kernel) makes it write one line and exit with status 1, so
 * a process that is still running or was killed saw only right answers.
 *
 * It needs no C library (the test bed's cross compiler has none for
 * ppc64le): it makes its system calls with "sc" and brings its own entry
 * point. Build: powerpc64le-linux-gnu-gcc -static -nostdlib -ffreestanding
 * -fno-stack-protector -O2 -o test_call_getpid test_call_getpid.c
 */

#define NR_exit_group	234
#define NR_write	4
#define NR_getpid	20

/*
 * A system call with up to three arguments: r0 holds the number, r3..r5
 * the arguments; the result comes back in r3, negated here when cr0.SO
 * says it is an error number. The kernel may change r0, r3..r12, cr0,
 * ctr and xer.
 */
static long sys3(long nr, long a, long b, long c)
{
	register long r0 __asm__("r0") = nr;
	register long r3 __asm__("r3") = a;
	register long r4 __asm__("r4") = b;
	register long r5 __asm__("r5") = c;

	__asm__ volatile("sc\n\t"
			 "bns+ 1f\n\t"
			 "neg %1, %1\n"
			 "1:"
			 : "+r"(r0), "+r"(r3), "+r"(r4), "+r"(r5)
			 :
			 : "r6", "r7", "r8", "r9", "r10", "r11", "r12",
			   "cr0", "ctr", "xer", "memory");
	return r3;
}

static void say(const char *s)
{
	long n = 0;

	while (s[n])
		n++;
	sys3(NR_write, 2, (long)s, n);
}

void start_c(void);

void __attribute__((noreturn, used)) start_c(void)
{
	long pid = sys3(NR_getpid, 0, 0, 0);

	for (;;) {
		if (sys3(NR_getpid, 0, 0, 0) != pid) {
			say("test_call_getpid: getpid() changed its answer\n");
			sys3(NR_exit_group, 1, 0, 0);
		}
	}
}

/*
 * The entry point: r1 is the initial stack (argc, argv, ...: unused), r12
 * the entry address (ELFv2), from which the TOC pointer follows. A frame
 * with a zero back chain, then start_c(), which never returns.
 */
__asm__(".text\n"
	".globl _start\n"
	".type _start, @function\n"
	"_start:\n"
	"	addis 2, 12, .TOC. - _start@ha\n"
	"	addi 2, 2, .TOC. - _start@l\n"
	"	clrrdi 1, 1, 4\n"
	"	li 0, 0\n"
	"	stdu 0, -32(1)\n"
	"	bl start_c\n"
	"	nop\n"
	"	trap\n"
	".size _start, . - _start\n");
