#!/usr/bin/env python3
"""Where the machine's CPU went while wrk drove one contender (run.sh PROFILE=1).

Reads `perf script -F comm,pid,tid,ip,sym,dso` of a system-wide, flat (no call graph) `perf record -a` taken during
the contender's measured wrk window, and prints:
  1. the share of all samples (both cores, idle included) per process role: the contender, wrk, the backends, the
     kernel's idle loop, anything else (other engineers' builds on a shared machine show here);
  2. the contender's samples by thread name (.NET: thread-pool workers vs the socket engine vs the GC);
  3. the contender's samples by binary (JIT-compiled code, the runtime, the kernel, libc, ...);
  4. the contender's top symbols by self time. JIT-compiled methods are named through the runtime's perf map
     (DOTNET_PerfMapEnabled=1, which run.sh sets for the .NET proxies when PROFILE=1).

  5. with a `perf trace -s` summary of the contender (2 s of its warm-up): its syscalls per request by name, counting
     requests by its writes (nginx: two recvs and two writevs per request, epoll_wait for many at once).

usage: profile.py NAME PERF_SCRIPT_OUTPUT 'role=pid,pid role=pid ...' [TOP [PERF_TRACE_SUMMARY REQ_PER_S]]
"""
import collections
import re
import sys

LINE = re.compile(r"^\s*(?P<comm>.+?)\s+(?P<pid>\d+)/(?P<tid>\d+)\s+(?P<ip>[0-9a-f]+)\s+(?P<sym>.*?)\s+\((?P<dso>.*)\)\s*$")


def main():
    name, path, roles_arg = sys.argv[1:4]
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 25
    trace, rps = (sys.argv[5], float(sys.argv[6] or 0)) if len(sys.argv) > 6 else (None, 0)
    roles = {}
    for item in roles_arg.split():
        role, pids = item.split("=", 1)
        for pid in filter(None, pids.split(",")):
            roles[int(pid)] = role

    by_role, threads, dsos, syms = (collections.Counter() for _ in range(4))
    total = 0
    for line in open(path, errors="replace"):
        m = LINE.match(line)
        if not m:
            continue
        total += 1
        pid, comm = int(m["pid"]), m["comm"]
        role = roles.get(pid) or ("idle" if pid == 0 else "wrk" if comm.startswith("wrk") else "other: " + comm.split()[0])
        by_role[role] += 1
        if role != name:
            continue
        threads[re.sub(r"\d+$", "", comm).strip()] += 1
        dso = m["dso"].rsplit("/", 1)[-1]
        dsos["JIT code" if dso.startswith("perf-") and dso.endswith(".map") else dso] += 1
        sym = m["sym"] if m["sym"] not in ("[unknown]", "") else f"[unknown in {dso}]"
        syms[re.sub(r"\[Optimized\]|\[OptimizedTier1\]|\[Tier1\]|\[PreJIT\]|\[QuickJitted\]|\[Tier0\]", "", sym).strip()] += 1

    own = sum(threads.values())
    if total == 0:
        print(f"profile {name}: no samples")
        return
    print(f"\nprofile {name}: {total} samples on all cores; share of all samples by process:")
    print("  " + ", ".join(f"{r} {100 * c / total:.1f}%" for r, c in by_role.most_common(8)))
    if own == 0:
        return
    print(f"  {name} by thread: " + ", ".join(f"{t} {100 * c / own:.1f}%" for t, c in threads.most_common(8)))
    print(f"  {name} by binary: " + ", ".join(f"{d} {100 * c / own:.1f}%" for d, c in dsos.most_common(8)))
    print(f"  {name} top {top} symbols (self, % of {name}'s samples):")
    for sym, c in syms.most_common(top):
        print(f"    {100 * c / own:5.1f}%  {sym[:150]}")
    if trace and rps > 0:
        calls, errors = collections.Counter(), collections.Counter()
        try:
            for line in open(trace, errors="replace"):
                f = line.split()
                # perf trace -s rows: "syscall calls errors total min avg max stddev" under each thread's header.
                if len(f) >= 3 and re.fullmatch(r"[a-z_0-9]+", f[0]) and f[1].isdigit():
                    calls[f[0]] += int(f[1])
                    errors[f[0]] += int(f[2]) if f[2].isdigit() else 0
        except OSError:
            return
        # Tracing slows the contender, so count requests by its writes: a proxy writes each request once to the backend
        # and its response once to the client (sendto for .NET, writev for nginx).
        requests = (calls["sendto"] + calls["writev"] + calls["sendmsg"] + calls["write"]) / 2
        if requests == 0:
            return
        print(f"  {name} syscalls per request (perf trace over 2 s of its warm-up; requests = writes / 2): "
              + ", ".join(f"{s} {c / requests:.2f}" + (f" ({errors[s] / requests:.2f} failed)" if errors[s] else "")
                          for s, c in calls.most_common(7)))


if __name__ == "__main__":
    main()
