//! sellsync.dll under Wine: the C harness (tests/c/harness.c) in its modes and the shortest
//! host (examples/hello.c), built with MinGW-w64 against the Windows package that
//! `scripts/build-windows` lays out and run under Wine against the emulator on loopback, as a
//! Windows till would run them. Each store lies in a folder whose name is not ASCII, given in
//! the configuration as a Windows path (`Z:\...`, Wine's drive for `/`).
//!
//! `scripts/test-windows` runs these tests: it builds the package and names it and Wine in
//! `SELLSYNC_WINDOWS_PACKAGE`, `SELLSYNC_WINE` and `WINEPREFIX`. Plain `cargo test` skips them
//! (ignored). The harness's `fork` mode has no Windows meaning and is not built there; its
//! `acl` mode, which reads the files' DACLs back, cannot pass under Wine, which keeps no ACLs
//! (it maps a DACL onto Unix permission bits and reports one made from them, never protected),
//! and is for a real Windows machine.

mod common;

use common::cc::run;
use common::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const WHY: &str = "needs the Windows package and Wine: run scripts/test-windows";

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: {WHY}"))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The folder of the Windows programs: sellsync.dll beside the harness and both builds of
/// hello, compiled once per test run.
fn programs() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let package = PathBuf::from(env("SELLSYNC_WINDOWS_PACKAGE"));
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("windows-programs");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(package.join("sellsync.dll"), dir.join("sellsync.dll"))
            .unwrap_or_else(|e| panic!("{}: {e}", package.display()));
        let include = package.join("include");
        // What an MSVC user's `lib /def:sellsync.def` makes, made here with MinGW's dlltool.
        let def_lib = dir.join("sellsync.lib");
        run(Command::new("x86_64-w64-mingw32-dlltool")
            .arg("-d")
            .arg(package.join("sellsync.def"))
            .arg("-l")
            .arg(&def_lib));
        for (exe, sources, import) in [
            (
                "harness.exe",
                &["tests/c/harness.c", "tests/c/second.c"][..],
                package.join("libsellsync.dll.a"),
            ),
            (
                "hello.exe",
                &["examples/hello.c"][..],
                package.join("libsellsync.dll.a"),
            ),
            ("hello-def.exe", &["examples/hello.c"][..], def_lib.clone()),
            (
                "pos.exe",
                &["examples/pos.c"][..],
                package.join("libsellsync.dll.a"),
            ),
        ] {
            // Static C runtime parts (winpthreads): the programs need only sellsync.dll.
            run(Command::new("x86_64-w64-mingw32-gcc")
                .current_dir(root())
                .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-static"])
                .arg("-I")
                .arg(&include)
                .args(sources)
                .arg(&import)
                .arg("-lpthread")
                .arg("-o")
                .arg(dir.join(exe)));
        }
        dir
    })
}

/// The command that runs a Windows program of `programs()` under Wine.
fn wine_command(exe: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env("SELLSYNC_WINE"));
    cmd.arg(programs().join(exe))
        .args(args)
        .env("WINEPREFIX", env("WINEPREFIX"))
        .env("WINEDEBUG", "-all")
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
        .env("DISPLAY", "");
    cmd
}

/// Runs a Windows program of `programs()` under Wine: its exit code, stdout and stderr.
fn wine(exe: &str, args: &[&str]) -> (i32, String, String) {
    let out = wine_command(exe, args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run Wine: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"),
        String::from_utf8_lossy(&out.stderr).replace("\r\n", "\n"),
    )
}

/// Starts a Windows program of `programs()` under Wine, its stdout piped.
fn wine_spawn(exe: &str, args: &[&str]) -> std::process::Child {
    wine_command(exe, args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run Wine: {e}"))
}

/// The path a Windows program under Wine names `p` by.
fn windows_path(p: &Path) -> String {
    format!("Z:{}", p.to_str().unwrap().replace('/', "\\"))
}

/// A folder name that is not ASCII (German umlauts and Japanese).
const SHOP: &str = "Kasse \u{dc}mlaut \u{65e5}\u{672c}";

struct Shop {
    emu: sellsync_emulator::Emulator,
    dir: tempfile::TempDir,
    config: String,
    placed: Vec<String>,
}

impl Shop {
    fn new(orders: usize) -> Shop {
        let emu = emulator(1000.0);
        seed_listings(&emu, 40, 50);
        let placed = place_orders(&emu, orders, false, None);
        let dir = tempdir();
        let shop = dir.path().join(SHOP);
        std::fs::create_dir(&shop).unwrap();
        let store = windows_path(&shop.join("store.sqlite"));
        let config = dir.path().join("config.json");
        std::fs::write(
            &config,
            config_json_with(&emu, &format!(r#""store_path": {store:?}"#), ""),
        )
        .unwrap();
        let config = windows_path(&config);
        Shop {
            emu,
            dir,
            config,
            placed,
        }
    }

    /// Runs the harness in `mode`: exit code and what it printed (stdout, then stderr).
    fn harness(&self, mode: &str) -> (i32, String) {
        let (code, out, err) = wine("harness.exe", &[mode, &self.config]);
        (code, format!("{out}{err}"))
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join(SHOP).join("store.sqlite")
    }
}

fn taken(output: &str) -> usize {
    output
        .lines()
        .find_map(|l| l.strip_prefix("taken "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no count in {output}"))
}

fn prefixed<'a>(output: &'a str, prefix: &str) -> HashSet<&'a str> {
    output
        .lines()
        .filter_map(|l| l.strip_prefix(prefix))
        .collect()
}

#[test]
#[ignore = "needs the Windows package and Wine: run scripts/test-windows"]
fn a_windows_host_takes_every_order_once_with_its_store_under_a_unicode_folder() {
    let shop = Shop::new(60);
    let (code, out) = shop.harness("flow");
    assert_eq!(code, 0, "{out}");
    assert_eq!(taken(&out), shop.placed.len());
    for file in ["store.sqlite", "store.sqlite.key"] {
        let p = shop.dir.path().join(SHOP).join(file);
        assert!(
            p.exists(),
            "{} made under the folder's own name",
            p.display()
        );
    }
    let (code, out) = shop.harness("take-all");
    assert_eq!(code, 0, "{out}");
    assert_eq!(taken(&out), 0, "a second run finds nothing left to take");
    assert!(shop.store().exists());
}

#[test]
#[ignore = "needs the Windows package and Wine: run scripts/test-windows"]
fn orders_a_dead_windows_process_took_come_back_and_acknowledged_ones_never_do() {
    let shop = Shop::new(20);
    let (code, out) = shop.harness("take-and-die");
    assert_eq!(code, 3, "the first host dies on purpose: {out}");
    let first: HashSet<String> = prefixed(&out, "id ")
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(first.len(), shop.placed.len());
    let (code, out) = shop.harness("take-all");
    assert_eq!(code, 0, "{out}");
    let again: HashSet<String> = prefixed(&out, "id ")
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(
        again, first,
        "the new process gets exactly the dead one's orders"
    );
    let (code, out) = shop.harness("take-all");
    assert_eq!((code, taken(&out)), (0, 0), "{out}");
}

/// The demo POS (`examples/pos.c`, as `scripts/demo --windows` runs it) built for Windows and
/// run under Wine for 10 s against the demo shop at 720 times real speed (two emulated hours,
/// buyers ordering 20 an hour, accepted patches landing late as on Amazon, no order hours
/// late in searches): it books every order placed more than 15 emulated minutes before the
/// newest it booked (Amazon's two-minute rule, the search lag and the search interval take up
/// to 7), ships every one of its own it does not cancel, and Amazon never shows more than its
/// shelf.
#[test]
#[ignore = "needs the Windows package and Wine: run scripts/test-windows"]
fn the_demo_pos_books_ships_and_stocks_the_demo_shop_under_wine() {
    let speed = 720.0;
    let emu = sellsync_emulator::Emulator::start(sellsync_emulator::Config {
        rate_scale: speed,
        clock_speed: speed,
        settings: sellsync_emulator::Settings {
            order_search_late_rate: 0.0,
            ..Default::default()
        },
        ..Default::default()
    })
    .unwrap();
    let c = emu.control();
    c.seed_listings(None, &sellsync_emulator::cli::demo_listings())
        .unwrap();
    c.start_buyers(sellsync_emulator::buyers::BuyersConfig {
        seller_id: None,
        marketplace_ids: vec![],
        orders_per_hour: 20.0,
        cancel_request_share: 0.0,
        max_units: 2,
        max_lines: 1,
        return_share: 0.0,
        defect_share: 0.0,
    });
    let dir = tempdir();
    let store = windows_path(&dir.path().join(SHOP).join("shop.sqlite"));
    std::fs::create_dir(dir.path().join(SHOP)).unwrap();
    let config = dir.path().join("config.json");
    let extra = format!(
        r#","intervals": {{"orders_seconds": {}, "stock_seconds": {}}},
            "stock": {{"listings_feed_window_seconds": {}, "buffer": "auto"}}"#,
        180.0 / speed,
        30.0 / speed,
        300.0 / speed
    );
    std::fs::write(
        &config,
        config_json_with(&emu, &format!(r#""store_path": {store:?}"#), &extra),
    )
    .unwrap();
    let shelf_file = dir.path().join("pos-stock.txt");
    let (code, out, err) = wine(
        "pos.exe",
        &[
            &windows_path(&config),
            "10",
            &windows_path(&shelf_file),
            "3",
            "720",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let booked: HashSet<&str> = out
        .lines()
        .filter_map(|l| l.trim().strip_prefix("POS-"))
        .filter_map(|l| l.split_once(" <- Amazon "))
        .map(|(_, rest)| rest.split(':').next().unwrap())
        .collect();
    // The POS ran at least until it booked the newest order it booked (Wine's own start and
    // exit take emulated minutes at this speed).
    let end = c
        .with_world(|w| {
            w.orders
                .values()
                .filter(|o| booked.contains(o.order_id.as_str()))
                .map(|o| o.created)
                .max()
        })
        .expect("an order booked");
    let due: Vec<(String, bool, sellsync_emulator::Status)> = c.with_world(|w| {
        w.orders
            .values()
            .filter(|o| o.created < end - chrono::Duration::minutes(15))
            .map(|o| (o.order_id.clone(), o.fulfilled_by_amazon, o.status))
            .collect()
    });
    assert!(due.len() >= 5, "{} orders in two emulated hours", due.len());
    for (id, fba, status) in &due {
        assert!(
            booked.contains(id.as_str()),
            "{id} ({status:?}, fba {fba}) not booked at {end}:\n{out}"
        );
        use sellsync_emulator::Status::{Canceled, Shipped};
        assert!(
            *fba || matches!(status, Shipped | Canceled),
            "{id} is {status:?}"
        );
    }
    let state = c.state();
    let shelf: std::collections::HashMap<String, i64> = std::fs::read_to_string(&shelf_file)
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().split_once(' '))
        .map(|(sku, n)| (sku.to_string(), n.parse().unwrap()))
        .collect();
    assert_eq!(shelf.len(), 36, "the POS wrote its shelf");
    for l in state["listings"].as_array().unwrap() {
        let sku = l["sku"].as_str().unwrap();
        if let Some(on_shelf) = shelf.get(sku) {
            let shows = l["quantity"].as_i64().unwrap();
            assert!(
                shows <= *on_shelf,
                "{sku}: Amazon shows {shows}, the shelf has {on_shelf}"
            );
        }
    }
}

/// Fails if an order acknowledged earlier (`acked`) is among those `handed` out.
fn none_again<'a>(handed: impl Iterator<Item = &'a str>, acked: &HashSet<String>) {
    let again: Vec<_> = handed.filter(|id| acked.contains(*id)).collect();
    assert!(
        again.is_empty(),
        "acknowledged and handed out again: {again:?}"
    );
}

/// A Windows host killed outright (SIGKILL to the Wine process: no exit code, no unwinding, no
/// flush, as `TerminateProcess`) while it takes and acknowledges orders, five times at
/// different points: an order it acknowledged never comes back, and every order ends up
/// acknowledged once, with the reference the host gave it.
#[test]
#[ignore = "needs the Windows package and Wine: run scripts/test-windows"]
fn a_windows_host_killed_while_it_acknowledges_loses_no_order_and_gets_none_twice() {
    use std::io::BufRead;
    let shop = Shop::new(120);
    let mut acked: HashSet<String> = HashSet::new();
    let mut killed = 0;
    for after in [1, 9, 3, 17, 5] {
        let mut child = wine_spawn("harness.exe", &["sync-take-all", &shop.config]);
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut seen, mut handed, mut now_acked) = (0, Vec::new(), Vec::new());
        let note = |line: &str, handed: &mut Vec<String>, now_acked: &mut Vec<String>| {
            if let Some(id) = line.strip_prefix("id ") {
                handed.push(id.trim().to_string());
            } else if let Some(id) = line.strip_prefix("acked ") {
                now_acked.push(id.trim().to_string());
            }
        };
        for line in lines.by_ref() {
            let line = line.unwrap();
            note(&line, &mut handed, &mut now_acked);
            seen += line.starts_with("acked ") as usize;
            if seen == after {
                break;
            }
        }
        child.kill().unwrap();
        let status = child.wait().unwrap();
        killed += status.code().is_none() as usize;
        for line in lines {
            note(&line.unwrap(), &mut handed, &mut now_acked);
        }
        none_again(handed.iter().map(String::as_str), &acked);
        acked.extend(now_acked);
    }
    assert!(
        killed >= 3,
        "only {killed} of 5 hosts were killed before they finished"
    );
    let (code, out) = shop.harness("take-all");
    assert_eq!(code, 0, "{out}");
    none_again(prefixed(&out, "id ").into_iter(), &acked);
    let db = rusqlite::Connection::open_with_flags(
        shop.store(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let rows: Vec<(String, Option<String>)> = db
        .prepare("SELECT order_id, host_ref FROM orders")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows.len(),
        shop.placed.len(),
        "every order in the store once"
    );
    for (id, host_ref) in rows {
        assert_eq!(host_ref, Some(format!("POS-{id}")), "{id} acknowledged");
    }
}

#[test]
#[ignore = "needs the Windows package and Wine: run scripts/test-windows"]
fn every_misuse_and_every_null_pointer_gets_a_clear_status_from_the_dll() {
    let shop = Shop::new(3);
    let (code, out) = shop.harness("misuse");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("misuse ok"), "{out}");
    let (code, out) = shop.harness("nulls");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("nulls ok"), "{out}");
    let checked = prefixed(&out, "null-checked ");
    let symbols = std::fs::read_to_string(root().join("abi/symbols.txt")).unwrap();
    for name in symbols.lines().filter(|l| l.starts_with("sellsync_")) {
        assert!(checked.contains(name), "{name} was not NULL-checked: {out}");
    }
}

#[test]
#[ignore = "needs the Windows package and Wine: run scripts/test-windows"]
fn eight_windows_threads_share_one_handle_and_the_event_callback_calls_back_in() {
    let shop = Shop::new(120);
    let (code, out) = shop.harness("threads");
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        taken(&out),
        shop.placed.len(),
        "each order taken by one thread"
    );
    let shop = Shop::new(5);
    let (code, out) = shop.harness("callback");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("callback events"), "{out}");
}

#[test]
#[ignore = "needs the Windows package and Wine: run scripts/test-windows"]
fn a_windows_host_sets_stock_and_confirms_shipments_and_amazon_follows() {
    let shop = Shop::new(0);
    let (code, out) = shop.harness("stock");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("stock ok"), "{out}");
    landed(&shop.emu);
    let quantity = |sku: &str| shop.emu.control().quantity(sku);
    assert_eq!(quantity("SKU-0000"), Some(13));
    assert_eq!(quantity("SKU-0001"), Some(2), "13 units make two 6-packs");
    assert_eq!(
        quantity("SKU-0002"),
        Some(2),
        "the kit needs 2 of H2, of which there are 4"
    );

    let shop = Shop::new(15);
    let (code, out) = shop.harness("ship");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("shipped {}", shop.placed.len())),
        "{out}"
    );
    let state = shop.emu.control().state();
    let ships = state["shipments"].as_array().unwrap();
    assert_eq!(ships.len(), shop.placed.len());
    assert!(ships
        .iter()
        .all(|s| s["confirmations"] == 1 && s["carrier_code"] == "DHL"));
}

#[test]
#[ignore = "needs the Windows package and Wine: run scripts/test-windows"]
fn events_a_dead_windows_process_took_come_back_and_acknowledged_ones_never_do() {
    let shop = Shop::new(4);
    let (code, out) = shop.harness("events-and-die");
    assert_eq!(code, 4, "the first host dies on purpose: {out}");
    let first: HashSet<String> = prefixed(&out, "seq ")
        .into_iter()
        .map(String::from)
        .collect();
    assert!(
        first.len() >= 5,
        "4 order.ready and a sync.completed: {out}"
    );
    let (code, out) = shop.harness("events-all");
    assert_eq!(code, 0, "{out}");
    let again: HashSet<String> = prefixed(&out, "seq ")
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(again, first);
    let (code, out) = shop.harness("events-all");
    assert_eq!(code, 0, "{out}");
    assert!(prefixed(&out, "seq ").is_empty(), "{out}");
}

#[test]
#[ignore = "needs the Windows package and Wine: run scripts/test-windows"]
fn the_log_callback_gets_every_level_and_no_secret_and_without_it_nothing_is_printed() {
    use sellsync_emulator::{Fault, FaultKind};
    let fail_then_refuse = |emu: &sellsync_emulator::Emulator| {
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
    };
    let shop = Shop::new(3);
    fail_then_refuse(&shop.emu);
    let (code, out) = shop.harness("log");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("syncs network error success"), "{out}");
    let lines = log_lines(&out);
    for level in 1..=4 {
        assert!(
            lines.iter().any(|(l, _)| *l == level),
            "no line at {level}: {out}"
        );
    }
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
    let shop = Shop::new(3);
    fail_then_refuse(&shop.emu);
    let (code, out, err) = wine("harness.exe", &["quiet", &shop.config]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.is_empty() && err.is_empty(), "printed: {out}{err}");
}

#[test]
#[ignore = "needs the Windows package and Wine: run scripts/test-windows"]
fn hello_links_through_either_import_library_and_takes_its_orders() {
    let shop = Shop::new(4);
    let version = env!("CARGO_PKG_VERSION");
    // Both builds share one store: the second finds every order booked.
    for (exe, expect) in [("hello.exe", 4), ("hello-def.exe", 0)] {
        let (code, out, err) = wine(exe, &[&shop.config]);
        assert_eq!(code, 0, "{exe}: {out}{err}");
        assert!(
            out.contains(&format!("took {expect} orders (sellsync {version})")),
            "{exe}: {out}{err}"
        );
        assert_eq!(out.matches(" booked as POS-").count(), expect, "{out}");
    }
}
