#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn pss_bench guest logs ("#BENCH key=value ..." lines) into a table on
stdout, bench/results.md and an SVG plot of per-object cost against object
count (written here, no plotting library).

    report.py [--md OUT.md] [--svg OUT.svg] LOG [LOG...]

The first log is the primary kernel (the plot is drawn from it; the other
logs' series are added dashed). bench/analysis.md, if present, is appended
to results.md as the closing note.

It runs after a guest that may have crashed, so its input may be cut short:
a #BENCH line that is incomplete (no newline at the end of the log, a key
missing, a number that is not one) is skipped with a warning on stderr, a
zero time or count prints "n/a" rather than dividing by it, and a log that
is missing or has no results is reported. Exit status: 0, 1 (no usable
results), 2 (usage).
"""
import argparse
import math
import os
import re
import sys

# keys a complete record of each kind has (its last key included: a line
# cut short lacks it) and must be non-negative integers
MEASURED = ("reps", "med_ns", "min_ns", "max_ns", "syscalls", "threads", "fds", "vmas", "objs")
REQUIRED = {
    "full": ("label", "T", "F", "V", "method"),
    "vma": ("label", "T", "F", "V", "method"),
    "threads": ("label", "T", "F", "V", "method"),
    "perf": ("of", "label", "T", "F", "V", "mem_bytes", "objs", "retries", "perf_n"),
    "stall": ("V", "T", "F", "reader"),
    "tstall": ("T", "method"),
    "dump": ("MiB", "method"),
    "env": (),
    "done": ("errors",),
}
REQUIRED_MEASURED = {
    "full": MEASURED,
    "vma": MEASURED,
    "threads": MEASURED,
    "stall": ("reads", "ops", "p50_ns", "p99_ns", "p999_ns", "max_ns", "mean_ns",
              "lock_mmap_med", "lock_mmap_max"),
    "tstall": ("reps", "period_ns", "wall_med_ns", "wall_min_ns", "wall_max_ns", "thr_med_ns",
               "thr_min_ns", "thr_max_ns", "typ_med_ns", "typ_min_ns", "typ_max_ns",
               "proc_med_ns", "proc_min_ns", "proc_max_ns", "base_thr_ns", "base_typ_ns",
               "base_proc_ns", "base_win_ns", "seen"),
    "dump": ("T", "reps", "period_ns", "wall_med_ns", "wall_min_ns", "wall_max_ns", "thr_med_ns",
             "thr_max_ns", "typ_med_ns", "typ_max_ns", "proc_med_ns", "proc_max_ns",
             "base_thr_ns", "base_typ_ns", "base_proc_ns", "base_win_ns", "file_bytes"),
}
NUMERIC = re.compile(r"^(T|F|V|MiB|file_bytes|reps|syscalls|threads|fds|vmas|objs|retries|perf_n|reads|ops|"
                     r"mem_bytes|errors|seen|parked|held|not_parked|.*_ns|lock_.*|ph_.*)$")


def warn(msg):
    print("report.py: %s" % msg, file=sys.stderr)


def check(d):
    """None if the record is complete, else what is wrong with it."""
    kind = d.get("kind")
    if kind not in REQUIRED:
        return "unknown kind %r" % kind
    need = list(REQUIRED[kind])
    if d.get("status") != "n/a":
        need += REQUIRED_MEASURED.get(kind, ())
    for k in need:
        if k not in d or d[k] == "":
            return "no %s" % k
    for k, v in d.items():
        if NUMERIC.match(k) and not v.isdigit():
            return "%s=%r is not a number" % (k, v)
    return None


def parse(path):
    recs = []
    with open(path, errors="replace") as f:
        for n, line in enumerate(f, 1):
            if not line.startswith("#BENCH "):
                continue
            if not line.endswith("\n"):
                warn("%s:%d: skipped a #BENCH line cut short (end of log)" % (path, n))
                continue
            d = {}
            for kv in line[7:].split():
                if "=" in kv:
                    k, v = kv.split("=", 1)
                    d[k] = v
            bad = check(d)
            if bad:
                warn("%s:%d: skipped a malformed #BENCH line (%s)" % (path, n, bad))
                continue
            recs.append(d)
    return recs


def per(a, b):
    """a / b as a float, or None when b is zero."""
    a, b = int(a), int(b)
    return a / b if b else None


def fmt(v, f="%.0f"):
    return "n/a" if v is None else f % v


def us(ns):
    return "%.1f" % (int(ns) / 1e3)


def ms_or_us(ns):
    ns = int(ns)
    return "%.2f ms" % (ns / 1e6) if ns >= 1e6 else "%.1f µs" % (ns / 1e3)


def trip(r):
    """'median (min–max)' in µs or ms."""
    if not r or r.get("status") == "n/a":
        return "n/a"
    return "%s (%s–%s)" % (ms_or_us(r["med_ns"]), ms_or_us(r["min_ns"]), ms_or_us(r["max_ns"]))


def ratio(a, b):
    """b/a as 'R× (lo–hi)': medians, and the worst/best case from min/max."""
    if not a or not b or a.get("status") == "n/a" or b.get("status") == "n/a":
        return "n/a", None
    r = per(b["med_ns"], a["med_ns"])
    lo = per(b["min_ns"], a["max_ns"])
    hi = per(b["max_ns"], a["min_ns"])
    if r is None or lo is None or hi is None:
        return "n/a (a zero time)", None
    return "**%.1f×** (%.1f–%.1f)" % (r, lo, hi), r


class Run:
    def __init__(self, path):
        self.path = path
        self.recs = parse(path)
        env = [r for r in self.recs if r.get("kind") == "env"]
        self.env = env[0] if env else {}
        done = [r for r in self.recs if r.get("kind") == "done"]
        self.errors = done[0].get("errors", "?") if done else "did not finish"
        self.mem = ""
        with open(path, errors="replace") as f:
            for line in f:
                if "PSS-BENCH-BEGIN" in line and "mem=" in line:
                    self.mem = (line.split("mem=")[1].split() or [""])[0]

    def get(self, kind, label, method):
        for r in self.recs:
            if r.get("kind") == kind and r.get("label") == label and r.get("method") == method:
                return r
        return None

    def labels(self, kind):
        out = []
        for r in self.recs:
            if r.get("kind") == kind and r.get("label") not in out:
                out.append(r["label"])
        return out

    def perf(self, of, label):
        for r in self.recs:
            if r.get("kind") == "perf" and r.get("of") == of and r.get("label") == label:
                return r
        return None


HEADLINE = ("1000", "10000", "10000")
DIAGONAL = {("10", "10", "10"), ("100", "1000", "1000"), ("1000", "10000", "10000"),
            ("1000", "10000", "100000")}


def objs_desc(r):
    return "%s thr / %s fd / %s vma" % (r["threads"], r["fds"], r["vmas"])


def report(runs, md_path, svg_path):
    L = []
    w = L.append
    w("# pss benchmark results")
    w("")
    w("Generated by `make bench` (scripts/bench.sh → bench/pss_bench in a QEMU guest → "
      "bench/report.py). QEMU runs **TCG (no KVM)**: absolute times are those of an "
      "emulated CPU, many times slower than hardware; the ratios, measured within one run "
      "with the methods interleaved, are what count. Every time is the **median** of "
      "repeated runs with (min–max); every ratio is median/median with "
      "(worst case min/max – best case max/min).")
    w("")
    w("| kernel | date (UTC) | guest CPUs | guest memory | errors |")
    w("|---|---|---|---|---|")
    for run in runs:
        e = run.env
        w("| %s | %s | %s | %s | %s |" % (e.get("kernel", "?"), e.get("date", "?"),
                                         e.get("cpus", "?"), run.mem or "?", run.errors))
    w("")
    w("Method: `pss` is the raw ABI (PSS_IOC_CAPTURE, PSS_IOC_QUERY of the process, "
      "one PSS_IOC_WALK per class into a 64 MiB buffer, close), every record converted into "
      "the same structs the procfs path fills. `procfs` is the careful reader: openat "
      "/proc/PID, then stat, status, readlink exe, maps (64 KiB reads, parsed line by line), "
      "fd/ by getdents64 + readlinkat fd/N + fdinfo/N, task/ by getdents64 + task/TID/stat + "
      "task/TID/comm, all relative to the /proc/PID dirfd; a short read ends a file (as "
      "procps does), which spares procfs the EOF read. `procmap` is a PROCMAP_QUERY loop "
      "(COVERING_OR_NEXT_VMA, names requested) on one open /proc/PID/maps. Syscalls are "
      "**counted** by the benchmark's own wrappers around every syscall it issues while "
      "taking a snapshot (openat, read, close, ioctl, readlinkat, getdents64) — the count "
      "of one snapshot, /dev/pss itself opened once per process beforehand.")
    w("")

    for run in runs:
        k = run.env.get("kernel", "?")
        w("## Kernel %s" % k)
        w("")
        # 1. full snapshot
        if run.labels("full"):
            w("### 1. Full snapshot: pss vs procfs (targets: ≥ 30× at T=1000, F=10000, V=10000; "
              "≥ 20× on the realistic mix)")
            w("")
            w("| T | F | V | objects seen | pss | procfs | procfs / pss | pss ns/object | procfs ns/object | pss bytes/object |")
            w("|---|---|---|---|---|---|---|---|---|---|")
            for lab in run.labels("full"):
                p, q = run.get("full", lab, "pss"), run.get("full", lab, "procfs")
                if not q or q.get("status") == "n/a":
                    continue
                rs, r = ratio(p, q)
                verdict = ""
                if (q["T"], q["F"], q["V"]) == HEADLINE and r is not None:
                    verdict = " ✅" if r >= 30 else " ❌ (target 30×)"
                elif lab == "realistic" and r is not None:
                    verdict = " ✅" if r >= 20 else " ❌ (target 20×)"
                pno = fmt(per(p["med_ns"], p["objs"])) if p and p.get("status") != "n/a" else "n/a"
                qno = fmt(per(q["med_ns"], q["objs"]))
                pf = run.perf("full", lab)
                bpo = fmt(per(pf["mem_bytes"], pf["objs"])) if pf else "n/a"
                name = "%s" % q["T"] if lab != "realistic" else "%s (realistic)" % q["T"]
                if (q["T"], q["F"], q["V"]) == HEADLINE:
                    name = "**%s**" % q["T"]
                w("| %s | %s | %s | %s | %s | %s | %s%s | %s | %s | %s |" % (
                    name, q["F"], q["V"], objs_desc(q), trip(p), trip(q), rs, verdict, pno, qno, bpo))
            w("")
        # 2. VMA only
        if run.labels("vma"):
            w("### 2. VMA only: pss vs PROCMAP_QUERY vs /proc/PID/maps (targets at V=10000: "
              "≥ 6× PROCMAP_QUERY, ≥ 4× maps)")
            w("")
            w("| VMAs | pss | PROCMAP_QUERY | maps | PROCMAP_QUERY / pss | maps / pss |")
            w("|---|---|---|---|---|---|")
            for lab in run.labels("vma"):
                p, m, s = (run.get("vma", lab, x) for x in ("pss", "procmap", "maps"))
                r1s, r1 = ratio(p, m)
                r2s, r2 = ratio(p, s)
                verdict = verdict2 = ""
                if lab == "V10000" and r1 is not None:
                    verdict = " ✅" if r1 >= 6 else " ❌ (target 6×)"
                if lab == "V10000" and r2 is not None:
                    verdict2 = " ✅" if r2 >= 4 else " ❌ (target 4×)"
                nv = s["vmas"] if s and s.get("vmas") else lab[1:]
                w("| %s | %s | %s | %s | %s%s | %s%s |" % (nv, trip(p), trip(m), trip(s), r1s,
                                                            verdict, r2s, verdict2))
            w("")
        # 2b. threads of the caller itself
        labs = run.labels("threads")
        if labs:
            w("### 2b. A process reading its own threads: pss vs /proc/self/task/*/stat "
              "(target: ≥ 30× at 64 threads)")
            w("")
            w("| threads | pss | procfs | procfs / pss |")
            w("|---|---|---|---|")
            for lab in labs:
                p, q = run.get("threads", lab, "pss"), run.get("threads", lab, "procfs")
                rs, r = ratio(p, q)
                verdict = ""
                if lab == "self64" and r is not None:
                    verdict = " ✅" if r >= 30 else " ❌ (target 30×)"
                w("| %s | %s | %s | %s%s |" % (q["T"] if q else lab, trip(p), trip(q), rs, verdict))
            w("")
        # 3. syscalls
        if run.labels("full") or run.labels("vma"):
            w("### 3. Syscalls per snapshot, counted (target: pss ≤ 10 whatever the size)")
            w("")
            w("| snapshot | objects | pss | procfs | PROCMAP_QUERY | maps |")
            w("|---|---|---|---|---|---|")
            worst = 0
            for kind in ("full", "vma"):
                for lab in run.labels(kind):
                    cells = []
                    ref = None
                    for meth in (("pss", "procfs", None, None) if kind == "full"
                                 else ("pss", None, "procmap", "maps")):
                        r = run.get(kind, lab, meth) if meth else None
                        if r and r.get("status") != "n/a":
                            ref = ref or r
                            cells.append(r["syscalls"])
                            if meth == "pss":
                                worst = max(worst, int(r["syscalls"]))
                        else:
                            cells.append("–" if not meth else "n/a")
                    if ref:
                        w("| %s %s | %s | %s |" % (kind, lab, objs_desc(ref), " | ".join(cells)))
            w("")
            w("pss needs at most **%d** syscalls per snapshot here%s." % (
                worst, " ✅" if worst and worst <= 10 else " ❌"))
            w("")
        # 4. scaling
        if run.labels("vma") or run.labels("full"):
            w("### 4. Scaling: cost per VMA at V = 1k, 10k, 100k (target: within 1.5× of each other) and memory per object")
            w("")
            w("| VMAs | pss ns/VMA | PROCMAP_QUERY ns/VMA | maps ns/VMA | pss snapshot memory | bytes/object |")
            w("|---|---|---|---|---|---|")
            spread = {"pss": [], "procmap": [], "maps": []}
            for lab in run.labels("vma"):
                row = []
                for meth in ("pss", "procmap", "maps"):
                    r = run.get("vma", lab, meth)
                    v = per(r["med_ns"], r["objs"]) if r and r.get("status") != "n/a" else None
                    if v is not None:
                        row.append("%.0f" % v)
                        if lab in ("V1000", "V10000", "V100000"):
                            spread[meth].append(v)
                    else:
                        row.append("n/a")
                pf = run.perf("vma", lab)
                if pf and int(pf["objs"]):
                    row.append("%.1f KiB" % (int(pf["mem_bytes"]) / 1024))
                    row.append(fmt(per(pf["mem_bytes"], pf["objs"])))
                else:
                    row += ["n/a", "n/a"]
                nv = (run.get("vma", lab, "maps") or {}).get("vmas", lab[1:])
                w("| %s | %s |" % (nv, " | ".join(row)))
            for lab in run.labels("full"):
                pf = run.perf("full", lab)
                if pf and int(pf["objs"]):
                    w("| full %s (%s objects) | | | | %.1f KiB | %.0f |" % (
                        lab, pf["objs"], int(pf["mem_bytes"]) / 1024,
                        int(pf["mem_bytes"]) / int(pf["objs"])))
            w("")
            for meth, vals in spread.items():
                if len(vals) >= 2 and min(vals) > 0:
                    sp = max(vals) / min(vals)
                    mark = (" ✅" if sp <= 1.5 else " ❌ (target 1.5×)") if meth == "pss" else ""
                    w("- %s: per-VMA cost spread over V=1k..100k = **%.2f×**%s" % (meth, sp, mark))
            pf = run.perf("full", "T1000F10000V10000")
            if pf and int(pf["objs"]):
                b = int(pf["mem_bytes"]) / int(pf["objs"])
                w("- kernel memory of the headline snapshot (T=1000, F=10000, V=10000): "
                  "**%.0f bytes/object**%s" % (b, " ✅" if b <= 64 else " ❌ (target ≤ 64)"))
            w("")
            w("![per-object cost](%s)" % os.path.basename(svg_path))
            w("")
        # 5. stall
        if any(r.get("kind") == "stall" for r in run.recs):
            w("### 5. Target stall: the target's own mmap/munmap latency while readers run back-to-back")
            w("")
            w("| VMAs | reader | reads | target ops | p50 | p99 | p99.9 | worst | pss mmap lock held (median / max) |")
            w("|---|---|---|---|---|---|---|---|---|")
            for r in run.recs:
                if r.get("kind") != "stall":
                    continue
                if r.get("status") == "n/a":
                    w("| %s | %s | n/a | | | | | | |" % (r["V"], r["reader"]))
                    continue
                lock = ""
                if r["reader"] == "pss" and int(r.get("lock_mmap_max", 0)):
                    lock = "%s / %s" % (ms_or_us(r["lock_mmap_med"]), ms_or_us(r["lock_mmap_max"]))
                w("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    r["V"], r["reader"], r["reads"], r["ops"], ms_or_us(r["p50_ns"]),
                    ms_or_us(r["p99_ns"]), ms_or_us(r["p999_ns"]), ms_or_us(r["max_ns"]), lock))
            w("")
            w("(`none`: no reader, the baseline; each reader runs for the same wall time in the "
              "same guest, one after the other, against the same churning target.)")
            w("")
        tstall_section(run, w)
        dump_section(run, w)
        # lock hold / phases
        if any(r.get("kind") == "perf" and int(r.get("perf_n", 0)) for r in run.recs):
            w("### pss performance counters (PSS_QUERY_PERFORMANCE; median of repeated captures)")
            w("")
            w("| capture | objects | total | alloc | VA copy | fd copy | thread copy | names | build | mmap lock (med / max) | files lock (med / max) | siglock (med / max) | retries |")
            w("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
            for r in run.recs:
                if r.get("kind") != "perf" or not int(r.get("perf_n", 0)):
                    continue
                f = lambda key: ms_or_us(r.get(key, 0))
                w("| %s %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s / %s | %s / %s | %s |" % (
                    r["of"], r["label"], r["objs"], f("ph_total"), f("ph_alloc"), f("ph_va"),
                    f("ph_handles"), f("ph_threads"), f("ph_names"), f("ph_build"),
                    f("lock_mmap_med"), f("lock_mmap_max"), f("lock_files_med"), f("lock_files_max"),
                    f("lock_sighand_med"), f("lock_sighand_max"), r.get("retries", "0")))
            w("")

    ana = os.path.join(os.path.dirname(os.path.abspath(md_path)), "analysis.md")
    if os.path.exists(ana):
        w(open(ana).read().rstrip())
        w("")
    with open(md_path, "w") as f:
        f.write("\n".join(L))
    svg(runs, svg_path)
    return "\n".join(L)


TSTALL_PSS = ("pss-ctx", "pss", "pss+stacks", "pss-each")
TSTALL_TOOLS = ("eu-stack", "gdb")
TSTALL_GOAL = 20


def tstall_net(r, key):
    """A hiccup less its baseline (never below zero), in ns; None if n/a."""
    if not r or r.get("status") == "n/a":
        return None
    return max(0, int(r[key + "_med_ns"]) - int(r["base_%s_ns" % key]))


def tstall_held(r):
    """The target's own account of a hold: the worse of its net worst-thread
    and net typical-thread hiccups (the latter is what shows eu-stack's hold
    of each thread in turn through a long window's noise)."""
    if not r or r.get("status") == "n/a":
        return None
    return max(tstall_net(r, "thr"), tstall_net(r, "typ"))


def tstall_pss_stall(r):
    """pss's stall, the worse of the module's account and the target's own."""
    if not r or r.get("status") == "n/a":
        return None
    return max(int(r.get("stall_med_ns", 0)), tstall_held(r))


def tstall_section(run, w):
    recs = [r for r in run.recs if r.get("kind") == "tstall"]
    if not recs:
        return
    w("### 6. Thread-state stall: pss vs eu-stack and gdb (goal: pss's stall ≥ %d× shorter "
      "than the ptrace tools')" % TSTALL_GOAL)
    w("")
    w("Target: T threads ticking (pss_target -k): one spins on the clock, the others sleep to "
      "the next multiple of the period and note how late they woke. One capture or one tool "
      "run per window, then two periods for every held thread to wake and note it. "
      "**worst thread's hiccup**: the worst lateness (or spin gap) of any thread in the window — the "
      "longest any thread was held, as the target saw it; **typical thread's hiccup**: the "
      "median over the threads of each one's worst tick (eu-stack holds every thread once, "
      "in turn: this shows it through a long window's noise); **process hiccup**: the longest "
      "time no thread of the target took a timestamp at all. All three are the median over the "
      "windows (max in brackets) and, after the arrow, less the same figure for windows of "
      "nothing (`none`; for each tool, the median of windows of nothing as long as "
      "its median run, as many as its runs and three at least). `busy` windows spin in the benchmark for as long as the last pss-ctx capture "
      "took: the share of a pss hiccup that is only a CPU taken from the target (the guest "
      "has two). `pss-ctx` captures THREADS + THREAD_CONTEXT, `pss` adds THREAD_KSTACK, "
      "`pss+stacks` adds MEMORY (each thread's stack, stack_bytes 0 = the 64 KiB default); "
      "`pss-each` is `pss` with PSS_CAPTURE_PER_THREAD: each thread held only while its own "
      "registers are read, none waiting for the others (eu-stack's consistency: per thread, not "
      "one instant; the cut of the thread list is still one). **stall** and "
      "**park max** are the module's own account (PSS_QUERY_PERFORMANCE VER1: first thread "
      "parked → release, and the longest single park). eu-stack attaches, unwinds and "
      "detaches one thread at a time; gdb stops every thread until it detaches.")
    w("")
    w("| T | method | runs | wall | worst thread's hiccup → net | typical thread's hiccup → net "
      "| process hiccup → net | stall (med / max) | park max (med / max) | parked / held / not "
      "| threads seen |")
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in recs:
        if r.get("status") == "n/a":
            w("| %s | %s | n/a (%s) | | | | | | | | |" % (r["T"], r["method"],
                                                       r.get("why", "?")))
            continue
        pss = r["method"] in TSTALL_PSS
        thr = "%s (%s) → **%s**" % (ms_or_us(r["thr_med_ns"]), ms_or_us(r["thr_max_ns"]),
                                    ms_or_us(tstall_net(r, "thr")))
        typ = "%s (%s) → **%s**" % (ms_or_us(r["typ_med_ns"]), ms_or_us(r["typ_max_ns"]),
                                    ms_or_us(tstall_net(r, "typ")))
        if r["method"] == "none":
            thr = "%s (%s)" % (ms_or_us(r["thr_med_ns"]), ms_or_us(r["thr_max_ns"]))
            typ = "%s (%s)" % (ms_or_us(r["typ_med_ns"]), ms_or_us(r["typ_max_ns"]))
        prc = "%s (%s) → %s" % (ms_or_us(r["proc_med_ns"]), ms_or_us(r["proc_max_ns"]),
                                ms_or_us(tstall_net(r, "proc")))
        if r["method"] == "none":
            prc = "%s (%s)" % (ms_or_us(r["proc_med_ns"]), ms_or_us(r["proc_max_ns"]))
        stall = park = held = ""
        if pss and "stall_med_ns" in r:
            stall = "**%s** / %s" % (ms_or_us(r["stall_med_ns"]), ms_or_us(r["stall_max_ns"]))
            park = "%s / %s" % (ms_or_us(r["park_med_ns"]), ms_or_us(r["park_max_ns"]))
            held = "%s / %s / %s" % (r.get("parked", "?"), r.get("held", "?"),
                                     r.get("not_parked", "?"))
        wall = "–" if r["method"] == "none" else ms_or_us(r["wall_med_ns"])
        w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["T"], r["method"], r["reps"], wall, thr, typ, prc, stall, park, held,
            r["seen"] if r["method"] not in ("none", "busy") else ""))
    w("")
    w("| T | ptrace tool: its hold, net | pss-ctx: its stall | tool / pss-ctx | "
      "pss: its stall | tool / pss | pss+stacks: its stall | tool / pss+stacks | "
      "pss-each: its stall | tool / pss-each |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    for T in sorted({int(r["T"]) for r in recs}):
        by = {r["method"]: r for r in recs if int(r["T"]) == T}
        for tool in TSTALL_TOOLS:
            tr = by.get(tool)
            tn = tstall_held(tr)
            if tn is None:
                continue
            # a hold not above the baseline's noise: only its raw figure,
            # an upper bound, is known, and so only a bound on the ratio
            raw = max(int(tr["thr_med_ns"]), int(tr["typ_med_ns"]))
            bound = tn == 0
            held = ("not above the noise (≤ %s)" % ms_or_us(raw)) if bound else ms_or_us(tn)
            cells = []
            for meth in TSTALL_PSS:
                ps = tstall_pss_stall(by.get(meth))
                if ps is None:
                    cells += ["n/a", "n/a"]
                    continue
                if ps == 0:
                    cells += [ms_or_us(ps), "n/a (a zero stall)"]
                    continue
                if bound:
                    x = raw / ps
                    cells += [ms_or_us(ps), "≤ %.1f× %s" % (
                        x, "❌ (goal %d×)" % TSTALL_GOAL if x < TSTALL_GOAL else
                        "(inconclusive)")]
                    continue
                x = tn / ps
                cells += [ms_or_us(ps), "**%.1f×** %s" % (
                    x, "✅" if x >= TSTALL_GOAL else "❌ (goal %d×)" % TSTALL_GOAL)]
            w("| %d | %s: %s | %s |" % (T, tool, held, " | ".join(cells)))
    w("")
    w("(A tool's hold is the worse of the target's net worst-thread and net typical-thread "
      "hiccups; pss's stall is the worse of those and the module's stall_ns. All medians. "
      "A hold not above the baseline's noise is bounded by its raw hiccup, and the ratio "
      "by that bound.)")
    w("")


DUMP_GOAL = 10


def mib(b):
    return "%.1f MiB" % (int(b) / 1048576)


def dump_section(run, w):
    recs = [r for r in run.recs if r.get("kind") == "dump"]
    if not recs:
        return
    w("### 7. Core dump stall: pss dump --memory all vs gdb's gcore (goal: pss's stall ≥ %d× "
      "shorter than gcore's)" % DUMP_GOAL)
    w("")
    w("Target: the given MiB of private anonymous memory, every byte written, and 4 threads ticking as in "
      "section 6 (one spins, three wake every 10 ms). One run per window: `pss dump --memory all "
      "--timeout 2000 -o FILE PID` (the pss tool) or `gdb -nx -batch -p PID -ex 'gcore FILE'`, "
      "each writing its core into the guest's tmpfs (removed after each run). **wall**: the "
      "tool's whole run, the file written; **capture**: pss's capture ioctl, its memory copy "
      "included (the module's PSS_PHASE_TOTAL), so wall − capture is pss's start, its layout "
      "capture and the file written, none of it stalling the target. Hiccups as in section 6, "
      "less windows of nothing as long as the tool's median run. **stall**: the module's "
      "stall_ns, as `pss dump` prints it. `pss-dump` is `pss dump` as shipped: it resets the "
      "target's soft-dirty bits (/proc/PID/clear_refs) and captures with PSS_MEMORY_PRECOPY, "
      "which copies the anonymous memory before the park and, parked, only the pages written "
      "since; `pss-noprecopy` is `pss dump --no-precopy`, every page copied parked.")
    w("")
    w("| touched | method | runs | wall | core file | worst thread's hiccup → net | "
      "process hiccup → net | stall (med / max) | capture | wall − capture |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    for r in recs:
        if r.get("status") == "n/a":
            w("| %s MiB | %s | n/a (%s) | | | | | | | |" % (r["MiB"], r["method"],
                                                           r.get("why", "?")))
            continue
        thr = "%s (%s) → **%s**" % (ms_or_us(r["thr_med_ns"]), ms_or_us(r["thr_max_ns"]),
                                    ms_or_us(tstall_net(r, "thr")))
        prc = "%s (%s) → %s" % (ms_or_us(r["proc_med_ns"]), ms_or_us(r["proc_max_ns"]),
                                ms_or_us(tstall_net(r, "proc")))
        stall = cap = rest = ""
        if "stall_med_ns" in r:
            stall = "**%s** / %s" % (ms_or_us(r["stall_med_ns"]), ms_or_us(r["stall_max_ns"]))
            cap = ms_or_us(r["capture_med_ns"])
            rest = ms_or_us(max(0, int(r["wall_med_ns"]) - int(r["capture_med_ns"])))
        w("| %s MiB | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["MiB"], r["method"], r["reps"], ms_or_us(r["wall_med_ns"]), mib(r["file_bytes"]),
            thr, prc, stall, cap, rest))
    w("")
    w("| touched | gcore: its hold, net | pss dump: its stall | gcore / pss dump |")
    w("|---|---|---|---|")
    rows = [(m, meth) for m in sorted({int(r["MiB"]) for r in recs})
            for meth in ("pss-dump", "pss-noprecopy")]
    for m, meth in rows:
        by = {r["method"]: r for r in recs if int(r["MiB"]) == m}
        tr, pr = by.get("gcore"), by.get(meth)
        if meth != "pss-dump" and pr is None:
            continue
        if meth != "pss-dump":
            m = "%d" % m + " MiB (--no-precopy)"
        else:
            m = "%d MiB" % m
        tn, ps = tstall_held(tr), tstall_pss_stall(pr)
        if tn is None or ps is None:
            w("| %s | %s | %s | n/a |" % (m, "n/a" if tn is None else ms_or_us(tn),
                                               "n/a" if ps is None else ms_or_us(ps)))
            continue
        if ps == 0:
            w("| %s | %s | %s | n/a (a zero stall) |" % (m, ms_or_us(tn), ms_or_us(ps)))
            continue
        if tn == 0:
            raw = max(int(tr["thr_med_ns"]), int(tr["typ_med_ns"]))
            x = raw / ps
            w("| %s | not above the noise (≤ %s) | %s | ≤ %.1f× %s |" % (
                m, ms_or_us(raw), ms_or_us(ps), x,
                "❌ (goal %d×)" % DUMP_GOAL if x < DUMP_GOAL else "(inconclusive)"))
            continue
        x = tn / ps
        w("| %s | %s | %s | **%.1f×** %s |" % (
            m, ms_or_us(tn), ms_or_us(ps), x,
            "✅" if x >= DUMP_GOAL else "❌ (goal %d×)" % DUMP_GOAL))
    w("")
    w("(gcore's hold is the worse of the target's net worst-thread and net typical-thread "
      "hiccups; pss dump's stall is the worse of those and the module's stall_ns. All medians.)")
    w("")


COLORS = {"pss full": "#1f77b4", "procfs full": "#d62728", "pss VMA": "#2ca02c",
          "PROCMAP_QUERY": "#ff7f0e", "/proc/PID/maps": "#9467bd"}


def series(run):
    s = {}
    for kind, meth, name in (("full", "pss", "pss full"), ("full", "procfs", "procfs full"),
                             ("vma", "pss", "pss VMA"), ("vma", "procmap", "PROCMAP_QUERY"),
                             ("vma", "maps", "/proc/PID/maps")):
        pts = []
        for r in run.recs:
            if r.get("kind") == kind and r.get("method") == meth and r.get("status") != "n/a" \
                    and int(r["objs"]) and int(r["med_ns"]) and r.get("label") != "realistic":
                if kind == "full" and (r["T"], r["F"], r["V"]) not in DIAGONAL:
                    continue
                pts.append((int(r["objs"]), int(r["med_ns"]) / int(r["objs"])))
        if pts:
            s[name] = sorted(pts)
    return s


def svg(runs, path):
    W, H, ml, mr, mt, mb = 900, 540, 80, 260, 50, 60
    allpts = []
    per_run = [(run, series(run)) for run in runs]
    for _, s in per_run:
        for pts in s.values():
            allpts += pts
    if not allpts:
        return
    x0 = math.floor(math.log10(min(p[0] for p in allpts)))
    x1 = math.ceil(math.log10(max(p[0] for p in allpts)))
    y0 = math.floor(math.log10(min(p[1] for p in allpts)))
    y1 = math.ceil(math.log10(max(p[1] for p in allpts)))
    x1 = max(x1, x0 + 1)
    y1 = max(y1, y0 + 1)
    pw, ph = W - ml - mr, H - mt - mb

    def X(v):
        return ml + (math.log10(v) - x0) / (x1 - x0) * pw

    def Y(v):
        return mt + ph - (math.log10(v) - y0) / (y1 - y0) * ph

    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
         'font-size="12">' % (W, H), '<rect width="100%" height="100%" fill="white"/>']
    title = "pss vs procfs: cost per object (median), kernel %s" % runs[0].env.get("kernel", "?")
    o.append('<text x="%d" y="24" font-size="15">%s</text>' % (ml, title))
    # every cell of the full grid, faint, behind the lines
    for meth, c in (("pss", COLORS["pss full"]), ("procfs", COLORS["procfs full"])):
        for r in runs[0].recs:
            if r.get("kind") == "full" and r.get("method") == meth and r.get("status") != "n/a" \
                    and int(r["objs"]) and int(r["med_ns"]):
                o.append('<circle cx="%.1f" cy="%.1f" r="2.5" fill="none" stroke="%s" opacity="0.45"/>'
                         % (X(int(r["objs"])), Y(int(r["med_ns"]) / int(r["objs"])), c))
    for e in range(x0, x1 + 1):
        x = X(10 ** e)
        o.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (x, mt, x, mt + ph))
        o.append('<text x="%.1f" y="%d" text-anchor="middle">10^%d</text>' % (x, mt + ph + 18, e))
    for e in range(y0, y1 + 1):
        y = Y(10 ** e)
        o.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (ml, y, ml + pw, y))
        lab = "%g ns" % (10 ** e) if e < 3 else ("%g µs" % (10 ** (e - 3)) if e < 6 else "%g ms" % (10 ** (e - 6)))
        o.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (ml - 6, y + 4, lab))
    o.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="black"/>' % (ml, mt, pw, ph))
    o.append('<text x="%d" y="%d" text-anchor="middle">objects in the snapshot (threads + fds + VMAs; VMA-only: VMAs)</text>'
             % (ml + pw / 2, H - 15))
    o.append('<text transform="translate(18,%d) rotate(-90)" text-anchor="middle">time per object (QEMU TCG)</text>'
             % (mt + ph / 2))
    ly = mt + 10
    for i, (run, s) in enumerate(per_run):
        dash = "" if i == 0 else ' stroke-dasharray="6,4"'
        for name, pts in s.items():
            c = COLORS.get(name, "black")
            d = " ".join("%.1f,%.1f" % (X(a), Y(b)) for a, b in pts)
            o.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>' % (d, c, dash))
            for a, b in pts:
                o.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (X(a), Y(b), c))
            o.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>' % (
                ml + pw + 10, ly, ml + pw + 34, ly, c, dash))
            o.append('<text x="%d" y="%d">%s%s</text>' % (
                ml + pw + 40, ly + 4, name, "" if i == 0 else " (%s)" % run.env.get("kernel", "?").split("-")[0]))
            ly += 18
    o.append('<text x="%d" y="%d" font-size="11">lines: full snapshot at T/F/V =</text>' % (ml + pw + 10, ly + 10))
    o.append('<text x="%d" y="%d" font-size="11">10/10/10, 100/1k/1k, 1k/10k/10k,</text>' % (ml + pw + 10, ly + 24))
    o.append('<text x="%d" y="%d" font-size="11">1k/10k/100k; VMA-only at V=10..100k;</text>' % (ml + pw + 10, ly + 38))
    o.append('<text x="%d" y="%d" font-size="11">open circles: every full-grid cell</text>' % (ml + pw + 10, ly + 52))
    o.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(o) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="report.py",
        description="Turn pss_bench guest logs into results.md and an SVG plot.")
    ap.add_argument("--md", default="bench/results.md", help="markdown output")
    ap.add_argument("--svg", default="bench/cost.svg", help="SVG output")
    ap.add_argument("logs", nargs="+", metavar="LOG", help="guest log with #BENCH lines")
    a = ap.parse_args(argv)
    runs = []
    for p in a.logs:
        if not os.path.isfile(p):
            warn("%s: no such log" % p)
            continue
        run = Run(p)
        if not run.recs:
            warn("%s: no complete #BENCH results" % p)
            continue
        runs.append(run)
    if not runs:
        warn("no results in %s" % " ".join(a.logs))
        return 1
    print(report(runs, a.md, a.svg))
    return 0


if __name__ == "__main__":
    sys.exit(main())
