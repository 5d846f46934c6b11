//! The C crash host (`tests/c/crash_host.c`): built against the header and libsellsync, run
//! as a child process whose marker lines are read as they come, killed with SIGKILL.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Instant;

/// Printed by the host just before each stock call.
pub const STOCK_BEGIN: &str = "> stock_set";
/// Printed by the host once a stock call returned.
pub const STOCK_END: &str = "< stock_set";

/// Compiles the host into `out` (C11, warnings are errors).
pub fn build(out: &Path) -> PathBuf {
    crate::common::cc::compile_with("cc", &["-std=c11"], &[], &["tests/c/crash_host.c"], out);
    out.to_path_buf()
}

/// What the host does with a seller-fulfilled order besides acknowledging it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Ship,
    Cancel,
    ShipAndRefund,
}

/// The host's rule (`fate_of` in `tests/c/crash_host.c`), by order id.
pub fn fate(order_id: &str) -> Fate {
    let h = order_id
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    match h % 12 {
        0 => Fate::Cancel,
        1 => Fate::ShipAndRefund,
        _ => Fate::Ship,
    }
}

/// What every start of the host is given.
#[derive(Clone, Debug)]
pub struct Setup {
    pub exe: PathBuf,
    pub config: PathBuf,
    pub journal: PathBuf,
    pub items: usize,
    pub fba: usize,
    /// Which till of how many this host is (0 of 1 alone; see `tests/c/crash_host.c`).
    pub till: usize,
    pub tills: usize,
    /// Where each run's standard error goes (appended).
    pub stderr: PathBuf,
}

/// A running host.
pub struct Host {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Host {
    /// Starts the host in `mode` ("run", "drain" or "recover") with its own random `seed`.
    pub fn spawn(setup: &Setup, mode: &str, seed: u64) -> Host {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&setup.stderr)
            .expect("host stderr file");
        let mut child = Command::new(&setup.exe)
            .arg(mode)
            .arg(&setup.config)
            .arg(&setup.journal)
            .arg(setup.items.to_string())
            .arg(setup.fba.to_string())
            .arg(seed.to_string())
            .arg(setup.till.to_string())
            .arg(setup.tills.to_string())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("crash host starts");
        let out = child.stdout.take().expect("host stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Host {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits until the host has printed `marker` `n` times in all; false when the deadline
    /// passed or the host's output ended first.
    pub fn wait_for(&mut self, marker: &str, n: usize, deadline: Instant) -> bool {
        loop {
            if self.seen.iter().filter(|l| *l == marker).count() >= n {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return false,
            }
        }
    }

    /// The host's exit status if it ended by itself.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("host status")
    }

    /// Kills the host with SIGKILL; returns every line it printed.
    pub fn kill(mut self) -> Vec<String> {
        self.child.kill().expect("SIGKILL the host");
        self.child.wait().expect("host reaped");
        self.rest()
    }

    /// Waits for the host to end by itself; its status and every line it printed (None when
    /// it was still running at the deadline: it is then killed).
    pub fn finish(mut self, deadline: Instant) -> (Option<ExitStatus>, Vec<String>) {
        while Instant::now() < deadline {
            if let Some(status) = self.exited() {
                return (Some(status), self.rest());
            }
            // Polls the exit with the output as the clock: each line or 50 ms.
            if let Ok(line) = self
                .lines
                .recv_timeout(std::time::Duration::from_millis(50))
            {
                self.seen.push(line);
            }
        }
        (None, self.kill())
    }

    fn rest(mut self) -> Vec<String> {
        self.seen.extend(self.lines.iter());
        self.seen
    }
}

/// Whether the last stock call the host began had not returned to it when it died.
pub fn died_in_stock_call(lines: &[String]) -> bool {
    lines
        .iter()
        .rev()
        .find(|l| *l == STOCK_BEGIN || *l == STOCK_END)
        .is_some_and(|l| l == STOCK_BEGIN)
}

/// The last five lines a run printed, newest first, for a failure's message.
pub fn last_lines(lines: &[String]) -> String {
    lines
        .iter()
        .rev()
        .take(5)
        .cloned()
        .collect::<Vec<_>>()
        .join(" | ")
}
