# The end of bench/gateway/run.sh: the issue-14 Done-when ratios from one run, and the README / bench README rows
# ready to paste. Arguments: results.txt, open-loop.txt, backend, load average at the start and at the end, rounds.
import statistics, sys, time
results, open_loop, backend, load_start, load_end, rounds = sys.argv[1:7]
cols = {}
for line in open(results):
    f = line.split()
    cols.setdefault(f[0], []).append(f[1:])
def med(name, i):
    vals = [float(r[i]) for r in cols.get(name, []) if r[i] != "-"]
    return statistics.median(vals) if vals else None
def ratio(a, b):
    return a / b if a is not None and b else None
def num(x):
    return "n/a" if x is None else f"{x:g}"
def fmt(x):
    return "n/a" if x is None else f"{x:.2f}x"
def verdict(x, goal, le):
    return "" if x is None else ("met" if (x <= goal if le else x >= goal) else "NOT met")
ol = {}
for line in open(open_loop):
    f = line.split()
    kv = dict(zip(f[1::2], f[2::2]))
    if "p999_ms" in kv:
        ol[(f[0], int(kv["rate"]))] = kv
rps_goal = 1.0 if backend == "agentworker" else 0.75
backend_name = "AgentWorker" if backend == "agentworker" else "static"
when = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
print(f"\n==== issue 14 Done-when: {backend_name} backends, {when} UTC, load average {load_start} at the start, {load_end} at the end")
cpu = ratio(med("gateway", 3), med("yarp", 3))
rps = ratio(med("gateway", 0), med("nginx", 0))
yarp_rps = ratio(med("yarp", 0), med("nginx", 0))
byt = ratio(med("gateway", 4), med("yarp", 4))
if int(rounds) > 0:
    print(f"  gateway/bare-YARP CPU per request    {fmt(cpu):>6}  goal <= 1.10x  {verdict(cpu, 1.10, True):8}"
          f"  ({num(med('gateway', 3))} vs {num(med('yarp', 3))} us/req)")
    print(f"  gateway/nginx req/s                  {fmt(rps):>6}  goal >= {rps_goal:.2f}x  {verdict(rps, rps_goal, False):8}"
          f"  ({med('gateway', 0):,.0f} vs {med('nginx', 0) or 0:,.0f}; bare YARP/nginx {fmt(yarp_rps)})" if med('gateway', 0) else "")
    print(f"  gateway/bare-YARP bytes per request  {fmt(byt):>6}  ({num(med('gateway', 4))} vs {num(med('yarp', 4))} B/req)")
    for b in ("gateway-b", "gateway-c"):
        if b in cols:
            print(f"  A/B {b}/gateway: CPU per request {fmt(ratio(med(b, 3), med('gateway', 3)))},"
                  f" req/s {fmt(ratio(med(b, 0), med('gateway', 0)))},"
                  f" bytes {fmt(ratio(med(b, 4), med('gateway', 4)))};"
                  f" {b}/bare-YARP CPU {fmt(ratio(med(b, 3), med('yarp', 3)))},"
                  f" {b}/nginx req/s {fmt(ratio(med(b, 0), med('nginx', 0)))}")
rates = sorted({r for _, r in ol})
p99 = {}
for r in rates:
    g, x = ol.get(("gateway", r)), ol.get(("nginx", r))
    if g and x:
        p99[r] = float(g["p99_ms"]) / float(x["p99_ms"])
        goal = f"goal <= 1.00x  {verdict(p99[r], 1.0, True):8}" if r <= 4000 else "(no goal above 4,000)"
        print(f"  open loop {r:>5} req/s: gateway/nginx p99 {p99[r]:.2f}x  {goal}"
              f"  (p50 {g['p50_ms']} vs {x['p50_ms']}, p99 {g['p99_ms']} vs {x['p99_ms']}, p99.9 {g['p999_ms']} vs {x['p999_ms']} ms)")
if int(rounds) > 0 and None not in (cpu, rps, yarp_rps, med('gateway', 4), med('yarp', 4)):
    # README.md's results table: | what (when, load) | command | figures |
    what = ("gateway vs bare YARP vs nginx vs direct, static backends" if backend != "agentworker"
            else "the same with real AgentWorker backends")
    command = "bench/gateway/run.sh" if backend != "agentworker" else "BACKEND=agentworker bench/gateway/run.sh"
    open_loop_text = ""
    shown = [r for r in rates if r <= 4000 and r in p99]
    if shown:
        open_loop_text = ("; open-loop p99 " + " / ".join(f"{p99[r]:.2f}×" for r in shown) + " nginx's at "
                          + " / ".join(f"{r:,}" for r in shown) + " req/s")
    print("\nREADME.md row:")
    print(f"| {what} ({when}, load average {load_start.split()[0]}–{load_end.split()[0]}) | `{command}` | "
          f"gateway/bare-YARP CPU per request **{cpu:.2f}×** ({num(med('gateway', 3))} vs {num(med('yarp', 3))} µs; goal ≤ 1.1×), "
          f"bytes {byt:.2f}× ({med('gateway', 4):,.0f} vs {med('yarp', 4):,.0f} B); gateway/nginx **{rps:.2f}×** req/s "
          f"(goal ≥ {rps_goal:.2f}×; bare YARP itself {yarp_rps:.2f}×){open_loop_text} |")
if int(rounds) > 0 and cols:
    label = {"direct": "direct", "nginx": "nginx", "yarp": "bare YARP", "gateway": "gateway", "gateway-b": "gateway-b", "gateway-c": "gateway-c"}
    print("\nbench/README closed-loop rows (| backend | contender | req/s | p99 ms (closed) | CPU µs/req | bytes/req |):")
    for n in [n for n in label if n in cols]:
        b = med(n, 4)
        print(f"| {backend_name} | {label[n]} | {med(n, 0):,.0f} | {med(n, 2):.2f} | {med(n, 3):.1f} | {'—' if b is None else f'{b:,.0f}'} |")
if ol:
    names = [n for n in ["direct", "nginx", "yarp", "gateway", "gateway-b", "gateway-c"] if any((n, r) in ol for r in rates)]
    label = {"direct": "direct", "nginx": "nginx", "yarp": "bare YARP", "gateway": "gateway", "gateway-b": "gateway-b", "gateway-c": "gateway-c"}
    print("\nbench/README open-loop rows (ms, p50 / p99 / p99.9; in brackets what the proxy adds over direct):")
    print("| rate | " + " | ".join(label[n] for n in names) + " |")
    print("| ---: | " + " | ".join("---" for _ in names) + " |")
    for r in rates:
        d = ol.get(("direct", r))
        cells = []
        for n in names:
            kv = ol.get((n, r))
            if kv is None:
                cells.append("—")
                continue
            v = [float(kv[k]) for k in ("p50_ms", "p99_ms", "p999_ms")]
            cell = " / ".join(f"{x:.2f}" for x in v)
            if d and n != "direct":
                dv = [float(d[k]) for k in ("p50_ms", "p99_ms", "p999_ms")]
                cell += " (" + " / ".join(f"{a - b:+.2f}" for a, b in zip(v, dv)) + ")"
            if kv.get("errors", "0") != "0":
                cell += f", {kv['errors']} errors"
            cells.append(cell)
        print(f"| {r:,} | " + " | ".join(cells) + " |")
