#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""report.py on the input a crashed guest leaves: cut-short lines, zero
medians, malformed numbers, missing logs and arguments. Each case must end
with the documented exit status and a message, never a traceback.

    python3 bench/test_report.py
"""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT = os.path.join(HERE, "report.py")

FULL = ("#BENCH kind=full label=L1 T=10 F=10 V=10 method=%s reps=5 med_ns=%d min_ns=%d "
        "max_ns=%d syscalls=%d threads=10 fds=13 vmas=30 objs=53\n")
GOOD = ("#BENCH kind=env kernel=6.12.0-test machine=x86_64 cpus=2 date=now abi=1 smoke=1 budget=1.0\n"
        + FULL % ("pss", 100000, 90000, 120000, 6)
        + FULL % ("procfs", 3000000, 2900000, 3100000, 400)
        + "#BENCH kind=vma label=V1000 T=1 F=3 V=1000 method=pss reps=5 med_ns=50000 min_ns=40000 "
          "max_ns=60000 syscalls=5 threads=1 fds=3 vmas=1000 objs=1000\n"
        + "#BENCH kind=perf of=full label=L1 T=10 F=10 V=10 mem_bytes=65536 objs=53 retries=0 perf_n=0\n"
        + "#BENCH kind=stall V=1000 T=1 F=3 reader=pss secs=1.00 reads=10 ops=100 p50_ns=1000 "
          "p99_ns=2000 p999_ns=3000 max_ns=4000 mean_ns=1100 lock_mmap_med=500 lock_mmap_max=900\n"
        + "#BENCH kind=done errors=0\n")


TSTALL = ("#BENCH kind=tstall T=100 method=%s reps=3 period_ns=20000000 wall_med_ns=%d "
          "wall_min_ns=1 wall_max_ns=%d thr_med_ns=%d thr_min_ns=1 thr_max_ns=%d typ_med_ns=%d "
          "typ_min_ns=1 typ_max_ns=%d proc_med_ns=%d proc_min_ns=1 proc_max_ns=%d "
          "base_thr_ns=%d base_typ_ns=%d base_proc_ns=%d base_win_ns=20000000 seen=100%s\n")
PSS_EXTRA = (" stall_med_ns=%d stall_max_ns=%d park_med_ns=1000 park_max_ns=2000 quiesce_med_ns=500 "
             "capture_med_ns=9000 parked=99 held=0 not_parked=0 mem_bytes=65536")


DUMP = ("#BENCH kind=dump MiB=64 method=%s T=4 reps=3 period_ns=10000000 wall_med_ns=2000000000 "
        "wall_min_ns=1 wall_max_ns=3000000000 thr_med_ns=%d thr_max_ns=%d typ_med_ns=%d "
        "typ_max_ns=%d proc_med_ns=%d proc_max_ns=%d base_thr_ns=%d base_typ_ns=%d "
        "base_proc_ns=%d base_win_ns=2000000000 file_bytes=%d%s\n")
DUMP_PSS = " stall_med_ns=%d stall_max_ns=%d capture_med_ns=1998500000"


def dump(method, thr, base, size, extra=""):
    return DUMP % (method, thr, thr, thr, thr, thr, thr, base, base, base, size, extra)


def tstall(method, thr, base, extra="", typ=None):
    typ = thr if typ is None else typ
    return TSTALL % (method, thr, thr, thr, thr, typ, typ, thr, thr, base, base, base, extra)


class ReportTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.md = os.path.join(self.dir.name, "r.md")
        self.svg = os.path.join(self.dir.name, "r.svg")

    def tearDown(self):
        self.dir.cleanup()

    def log(self, text):
        path = os.path.join(self.dir.name, "guest-%d.log" % len(os.listdir(self.dir.name)))
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_report(self, *args):
        p = subprocess.run([sys.executable, REPORT, "--md", self.md, "--svg", self.svg] + list(args),
                           capture_output=True, text=True)
        self.assertNotIn("Traceback", p.stderr)
        return p

    def test_good_log(self):
        p = self.run_report(self.log(GOOD))
        self.assertEqual(0, p.returncode, p.stderr)
        self.assertIn("**30.0×**", p.stdout)
        self.assertTrue(os.path.getsize(self.svg) > 0)

    def test_tstall(self):
        # gdb held a thread 100 ms over its baseline; pss's stall is the
        # worse of the module's 2 ms and the target's 1 ms over baseline
        text = GOOD.replace("#BENCH kind=done errors=0\n", "") + \
            tstall("none", 3000000, 3000000) + \
            tstall("pss", 4000000, 3000000, PSS_EXTRA % (2000000, 2500000)) + \
            "#BENCH kind=tstall T=100 method=pss+stacks status=n/a why=EOPNOTSUPP\n" + \
            tstall("gdb", 105000000, 5000000) + "#BENCH kind=done errors=0\n"
        p = self.run_report(self.log(text))
        self.assertEqual(0, p.returncode, p.stderr)
        self.assertIn("| 100 | gdb: 100.00 ms | n/a | n/a | 2.00 ms | **50.0×** ✅ | n/a | n/a "
                      "| n/a | n/a |", p.stdout)
        # the per-thread capture has its own pair of columns
        each = text.replace("#BENCH kind=done errors=0\n",
                            tstall("pss-each", 3100000, 3000000,
                                   PSS_EXTRA % (50000, 60000)) +
                            "#BENCH kind=done errors=0\n")
        p = self.run_report(self.log(each))
        self.assertIn("| 2.00 ms | **50.0×** ✅ | n/a | n/a | 100.0 µs | **1000.0×** ✅ |",
                      p.stdout)
        self.assertIn("n/a (EOPNOTSUPP)", p.stdout)
        # a pss stall under the goal is marked
        text = text.replace(PSS_EXTRA % (2000000, 2500000), PSS_EXTRA % (10000000, 12000000))
        p = self.run_report(self.log(text))
        self.assertIn("**10.0×** ❌ (goal 20×)", p.stdout)
        # a tool whose worst thread is lost in the noise still shows its
        # hold of every thread through the typical thread
        text = text.replace(tstall("gdb", 105000000, 5000000),
                            tstall("eu-stack", 5000000, 5000000, typ=205000000))
        p = self.run_report(self.log(text))
        self.assertIn("| 100 | eu-stack: 200.00 ms | n/a | n/a | 10.00 ms | **20.0×** ✅", p.stdout)
        # a hold lost in the noise bounds the ratio, never reads 0×
        text = text.replace(tstall("eu-stack", 5000000, 5000000, typ=205000000),
                            tstall("eu-stack", 50000000, 60000000))
        p = self.run_report(self.log(text))
        self.assertIn("| 100 | eu-stack: not above the noise (≤ 50.00 ms) | n/a | n/a | "
                      "10.00 ms | ≤ 5.0× ❌ (goal 20×)", p.stdout)

    def test_dump(self):
        # gcore held the target 600 ms over its baseline; pss dump's stall
        # is the worse of the module's 30 ms and the target's 25 ms net
        text = GOOD.replace("#BENCH kind=done errors=0\n", "") + \
            dump("pss-dump", 55000000, 30000000, 3 << 20, DUMP_PSS % (30000000, 31000000)) + \
            dump("gcore", 630000000, 30000000, 2 << 20) + \
            "#BENCH kind=dump MiB=512 method=gcore status=n/a why=not-installed\n" + \
            "#BENCH kind=done errors=0\n"
        p = self.run_report(self.log(text))
        self.assertEqual(0, p.returncode, p.stderr)
        self.assertIn("### 7. Core dump stall", p.stdout)
        self.assertIn("| 64 MiB | 600.00 ms | 30.00 ms | **20.0×** ✅ |", p.stdout)
        # the core's size, and the time after the capture: wall less capture
        self.assertIn("| 64 MiB | pss-dump | 3 | 2000.00 ms | 3.0 MiB |", p.stdout)
        self.assertIn("| 64 MiB | gcore | 3 | 2000.00 ms | 2.0 MiB |", p.stdout)
        self.assertIn("| 1998.50 ms | 1.50 ms |", p.stdout)
        self.assertIn("| 512 MiB | gcore | n/a (not-installed) |", p.stdout)
        self.assertIn("| 512 MiB | n/a | n/a | n/a |", p.stdout)
        # the dump without pre-copy gets its own row of the summary
        nopc = text.replace("#BENCH kind=done", dump(
            "pss-noprecopy", 90000000, 30000000, 3 << 20,
            DUMP_PSS % (60000000, 61000000)) + "#BENCH kind=done")
        p = self.run_report(self.log(nopc))
        self.assertIn("| 64 MiB (--no-precopy) | 600.00 ms | 60.00 ms | **10.0×** ✅ |",
                      p.stdout)
        # a stall under the goal is marked
        text = text.replace(DUMP_PSS % (30000000, 31000000), DUMP_PSS % (300000000, 310000000))
        p = self.run_report(self.log(text))
        self.assertIn("| 64 MiB | 600.00 ms | 300.00 ms | **2.0×** ❌ (goal 10×) |", p.stdout)
        # the target saw a longer stall than the module reported: that counts
        text = text.replace(DUMP_PSS % (300000000, 310000000), DUMP_PSS % (1000000, 2000000))
        p = self.run_report(self.log(text))
        self.assertIn("| 64 MiB | 600.00 ms | 25.00 ms | **24.0×** ✅ |", p.stdout)
        # a record cut short of its file size is skipped, not rendered
        cut = dump("gcore", 1, 1, 1).replace(" file_bytes=1", "").replace("MiB=64", "MiB=8")
        p = self.run_report(self.log(text.replace("#BENCH kind=done", cut + "#BENCH kind=done")))
        self.assertIn("(no file_bytes)", p.stderr)
        self.assertNotIn("| 8 MiB |", p.stdout)

    def test_line_cut_short_at_end(self):
        text = GOOD.replace("#BENCH kind=done errors=0\n", "") + (FULL % ("pss", 1, 1, 1, 1))[:60]
        p = self.run_report(self.log(text))
        self.assertEqual(0, p.returncode, p.stderr)
        self.assertIn("cut short", p.stderr)
        self.assertIn("did not finish", p.stdout)

    def test_key_missing_or_not_a_number(self):
        cut = (FULL % ("procfs", 5, 5, 5, 5)).replace(" objs=53", "")
        bad = (FULL % ("procfs", 5, 5, 5, 5)).replace("objs=53", "objs=5x")
        p = self.run_report(self.log(GOOD + cut + bad))
        self.assertEqual(0, p.returncode, p.stderr)
        self.assertIn("(no objs)", p.stderr)
        self.assertIn("'5x' is not a number", p.stderr)

    def test_zero_median(self):
        text = GOOD.replace(FULL % ("pss", 100000, 90000, 120000, 6), FULL % ("pss", 0, 0, 0, 6))
        text = text.replace("med_ns=50000", "med_ns=0")
        p = self.run_report(self.log(text))
        self.assertEqual(0, p.returncode, p.stderr)
        self.assertIn("n/a (a zero time)", p.stdout)

    def test_no_results(self):
        p = self.run_report(self.log("kernel panic\n#BENCH kind=full label"))
        self.assertEqual(1, p.returncode)
        self.assertIn("no results", p.stderr)

    def test_missing_log(self):
        p = self.run_report(os.path.join(self.dir.name, "nope.log"))
        self.assertEqual(1, p.returncode)
        self.assertIn("no such log", p.stderr)

    def test_missing_arguments(self):
        p = subprocess.run([sys.executable, REPORT], capture_output=True, text=True)
        self.assertEqual(2, p.returncode)
        self.assertIn("usage:", p.stderr)
        p = subprocess.run([sys.executable, REPORT, "x.log", "--md"], capture_output=True, text=True)
        self.assertEqual(2, p.returncode)
        self.assertNotIn("Traceback", p.stderr)


if __name__ == "__main__":
    unittest.main()
