//! Builds the C harness against include/sellsync.h and the real libsellsync, and runs it as a
//! host would: the order flow, a process that dies before acknowledging, misuse, threads,
//! callbacks and fork.

mod common;

use common::cc::{compile_with, root};
use common::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn compile(compiler: &str, lang: &[&str], sources: &[&str], out: &Path) {
    compile_with(compiler, lang, &[], sources, out)
}

/// The harness, built once per test run with `-std=c11 -Wall -Wextra -Werror`.
fn harness() -> &'static Path {
    static H: OnceLock<PathBuf> = OnceLock::new();
    H.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sellsync-harness");
        compile(
            "cc",
            &["-std=c11"],
            &["tests/c/harness.c", "tests/c/second.c"],
            &out,
        );
        out
    })
}

fn run(mode: &str, config: &Path) -> (i32, String) {
    output(Command::new(harness()).arg(mode).arg(config))
}

/// Runs a harness command; its exit code and what it printed (stdout, then stderr).
fn output(cmd: &mut Command) -> (i32, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{stdout}{}",
            if stderr.is_empty() {
                String::new()
            } else {
                format!("\nstderr: {stderr}")
            }
        ),
    )
}

fn setup(
    orders: usize,
) -> (
    sellsync_emulator::Emulator,
    tempfile::TempDir,
    PathBuf,
    Vec<String>,
) {
    let emu = emulator(1000.0);
    seed_listings(&emu, 40, 50);
    let placed = place_orders(&emu, orders, false, None);
    let dir = tempdir();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        config_json(&emu, &dir.path().join("store.sqlite"), ""),
    )
    .unwrap();
    (emu, dir, config, placed)
}

fn taken(output: &str) -> usize {
    output
        .lines()
        .find_map(|l| l.strip_prefix("taken "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {output}"))
}

fn ids(output: &str) -> HashSet<String> {
    output
        .lines()
        .filter_map(|l| l.strip_prefix("id "))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_demo_pos_builds_warning_free() {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sellsync-demo-pos");
    compile("cc", &["-std=c11"], &["examples/pos.c"], &out);
    assert!(out.exists());
}

#[test]
fn the_header_works_from_cpp() {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sellsync-cpp");
    compile("c++", &["-std=c++17"], &["tests/c/cpp_compat.cpp"], &out);
    let status = Command::new(&out).status().unwrap();
    assert!(status.success());
}

#[test]
fn a_c_host_takes_and_acknowledges_every_order() {
    let (_emu, _dir, config, placed) = setup(120);
    let (code, out) = run("flow", &config);
    assert_eq!(code, 0, "{out}");
    assert_eq!(taken(&out), placed.len());
    // A second host run finds nothing left to take.
    let (code, out) = run("take-all", &config);
    assert_eq!(code, 0, "{out}");
    assert_eq!(taken(&out), 0);
}

#[test]
fn orders_taken_by_a_process_that_dies_come_back_and_acknowledged_ones_never_do() {
    let (_emu, _dir, config, placed) = setup(30);
    let (code, out) = run("take-and-die", &config);
    assert_eq!(code, 3, "the first host dies on purpose: {out}");
    let first = ids(&out);
    assert_eq!(first.len(), placed.len());
    let (code, out) = run("take-all", &config);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        ids(&out),
        first,
        "the new process gets exactly the orders the dead one took"
    );
    let (code, out) = run("take-all", &config);
    assert_eq!(code, 0, "{out}");
    assert_eq!(taken(&out), 0, "acknowledged orders never come back");
}

#[test]
fn every_misuse_gets_a_clear_status_and_nothing_crashes() {
    let (_emu, _dir, config, _) = setup(3);
    let (code, out) = run("misuse", &config);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("misuse ok"));
}

#[test]
fn every_export_refuses_each_null_pointer_argument_with_a_clear_status() {
    let (_emu, _dir, config, _) = setup(0);
    let (code, out) = run("nulls", &config);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("nulls ok"), "{out}");
    // Every function the header declares went through the NULL checks.
    let header = std::fs::read_to_string(root().join("include/sellsync.h")).unwrap();
    let checked: HashSet<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("null-checked "))
        .collect();
    // Declarations start at the beginning of a line with their return type.
    let declared: Vec<String> = header
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()) && !l.starts_with("typedef"))
        .filter_map(|l| {
            let name = l[..l.find('(')?]
                .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()?;
            name.starts_with("sellsync_").then(|| name.to_string())
        })
        .collect();
    for name in &declared {
        assert!(
            checked.contains(name.as_str()),
            "{name} was not NULL-checked: {out}"
        );
    }
    let declared = declared.len();
    assert!(
        declared >= 25,
        "only {declared} exports found in the header"
    );
}

#[test]
fn eight_threads_share_one_handle_and_close_wakes_a_blocked_waiter() {
    let (_emu, _dir, config, placed) = setup(200);
    let (code, out) = run("threads", &config);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        taken(&out),
        placed.len(),
        "each order taken by exactly one thread"
    );
}

#[test]
fn the_event_callback_may_call_back_in_and_its_user_data_is_freed_once() {
    let (_emu, _dir, config, _) = setup(5);
    let (code, out) = run("callback", &config);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_forked_child_cannot_use_the_parents_handle() {
    let (_emu, _dir, config, _) = setup(2);
    let (code, out) = run("fork", &config);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("fork ok"));
}

#[test]
fn a_c_host_maps_skus_and_sets_stock_and_amazon_follows() {
    let (emu, _dir, config, _) = setup(0);
    let (code, out) = run("stock", &config);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("stock ok"));
    landed(&emu);
    assert_eq!(emu.control().quantity("SKU-0000"), Some(13));
    assert_eq!(
        emu.control().quantity("SKU-0001"),
        Some(2),
        "13 units make two 6-packs"
    );
    assert_eq!(
        emu.control().quantity("SKU-0002"),
        Some(2),
        "the kit needs 2 of H2, of which there are 4"
    );
}

#[test]
fn a_c_host_confirms_shipments_and_each_reaches_amazon_once() {
    let (emu, _dir, config, placed) = setup(25);
    let (code, out) = run("ship", &config);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("shipped {}", placed.len())), "{out}");
    let state = emu.control().state();
    let ships = state["shipments"].as_array().unwrap();
    assert_eq!(ships.len(), placed.len());
    assert!(ships
        .iter()
        .all(|s| s["confirmations"] == 1 && s["carrier_code"] == "DHL"));
}

fn seqs(output: &str) -> HashSet<i64> {
    output
        .lines()
        .filter_map(|l| l.strip_prefix("seq "))
        .map(|s| s.parse().unwrap())
        .collect()
}

#[test]
fn events_taken_by_a_process_that_dies_come_back_and_acknowledged_ones_never_do() {
    let (_emu, _dir, config, _) = setup(4);
    let (code, out) = run("events-and-die", &config);
    assert_eq!(code, 4, "the first host dies on purpose: {out}");
    let first = seqs(&out);
    assert!(
        first.len() >= 5,
        "4 order.ready and a sync.completed were taken: {out}"
    );
    let (code, out) = run("events-all", &config);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        seqs(&out),
        first,
        "the new process gets exactly the events the dead one took"
    );
    let (code, out) = run("events-all", &config);
    assert_eq!(code, 0, "{out}");
    assert!(
        seqs(&out).is_empty(),
        "acknowledged events never come back: {out}"
    );
}

/// LWA is down for a whole sync (every attempt), then Amazon refuses the access token once.
fn lwa_down_then_token_refused(emu: &sellsync_emulator::Emulator) {
    use sellsync_emulator::{Fault, FaultKind};
    emu.control().inject(Fault {
        operation: "lwaToken".into(),
        count: 8,
        kind: FaultKind::Status { status: 503 },
    });
    emu.control().inject(Fault {
        operation: "searchOrders".into(),
        count: 1,
        kind: FaultKind::ExpiredToken,
    });
}

#[test]
fn the_log_callback_gets_every_level_and_never_a_secret() {
    let (emu, _dir, config, _) = setup(3);
    lwa_down_then_token_refused(&emu);
    let (code, out) = run("log", &config);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("syncs network error success"), "{out}");
    let lines = log_lines(&out);
    for level in 1..=4 {
        assert!(
            lines.iter().any(|(l, _)| *l == level),
            "no line at level {level}: {out}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|(l, t)| *l == 1 && t.contains("orders flow failed")),
        "{out}"
    );
    assert!(
        lines
            .iter()
            .any(|(l, t)| *l == 3 && t.contains("orders: 3 orders")),
        "{out}"
    );
    let seller = sellsync_emulator::Seller::demo();
    for (_, text) in &lines {
        for secret in [
            seller.client_secret.as_str(),
            seller.refresh_token.as_str(),
            "Atza|",
        ] {
            assert!(!text.contains(secret), "a secret in the log: {text}");
        }
    }
}

#[test]
fn without_a_log_callback_the_library_prints_nothing() {
    let (emu, _dir, config, _) = setup(3);
    lwa_down_then_token_refused(&emu);
    let out = Command::new(harness())
        .arg("quiet")
        .arg(&config)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "printed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The harness built with AddressSanitizer (leak detection included) and
/// UndefinedBehaviorSanitizer; the first report ends the run with a failure.
fn sanitized_harness() -> &'static Path {
    static H: OnceLock<PathBuf> = OnceLock::new();
    H.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sellsync-harness-asan");
        compile_with(
            "cc",
            &["-std=c11"],
            &[
                "-fsanitize=address,undefined",
                "-fno-sanitize-recover=all",
                "-fno-omit-frame-pointer",
                "-g",
            ],
            &["tests/c/harness.c", "tests/c/second.c"],
            &out,
        );
        out
    })
}

/// The modes checked under the sanitizers and valgrind, each with the orders it is set up with.
const SANITIZED_MODES: [(&str, usize, &str); 6] = [
    ("misuse", 3, "misuse ok"),
    ("nulls", 0, "nulls ok"),
    ("flow", 30, "taken 30"),
    ("stock", 0, "stock ok"),
    ("callback", 5, ""),
    ("threads", 40, "taken 40"),
];

#[test]
fn sanitizers_find_no_memory_error_leak_or_undefined_behaviour_in_the_harness_modes() {
    let supp = root().join("tests/c/lsan.supp");
    for (mode, orders, expect) in SANITIZED_MODES {
        let (_emu, _dir, config, _) = setup(orders);
        let (code, out) = output(
            Command::new(sanitized_harness())
                .arg(mode)
                .arg(&config)
                .env(
                    "ASAN_OPTIONS",
                    "halt_on_error=1:detect_leaks=1:fast_unwind_on_malloc=0:exitcode=97",
                )
                .env(
                    "LSAN_OPTIONS",
                    format!("suppressions={}:print_suppressions=1", supp.display()),
                )
                .env(
                    "UBSAN_OPTIONS",
                    "halt_on_error=1:print_stacktrace=1:exitcode=98",
                ),
        );
        assert_eq!(code, 0, "{mode} under ASan/UBSan: {out}");
        assert!(out.contains(expect), "{mode}: {out}");
        assert!(!out.contains("ERROR: "), "{mode}: {out}");
    }
}

/// The modes run under valgrind, which is slow: the ones that cover every export.
const VALGRIND_MODES: [(&str, usize, &str); 3] = [
    ("misuse", 3, "misuse ok"),
    ("nulls", 0, "nulls ok"),
    ("callback", 5, ""),
];

#[test]
fn valgrind_memcheck_finds_no_memory_error_or_leak_in_the_harness_modes() {
    let found = Command::new("valgrind").arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "valgrind is not on the PATH: install it (apt-get install valgrind; .ci/run and \
         scripts/sanitize do) to run this test"
    );
    let supp = root().join("tests/c/valgrind.supp");
    for (mode, orders, expect) in VALGRIND_MODES {
        let (_emu, _dir, config, _) = setup(orders);
        let (code, out) = output(
            Command::new("valgrind")
                .args([
                    "--quiet",
                    "--error-exitcode=1",
                    "--leak-check=full",
                    "--show-leak-kinds=definite,indirect,possible",
                    "--errors-for-leak-kinds=definite,indirect,possible",
                ])
                .arg(format!("--suppressions={}", supp.display()))
                .arg(harness())
                .arg(mode)
                .arg(&config),
        );
        assert_eq!(code, 0, "{mode} under valgrind: {out}");
        assert!(out.contains(expect), "{mode}: {out}");
    }
}
