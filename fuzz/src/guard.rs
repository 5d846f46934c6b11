//! Guards for running inputs outside libFuzzer (the smoke test, replays): a panic anywhere in
//! the process while an input runs fails it, even one the C ABI caught; a watchdog aborts the
//! process, naming the target and saving the input, when one input runs longer than
//! [`TIME_LIMIT`] or the process's resident memory passes [`MEMORY_LIMIT`].

use std::path::PathBuf;
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

/// Longest one input may run.
pub const TIME_LIMIT: Duration = Duration::from_secs(10);
/// Most resident memory the process may use, in bytes.
pub const MEMORY_LIMIT: u64 = 2 << 30;

struct Current {
    target: &'static str,
    input: Vec<u8>,
    started: Instant,
}

static CURRENT: Mutex<Option<Current>> = Mutex::new(None);
static PANIC: Mutex<Option<String>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Where failing inputs are saved: `target/fuzz/failures` of the workspace.
pub fn failures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz/failures")
}

/// Saves a failing input of `target`; returns its path.
pub fn save(target: &str, input: &[u8]) -> PathBuf {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    input.hash(&mut h);
    let dir = failures_dir();
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{target}-{:016x}", h.finish()));
    let _ = std::fs::write(&path, input);
    path
}

fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The library's hook first (it would otherwise wrap this one and keep the panics the C
        // ABI catches from it): this one calls it and still sees every panic.
        sellsync::logging::install_panic_hook();
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            default(info);
            lock(&PANIC).get_or_insert_with(|| info.to_string());
        }));
        std::thread::spawn(watchdog);
    });
}

fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn watchdog() {
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let current = lock(&CURRENT);
        let Some(c) = current.as_ref() else { continue };
        let why = if c.started.elapsed() > TIME_LIMIT {
            format!("one input ran longer than {} s", TIME_LIMIT.as_secs())
        } else if let Some(rss) = resident_bytes().filter(|&r| r > MEMORY_LIMIT) {
            format!(
                "the process grew to {} MiB, more than {} MiB",
                rss >> 20,
                MEMORY_LIMIT >> 20
            )
        } else {
            continue;
        };
        let path = save(c.target, &c.input);
        eprintln!(
            "sellsync-fuzz: target {}: {why}; the input is saved in {}",
            c.target,
            path.display()
        );
        std::process::abort();
    }
}

/// Runs one input of `target` under the guards; `Err` holds the panic's message.
pub fn run_one(target: &crate::Target, input: &[u8]) -> Result<(), String> {
    install();
    *lock(&PANIC) = None;
    *lock(&CURRENT) = Some(Current {
        target: target.name,
        input: input.to_vec(),
        started: Instant::now(),
    });
    let outcome = std::panic::catch_unwind(|| (target.run)(input));
    *lock(&CURRENT) = None;
    match (lock(&PANIC).take(), outcome) {
        (None, Ok(())) => Ok(()),
        (Some(message), _) => Err(message),
        (None, Err(_)) => Err("a panic".into()),
    }
}
