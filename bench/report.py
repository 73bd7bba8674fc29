#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The tables and the plot of `make bench` (testbed/bench.sh), from the
guest console logs of selftests/test-bench.sh runs.

    report.py [--svg OUT.svg] [--commit ID] LOG...

Each LOG is named bench-KIND-FLAVOUR.log (KIND: icount or smp; FLAVOUR a
test-bed kernel flavour). The guest prints one "tocpatch-bench: ..." line
per figure (see selftests/test-bench.sh). Plain Python 3, no packages.
"""
import argparse
import math
import os
import re
import statistics
import sys
import time

# The ftrace mode of each kernel flavour, and the engine it runs.
MODE = {"mprofile": "mprofile", "livepatch": "mprofile", "nodebug": "mprofile",
        "ool": "ool", "livepatch-ool": "ool"}
CASES = [("local", "0"), ("local", "1"), ("global", "0"), ("global", "1")]
CASE_HEAD = ["local irq on", "local irq off", "global irq on", "global irq off"]


def parse(paths):
    runs = {}
    for p in paths:
        m = re.match(r"bench-(icount|smp)-(.+)\.log$", os.path.basename(p))
        if not m:
            sys.exit(f"report.py: {p}: not a bench-KIND-FLAVOUR.log")
        kind, fl = m.groups()
        r = runs.setdefault((kind, fl), {"loop": {}, "enable": {}, "disable": {},
                                         "smp": {}, "mem": {}, "kernel_enable": {},
                                         "bad": 0})
        with open(p, errors="replace") as f:
            for line in f:
                line = line.rstrip("\r\n")
                if not line.startswith("tocpatch-bench: "):
                    continue
                w = line.split()[1:]
                if w[0] == "loop":
                    eng, k, caller, irq, calls, ns, bad = w[1:8]
                    r["loop"][(eng, int(k), caller, irq)] = int(ns) / int(calls)
                    r["bad"] += int(bad)
                elif w[0] in ("enable", "disable"):
                    r[w[0]][(w[1], int(w[2]))] = int(w[3])
                    if w[0] == "enable":
                        r["kernel_enable"][(w[1], int(w[2]))] = int(w[4])
                elif w[0] == "smp":
                    eng, cpus, calls, ns = w[1], int(w[2]), int(w[3]), int(w[4])
                    r["smp"].setdefault(eng, []).append(ns / calls)
                    r["bad"] += int(w[5])
                elif w[0] == "modsize":
                    r["mem"][("modsize", w[1], 0)] = (int(w[2]), 0, 0)
                elif w[0] == "mem":
                    r["mem"][(w[1], w[2], int(w[3]))] = (int(w[4]), int(w[5]),
                                                         int(w[6]) if len(w) > 6 else 0)
    return runs


def fmt(v, width=9, prec=0):
    if v is None:
        return "-".rjust(width)
    return f"{v:{width}.{prec}f}"


def ratio(a, b):
    if a is None or b is None or b <= 0:
        return None
    return a / b


class Report:
    def __init__(self, runs, when):
        self.runs = runs
        self.when = when
        self.icount = {fl: r for (kind, fl), r in runs.items() if kind == "icount"}
        self.smp = {fl: r for (kind, fl), r in runs.items() if kind == "smp"}
        self.modes = []
        for fl in self.icount:
            if MODE.get(fl) and MODE[fl] not in self.modes:
                self.modes.append(MODE[fl])

    def flavours(self, mode):
        return [fl for fl in self.icount if MODE.get(fl) == mode]

    def overhead(self, fl, eng, k, caller, irq):
        """Instructions per call over the same kernel's unpatched call."""
        r = self.icount.get(fl)
        if not r:
            return None
        v, base = r["loop"].get((eng, k, caller, irq)), r["loop"].get(("none", 0, caller, irq))
        return None if v is None or base is None else v - base

    def engine_flavour(self, mode, eng):
        for fl in self.flavours(mode):
            if any(e == eng for (e, *_rest) in self.icount[fl]["loop"]):
                return fl
        return None

    def per_call(self, out):
        out.append("Per call, 1 function patched: guest instructions per call over the")
        out.append("unpatched call on the same kernel (qemu -icount shift=0: 1 ns = 1 instruction)")
        for mode in self.modes:
            out.append("")
            out.append(f"ftrace mode {mode}:")
            out.append(f"{'':38}" + "".join(h.split()[0].rjust(9) for h in CASE_HEAD))
            out.append(f"{'':38}" + "".join((' '.join(h.split()[1:])).rjust(9) for h in CASE_HEAD))
            for fl in self.flavours(mode):
                r = self.icount[fl]["loop"]
                out.append(f"  {'unpatched (absolute), ' + fl:36}" +
                           "".join(fmt(r.get(("none", 0, c, i)), 9, 1) for c, i in CASES))
            for fl in self.flavours(mode):
                out.append(f"  {'empty ftrace ops, ' + fl:36}" +
                           "".join(fmt(self.overhead(fl, "ftrace", 1, c, i)) for c, i in CASES))
            for eng, name in (("tocpatch", "tocpatch"),
                              ("tocpatch-cb", "tocpatch, callback path"),
                              ("livepatch", "kernel livepatch"),
                              ("direct", "ftrace direct call (limit)")):
                fl = self.engine_flavour(mode, eng)
                if fl:
                    out.append(f"  {name + ', ' + fl:36}" +
                               "".join(fmt(self.overhead(fl, eng, 1, c, i)) for c, i in CASES))
            tfl, lfl = self.engine_flavour(mode, "tocpatch"), self.engine_flavour(mode, "livepatch")
            if tfl and lfl:
                out.append(f"  {'ratio tocpatch / livepatch':36}" + "".join(
                    fmt(ratio(self.overhead(tfl, "tocpatch", 1, c, i),
                              self.overhead(lfl, "livepatch", 1, c, i)), 9, 2) for c, i in CASES))
                out.append(f"  {'ratio, less the empty ops':36}" + "".join(
                    fmt(ratio(self.sub(self.overhead(tfl, "tocpatch", 1, c, i),
                                       self.overhead(tfl, "ftrace", 1, c, i)),
                              self.sub(self.overhead(lfl, "livepatch", 1, c, i),
                                       self.overhead(lfl, "ftrace", 1, c, i))), 9, 2)
                    for c, i in CASES))
                if self.engine_flavour(mode, "tocpatch-cb") == tfl:
                    out.append(f"  {'ratio, callback path / livepatch':36}" + "".join(
                        fmt(ratio(self.overhead(tfl, "tocpatch-cb", 1, c, i),
                                  self.overhead(lfl, "livepatch", 1, c, i)), 9, 2)
                        for c, i in CASES))

    @staticmethod
    def sub(a, b):
        return None if a is None or b is None else a - b

    def counts(self):
        ks = set()
        for r in self.icount.values():
            ks.update(k for (_e, k, _c, _i) in r["loop"] if k > 0)
        return sorted(ks)

    def scaling(self, out):
        for irq in ("1", "0"):
            self.scaling_irq(out, irq)

    def scaling_irq(self, out, irq):
        ks = self.counts()
        out.append("")
        out.append("Per call with 1, 10, 100, 1000 functions patched (the loop calls one of")
        out.append("them): instructions per call over unpatched, interrupts "
                   + ("off" if irq == "1" else "on"))
        for mode in self.modes:
            out.append("")
            out.append(f"ftrace mode {mode}:")
            out.append(f"{'':38}" + "".join(f"{k:>10}" for k in ks))
            for eng in ("ftrace", "tocpatch", "livepatch"):
                for fl in self.flavours(mode):
                    if eng == "ftrace" or self.engine_flavour(mode, eng) == fl:
                        for caller in ("local", "global"):
                            vals = [self.overhead(fl, eng, k, caller, irq) for k in ks]
                            if any(v is not None for v in vals):
                                out.append(f"  {eng + ' ' + caller + ', ' + fl:36}" +
                                           "".join(fmt(v, 10) for v in vals))
            tfl, lfl = self.engine_flavour(mode, "tocpatch"), self.engine_flavour(mode, "livepatch")
            if tfl and lfl:
                for caller in ("local", "global"):
                    out.append(f"  {'ratio tocpatch/livepatch ' + caller:36}" + "".join(
                        fmt(ratio(self.overhead(tfl, "tocpatch", k, caller, irq),
                                  self.overhead(lfl, "livepatch", k, caller, irq)), 10, 2)
                        for k in ks))
            if tfl:
                for caller in ("local", "global"):
                    one = self.overhead(tfl, "tocpatch", ks[0], caller, irq) if ks else None
                    out.append(f"  {'tocpatch ' + caller + ' vs its cost at ' + str(ks[0] if ks else 1):36}" + "".join(
                        fmt(ratio(self.overhead(tfl, "tocpatch", k, caller, irq), one), 10, 2)
                        for k in ks))

    def latency(self, out):
        ks = self.counts()
        out.append("")
        out.append("Enable and disable, guest ms (enable: insmod of the patch module until")
        out.append("patched, livepatch until transition reads 0; in brackets the enable call")
        out.append("alone; disable: the write of 0 to enabled until released, livepatch until")
        out.append("transition reads 0)")
        for mode in self.modes:
            out.append("")
            out.append(f"ftrace mode {mode}:")
            out.append(f"{'':38}" + "".join(f"{k:>18}" for k in ks))
            for eng in ("ftrace", "tocpatch", "livepatch"):
                for fl in self.flavours(mode):
                    r = self.icount[fl]
                    if not any((eng, k) in r["enable"] for k in ks):
                        continue
                    if eng == "ftrace" and fl != self.flavours(mode)[0]:
                        continue
                    name = "empty ftrace ops" if eng == "ftrace" else eng

                    def en(k):
                        v = r["enable"].get((eng, k))
                        kv = r["kernel_enable"].get((eng, k))
                        if v is None:
                            return "-".rjust(18)
                        s = f"{v / 1e6:.1f}" + (f" ({kv / 1e6:.1f})" if kv else "")
                        return s.rjust(18)
                    out.append(f"  {name + ' enable, ' + fl:36}" + "".join(en(k) for k in ks))
                    out.append(f"  {name + ' disable, ' + fl:36}" + "".join(
                        fmt(r["disable"].get((eng, k), 0) / 1e6 if (eng, k) in r["disable"] else None, 18, 1)
                        for k in ks))
            tfl, lfl = self.engine_flavour(mode, "tocpatch"), self.engine_flavour(mode, "livepatch")
            if tfl and lfl:
                for what in ("enable", "disable"):
                    out.append(f"  {'ratio tocpatch/livepatch ' + what:36}" + "".join(
                        fmt(ratio(self.icount[tfl][what].get(("tocpatch", k)),
                                  self.icount[lfl][what].get(("livepatch", k))), 18, 2)
                        for k in ks))

    def concurrency(self, out):
        if not self.smp:
            return
        out.append("")
        out.append("2 vCPUs calling the same function at once (local calls, interrupts on),")
        out.append("host time (no icount: multi-threaded TCG, 2 vCPUs), ns per call of the")
        out.append("slower CPU: min / median over the runs, and the overhead over unpatched")
        for fl, r in self.smp.items():
            base = r["smp"].get("none")
            for eng, v in r["smp"].items():
                if not v:
                    continue
                mn, md = min(v), statistics.median(v)
                s = f"  {eng + ', ' + fl:36}{mn:9.1f} /{md:9.1f}  ({len(v)} runs)"
                if base and eng != "none":
                    s += f"  overhead {mn - min(base):.1f} / {md - statistics.median(base):.1f}"
                out.append(s)
        for mode in self.modes:
            t, lp = self.smp_overhead(mode, "tocpatch"), self.smp_overhead(mode, "livepatch")
            if t and lp:
                one = ratio(self.overhead(self.engine_flavour(mode, "tocpatch"), "tocpatch", 1, "local", "0"),
                            self.overhead(self.engine_flavour(mode, "livepatch"), "livepatch", 1, "local", "0"))
                out.append(f"  {'ratio tocpatch/livepatch, ' + mode:36}{fmt(ratio(t[0], lp[0]), 9, 2)} /"
                           f"{fmt(ratio(t[1], lp[1]), 9, 2)}  (one CPU, icount: {fmt(one, 4, 2).strip()})")

    def smp_overhead(self, mode, eng):
        """(min, median) ns over unpatched of ENG's 2-vCPU runs in MODE."""
        for fl, r in self.smp.items():
            if MODE.get(fl) != mode:
                continue
            v, base = r["smp"].get(eng), r["smp"].get("none")
            if v and base:
                return (min(v) - min(base), statistics.median(v) - statistics.median(base))
        return None

    def memory(self, out):
        out.append("")
        out.append("Memory: fixed, tocpatch.ko as /proc/modules counts it, and what loading")
        out.append("it took of Slab: in /proc/meminfo (whole slab pages: 64 KiB on these")
        out.append("guests, so 0 means no new page); per patched function,")
        out.append("the growth of Slab: at the enable of the largest count less that at 1,")
        out.append("over the difference (which cancels the patch module's own memory),")
        out.append("plus tocpatch's per-CPU counters, 40 bytes per CPU per function (from")
        out.append("rust/counters.rs; Percpu: in /proc/meminfo moves by whole pages: its")
        out.append(f"{self.pcpu_note()}); VmallocUsed: moves too little and")
        out.append("too lazily to attribute; livepatch is built in (its code is in the")
        out.append("kernel image, nothing allocated before a patch); per task: no allocation")
        out.append("(shadow frames live on the task's own stack: 40 bytes a frame plus an")
        out.append("8-byte header above the kernel's STACK_END_MAGIC, from the layout in")
        out.append("rust/logic/shadow.rs)")
        ks = self.counts()
        for fl, r in self.icount.items():
            for (what, eng, k), (size, _vm, _pcpu) in sorted(r["mem"].items()):
                if what == "modsize":
                    out.append(f"  {'fixed: ' + eng + '.ko, ' + fl:40}{size:>9} B")
                elif what == "load":
                    out.append(f"  {'fixed: loading ' + eng + ', ' + fl:40}{size:>9} B slab")
            if len(ks) >= 2:
                for eng in ("tocpatch", "livepatch"):
                    a, b = r["mem"].get(("enable", eng, ks[0])), r["mem"].get(("enable", eng, ks[-1]))
                    if a and b:
                        per = (b[0] - a[0]) / (ks[-1] - ks[0])
                        out.append(f"  {'per function: ' + eng + ', ' + fl:40}{per:>9.0f} B slab")

    def pcpu_note(self):
        """The largest Percpu: growth seen at any enable, as a phrase."""
        grows = [v[2] for r in self.icount.values() for (w, _e, _k), v in r["mem"].items()
                 if w in ("enable", "load")]
        return f"largest growth at a load or an enable here was {max(grows, default=0)} B"

    def text(self, commit):
        out = []
        out.append(f"tocpatch benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(self.when))}, "
                   f"commit {commit}, host {os.uname().nodename} ({os.cpu_count()} CPUs)")
        out.append("")
        self.per_call(out)
        self.scaling(out)
        self.latency(out)
        self.concurrency(out)
        self.memory(out)
        self.targets(out)
        bad = self.bad()
        if bad:
            out.append("")
            out.append(f"WRONG RESULTS: {bad} call(s) returned what the function that had to run")
            out.append("would not: the figures above are not valid")
        return "\n".join(out) + "\n"

    def bad(self):
        return sum(r["bad"] for r in self.runs.values())

    def targets(self, out):
        """The targets of the performance issue, judged on these figures."""
        res = []

        def judge(what, vals, limit):
            vals = [v for v in vals if v is not None]
            if not vals:
                return
            worst = max(vals)
            res.append(f"  {what:56}{worst:7.3f}  <= {limit:<4} "
                       + ("met" if worst <= limit else "NOT MET"))

        def r(mode, eng, k, c, i):
            return ratio(self.overhead(self.engine_flavour(mode, eng), eng, k, c, i),
                         self.overhead(self.engine_flavour(mode, "livepatch"), "livepatch", k, c, i))
        for mode in self.modes:
            if not (self.engine_flavour(mode, "tocpatch") and self.engine_flavour(mode, "livepatch")):
                continue
            for caller, limit in (("global", 0.5), ("local", 0.8)):
                judge(f"{mode}: {caller} / livepatch (irq on, off)",
                      [r(mode, "tocpatch", 1, caller, i) for i in ("0", "1")], limit)
            if self.engine_flavour(mode, "tocpatch-cb"):
                # tocpatch took its direct path (tocpatch-cb: its callback path)
                judge(f"{mode}: direct path, both kinds / livepatch",
                      [r(mode, "tocpatch", 1, c, i) for c, i in CASES], 0.3)
            tfl, lfl = self.engine_flavour(mode, "tocpatch"), self.engine_flavour(mode, "livepatch")
            judge(f"{mode}: local, own work / livepatch's (less ftrace)",
                  [ratio(self.sub(self.overhead(tfl, "tocpatch", 1, "local", i),
                                  self.overhead(tfl, "ftrace", 1, "local", i)),
                         self.sub(self.overhead(lfl, "livepatch", 1, "local", i),
                                  self.overhead(lfl, "ftrace", 1, "local", i))) for i in ("0", "1")],
                  1.0)
            ks = [k for k in self.counts() if k >= 100]
            if ks:
                judge(f"{mode}: cost at {'/'.join(map(str, ks))} functions / at 1",
                      [ratio(self.overhead(tfl, "tocpatch", k, c, i),
                             self.overhead(tfl, "tocpatch", 1, c, i)) for k in ks for c, i in CASES],
                      1.1)
            kmax = max(self.counts(), default=0)
            if kmax >= 1000:
                for what in ("enable", "disable"):
                    judge(f"{mode}: {what} of {kmax} functions / livepatch's",
                          [ratio(self.icount[tfl][what].get(("tocpatch", kmax)),
                                 self.icount[lfl][what].get(("livepatch", kmax)))], 0.1)
        if res:
            out.append("")
            out.append("Targets (overhead or time, tocpatch / livepatch on the same ftrace mode;")
            out.append("the worst of the cases named)")
            out.extend(res)

    def svg(self, path):
        """Two log-log panels (local and global calls, interrupts off):
        instructions per call over unpatched against functions patched."""
        ks = self.counts()
        if not ks:
            return
        series = []
        colours = {"tocpatch": "#d62728", "livepatch": "#1f77b4", "ftrace": "#7f7f7f",
                   "direct": "#2ca02c"}
        for mode in self.modes:
            dash = "" if mode == "mprofile" else "6,4"
            for eng in ("ftrace", "tocpatch", "livepatch", "direct"):
                fl = self.engine_flavour(mode, eng)
                if not fl:
                    continue
                for caller in ("local", "global"):
                    pts = [(k, self.overhead(fl, eng, k, caller, "1")) for k in ks]
                    pts = [(k, v) for k, v in pts if v is not None and v > 0]
                    if pts:
                        series.append((caller, f"{eng} ({mode})", colours[eng], dash, pts))
        vals = [v for s in series for _k, v in s[4]]
        if not vals:
            return
        lo = 10 ** math.floor(math.log10(min(vals)))
        hi = 10 ** math.ceil(math.log10(max(vals)))
        W, H, PW, PH, L, T = 1180, 430, 380, 300, 80, 50
        kx = [math.log10(k) for k in ks]
        x0, x1 = min(kx) - 0.15, max(kx) + 0.15
        y0, y1 = math.log10(lo), math.log10(hi)
        o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
             f'font-family="sans-serif" font-size="12">',
             f'<rect width="{W}" height="{H}" fill="white"/>',
             f'<text x="{W / 2}" y="20" text-anchor="middle" font-size="14">tocpatch benchmark: '
             'guest instructions per call over unpatched (qemu -icount), interrupts off</text>']
        for p, caller in enumerate(("local", "global")):
            ox = L + p * (PW + 110)

            def X(k):
                return ox + (math.log10(k) - x0) / (x1 - x0) * PW

            def Y(v):
                return T + PH - (math.log10(v) - y0) / (y1 - y0) * PH
            o.append(f'<rect x="{ox}" y="{T}" width="{PW}" height="{PH}" fill="none" stroke="black"/>')
            o.append(f'<text x="{ox + PW / 2}" y="{T - 8}" text-anchor="middle">{caller} caller</text>')
            for e in range(int(y0), int(y1) + 1):
                y = Y(10 ** e)
                o.append(f'<line x1="{ox}" y1="{y:.1f}" x2="{ox + PW}" y2="{y:.1f}" stroke="#ddd"/>')
                o.append(f'<text x="{ox - 5}" y="{y + 4:.1f}" text-anchor="end">{10 ** e:g}</text>')
            o.append(f'<text x="{ox - 55}" y="{T + PH / 2}" text-anchor="middle" '
                     f'transform="rotate(-90 {ox - 55} {T + PH / 2})">instructions per call</text>')
            for k in ks:
                x = X(k)
                o.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{T + PH}" stroke="#eee"/>')
                o.append(f'<text x="{x:.1f}" y="{T + PH + 16}" text-anchor="middle">{k}</text>')
            o.append(f'<text x="{ox + PW / 2}" y="{T + PH + 34}" text-anchor="middle">functions patched</text>')
            for c, name, col, dash, pts in series:
                if c != caller:
                    continue
                d = " ".join(f"{X(k):.1f},{Y(v):.1f}" for k, v in pts)
                o.append(f'<polyline points="{d}" fill="none" stroke="{col}" stroke-width="2"'
                         + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
                for k, v in pts:
                    o.append(f'<circle cx="{X(k):.1f}" cy="{Y(v):.1f}" r="3" fill="{col}"/>')
        # Legend.
        seen, ly = [], T + 10
        for _c, name, col, dash, _p in series:
            if name in seen:
                continue
            seen.append(name)
            lx = L + 2 * PW + 130
            o.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 30}" y2="{ly}" stroke="{col}" stroke-width="2"'
                     + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
            o.append(f'<text x="{lx + 36}" y="{ly + 4}">{name}</text>')
            ly += 18
        o.append("</svg>")
        with open(path, "w") as f:
            f.write("\n".join(o) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--svg")
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("logs", nargs="+")
    a = ap.parse_args()
    # When: the end of the last guest run (its log's time).
    rep = Report(parse(a.logs), max(os.path.getmtime(p) for p in a.logs))
    sys.stdout.write(rep.text(a.commit))
    if a.svg:
        rep.svg(a.svg)
    if rep.bad():
        sys.exit(1)


if __name__ == "__main__":
    main()
