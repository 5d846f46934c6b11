"""Runs every benchmark, collects their `@result` lines (benches/common/report.rs) and rewrites
the part of BENCHMARKS.md between `<!-- bench:start -->` and `<!-- bench:end -->`.
Run through scripts/bench, from the repository root."""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
MIB = 1024 * 1024

# (section, cargo arguments, environment for a full run, for --quick, what is measured)
BENCHES = [
    ("orders in", ["--bench", "orders_in"], {}, {"ORDERS_IN_ORDERS": "2500", "ORDERS_IN_SCALE": "1000"},
     "Paid orders waiting on the emulator, every usage-plan rate x100 (the Python client's delays "
     "divided alike); each client reads them from its own emulator: sellsync with Orders "
     "2026-01-01 `searchOrders` (the default) and with Orders v0, and a python-amazon-sp-api "
     "loop over v0 `getOrders` + `getOrderItems` with `throttle_retry`. The bound is the least "
     "time the usage plans allow for the calls needed (pages of 100 orders; v0: one "
     "`getOrderItems` per order at 0.5/s after a burst of 30)."),
    ("stock", ["--bench", "stock_set"], {"STOCK_SET_ROUNDS": "1"}, {"STOCK_SET_ROUNDS": "1", "STOCK_SET_SKUS": "10000"},
     "Stock levels through the C ABI beside bare SQLite (one table in WAL mode) doing the same "
     "durable upserts at the same `synchronous` setting: one level per call and 1,000 per call "
     "at `full` durability, one per call at `process`, four host threads at once, and the CPU of "
     "one call at 1,000 and at 100,000 mapped SKUs."),
    ("big shop", ["--bench", "big_shop"], {}, {"BIG_SHOP_SKUS": "10000", "BIG_SHOP_ORDERS": "10000"},
     "100,000 SKUs mapped and reported in one call each, then 100,000 orders taken in (Orders "
     "2026-01-01) in ten waves and handed over with `sellsync_order_next` + "
     "`sellsync_order_ack`; the emulator runs in a child process, so CPU and peak RSS are the "
     "host's and the library's alone."),
    ("stock change to Amazon", ["--bench", "race"], {},
     {"RACE_SECONDS": "20", "RACE_SOAK_SECONDS": "15", "RACE_ORDERS_SECONDS": "15"},
     "The race bench, part 1: at Amazon's real rates, 2,000 SKUs, the background worker at its "
     "default intervals for 90 s with orders, shipments, deliveries (bulk feeds) and in-store "
     "sales flowing; from the host's report of a fall until Amazon showed no more than the new "
     "shelf. Part 2 (shipments soak): emulator 60x, buyers ordering, the host confirming every "
     "package at once for 60 s. Part 3 (order placed to host has it): emulator 60x, worker "
     "intervals ÷ 60, an order paid every 30 emulated s for 40 s, in emulated seconds against "
     "README's floor (120 s two-minute rule + 10 s margin + 180 s polling); then the same with "
     "notifications (ORDER_CHANGE through the emulator's SQS queue, each 2 emulated s after the "
     "change, then getOrder), against the goal of 15 s."),
    ("shared store", ["--bench", "shared_store"], {"SHARED_STORE_ROUNDS": "1"},
     {"SHARED_STORE_ROUNDS": "1", "SHARED_STORE_SECONDS": "2", "SHARED_STORE_ORDERS": "500"},
     "The store on PostgreSQL (a private cluster at its defaults: `fsync`, `synchronous_commit` "
     "on) beside the store on SQLite, both at `full` stock durability. Stock: real OS processes, "
     "each a till with no worker calling `stock_set` with one level at a time for its own 100 "
     "items as fast as it can for 5 s; 4 processes at once on one PostgreSQL database, 1 on "
     "PostgreSQL, 1 on a SQLite file (not shareable between processes: the reference). Orders: "
     "2,000 paid orders, emulator rates x10,000 so the store dominates, one till: the wall time "
     "of `sync_now(FLOW_ORDERS)` per order, then of `order_next` + `order_ack` per order."),
    ("emulator", ["-p", "sellsync-emulator", "--bench", "load"], {}, {"LOAD_SIZE": "20000"},
     "The emulator with 100,000 listings and 100,000 orders loaded: 200 `searchOrders` pages of "
     "100 orders over loopback HTTP, each beside the cheapest call it serves."),
]
# Sections the race bench reports besides its own name.
ALSO = {"stock change to Amazon": ["shipments soak", "order placed to host has it",
                                   "order placed to host has it, with notifications"]}


def build():
    """Builds in release; returns {bench name: (executable, package directory)}."""
    cmd = ["cargo", "build", "--release", "--workspace", "--lib", "--benches", "--locked",
           "--message-format=json-render-diagnostics"]
    print("== " + " ".join(cmd[:-1]), file=sys.stderr, flush=True)
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True).stdout
    benches = {}
    for line in out.splitlines():
        m = json.loads(line)
        if m.get("reason") == "compiler-artifact" and m["target"]["kind"] == ["bench"] and m.get("executable"):
            benches[m["target"]["name"]] = (m["executable"], os.path.dirname(m["manifest_path"]))
    return benches


def run(cmd, env=None, cwd=None):
    """Runs a bench as `cargo bench` would, showing its own output; returns its lines."""
    print("== " + " ".join(cmd), file=sys.stderr, flush=True)
    p = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, cwd=cwd, stdout=subprocess.PIPE, text=True)
    lines = []
    for line in p.stdout:
        lines.append(line)
        if not line.startswith("@result\t"):
            sys.stderr.write(line)
    if p.wait() != 0:
        sys.exit(f"failed: {' '.join(cmd)}")
    return lines


def log_of(round_, name):
    """Where a bench's output of a round is kept (read back by --only)."""
    return os.path.join("target", "bench", f"round-{round_}-{name}.log")


def parse(lines, round_, results):
    """results[(section, measure)] = {"unit", "reference", "goal", "values": {round: value}}"""
    for line in lines:
        if line.startswith("@result\t"):
            _, section, measure, value, unit, reference, goal = line.rstrip("\n").split("\t")
            r = results.setdefault((section, measure), {"unit": unit, "reference": reference, "goal": goal, "values": {}})
            r["values"][round_] = float(value)


def library_size(results, round_):
    with tempfile.TemporaryDirectory() as d:
        copy = os.path.join(d, "libsellsync.so")
        subprocess.run(["strip", "-o", copy, "target/release/libsellsync.so"], check=True)
        mib = os.path.getsize(copy) / MIB
    parse([f"@result\tlibrary size\tlibsellsync.so, stripped\t{mib}\tMiB\t\t<= 10\n"], round_, results)


def goal_met(goal, value, ratio):
    m = re.fullmatch(r"(<=|>=) *([-\d.]+)(x?)", goal)
    x = ratio if m.group(3) else value
    if x is None:
        return None
    return x <= float(m.group(2)) if m.group(1) == "<=" else x >= float(m.group(2))


def fmt(v):
    if v is None:
        return "–"
    if v == 0 or abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"


def show_goal(goal, reference):
    m = re.fullmatch(r"(<=|>=) *([-\d.]+)(x?)", goal)
    op = "≤" if m.group(1) == "<=" else "≥"
    return f"{op} {m.group(2)}x of reference" if m.group(3) else f"{op} {m.group(2)}"


def table(section, results, rounds):
    rows = ["| measure | median | min | max | unit | reference | ratio (median) | goal | met |",
            "|---|---|---|---|---|---|---|---|---|"]
    for (s, measure), r in results.items():
        if s != section:
            continue
        vals = list(r["values"].values())
        ref = results.get((section, r["reference"]), {}).get("values", {}) if r["reference"] else {}
        ratios = [v / ref[k] for k, v in r["values"].items() if ref.get(k)]
        ratio = statistics.median(ratios) if ratios else None
        value = statistics.median(vals)
        met = goal_met(r["goal"], value, ratio) if r["goal"] else None
        rows.append("| " + " | ".join([
            measure, fmt(value), fmt(min(vals)), fmt(max(vals)), r["unit"], r["reference"],
            f"{ratio:.2f}x" if ratio is not None else "",
            show_goal(r["goal"], r["reference"]) if r["goal"] else "",
            {True: "yes", False: "**no**", None: ""}[met] if r["goal"] else "",
        ]) + " |")
    return "\n".join(rows)


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    return f"{cpu}, {os.cpu_count()} cores, {mem / MIB:.1f} GiB memory, {platform.system()} {platform.release()}"


def main():
    ap = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1 round, small sizes: a smoke run")
    ap.add_argument("--only", help="comma-separated bench names (e.g. race,load) to run; the others' "
                    "results are read back from their logs in target/bench, from an earlier run")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None
    rounds = 1 if args.quick else args.rounds
    command = "scripts/bench" + (f" --rounds {args.rounds}" if args.rounds != 3 and not args.quick else "") + (" --quick" if args.quick else "")
    if only:
        command += f" --only {args.only} (the other benches' figures read back from an earlier run's logs)"
    started, t0 = datetime.datetime.now(datetime.timezone.utc), time.time()
    executables = build()
    results = {}
    for round_ in range(1, rounds + 1):
        for section, cargo_args, env, quick_env, _ in BENCHES:
            name = cargo_args[-1]
            if only is None or name in only:
                print(f"== round {round_}/{rounds}: {section}", file=sys.stderr)
                exe, package = executables[name]
                lines = run([exe, "--bench"], quick_env if args.quick else env, package)
                os.makedirs("target/bench", exist_ok=True)
                open(log_of(round_, name), "w").writelines(lines)
    for round_ in range(1, rounds + 1):
        for _, cargo_args, _, _, _ in BENCHES:
            parse(open(log_of(round_, cargo_args[-1])).readlines(), round_, results)
        library_size(results, round_)
    minutes = (time.time() - t0) / 60
    rustc = subprocess.run(["rustc", "-V"], capture_output=True, text=True).stdout.strip()

    out = [START, "",
           "Generated by `scripts/bench`: do not edit between the markers.", "",
           f"- machine: {machine()}",
           f"- date: {started:%Y-%m-%d %H:%M} UTC; {rustc}",
           f"- command: `{command}` ({rounds} round{'s' if rounds > 1 else ''} of every bench; this invocation took {minutes:.0f} minutes)",
           "",
           "Each row: the median over the rounds with min and max; ratio: the value divided by the "
           "reference's in the same round (median over the rounds); goal: on the median value, or "
           "on that ratio where it says \"of reference\"."]
    if args.quick:
        out += ["", "**A smoke run (`--quick`): small sizes, one round; not the figures of record.**"]
    for section, cargo_args, env, quick_env, about in BENCHES:
        used = quick_env if args.quick else env
        cmd = " ".join([f"{k}={v}" for k, v in used.items()] + ["cargo bench", *cargo_args])
        out += ["", f"### {section[0].upper() + section[1:]}", "", f"Command: `{cmd}`", "", about, "", table(section, results, rounds)]
        for extra in ALSO.get(section, []):
            out += ["", f"{extra[0].upper() + extra[1:]}:", "", table(extra, results, rounds)]
    out += ["", "### Library size", "", "`target/release/libsellsync.so` stripped (`strip` into a temporary copy).", "",
            table("library size", results, rounds), "", END]

    doc = open("BENCHMARKS.md").read()
    if START in doc and END in doc:
        doc = doc[:doc.index(START)] + "\n".join(out) + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + "\n".join(out) + "\n"
    open("BENCHMARKS.md", "w").write(doc)
    print(f"== BENCHMARKS.md rewritten ({minutes:.0f} minutes)", file=sys.stderr)


if __name__ == "__main__":
    main()
