//! Runs a target without libFuzzer: over its kept corpus, then over random mutations of it
//! (a fixed seed, so a run can be repeated), under the [`guard`](crate::guard)s.

use crate::guard;
use crate::Target;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Longest input the mutator makes.
pub const MAX_LEN: usize = 8192;

/// What a run did.
#[derive(Debug, Default)]
pub struct Summary {
    /// Inputs run.
    pub inputs: u64,
    /// Files in the kept corpus.
    pub corpus: usize,
}

/// A failing input.
#[derive(Debug)]
pub struct Failure {
    /// The panic's message.
    pub message: String,
    /// Where the input was saved.
    pub saved: PathBuf,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}\n(input saved in {}; replay it with `cargo run -p sellsync-fuzz --bin sellsync-fuzz-replay -- TARGET FILE`)",
            self.message,
            self.saved.display()
        )
    }
}

/// The files of a folder (or the file itself), sorted.
pub fn files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut out: Vec<PathBuf> = std::fs::read_dir(path)
        .map(|d| {
            d.filter_map(|e| Some(e.ok()?.path()))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Runs one input; a failure saves it.
pub fn run(target: &Target, input: &[u8]) -> Result<(), Failure> {
    guard::run_one(target, input).map_err(|message| Failure {
        message,
        saved: guard::save(target.name, input),
    })
}

/// Runs the kept corpus of `target`, then random mutations of it until `random` inputs ran
/// or `time` passed.
pub fn smoke(target: &Target, random: u64, time: Duration, seed: u64) -> Result<Summary, Failure> {
    let corpus: Vec<Vec<u8>> = files(&crate::corpus_dir(target.name))
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .collect();
    let mut summary = Summary {
        corpus: corpus.len(),
        ..Summary::default()
    };
    for input in &corpus {
        run(target, input)?;
        summary.inputs += 1;
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let started = Instant::now();
    for _ in 0..random {
        if started.elapsed() > time {
            break;
        }
        let input = mutate(&mut rng, &corpus);
        run(target, &input)?;
        summary.inputs += 1;
    }
    Ok(summary)
}

/// Tokens that parsers compare against or choke on.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"true",
    b"-1",
    b"0",
    b"1e400",
    b"-9223372036854775808",
    b"9223372036854775807",
    b"18446744073709551616",
    b"1e-300",
    b"\\u0000",
    b"\\ud800",
    b"\0",
    b"\xff",
    b"\xc3",
    b"\t",
    b"\n",
    b"\r\n",
    b"NaN",
];

/// A random change of a corpus entry (or of nothing, when the corpus is empty).
pub fn mutate(rng: &mut StdRng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut data = if corpus.is_empty() {
        Vec::new()
    } else {
        corpus[rng.gen_range(0..corpus.len())].clone()
    };
    for _ in 0..rng.gen_range(1..=4) {
        let at = rng.gen_range(0..=data.len());
        match rng.gen_range(0..6) {
            0 if !data.is_empty() => {
                let i = rng.gen_range(0..data.len());
                data[i] ^= 1 << rng.gen_range(0..8);
            }
            1 => {
                let token = TOKENS[rng.gen_range(0..TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
            2 if !data.is_empty() => {
                let end = rng.gen_range(at..=data.len().min(at + 16));
                data.drain(at..end);
            }
            3 if !data.is_empty() => {
                let start = rng.gen_range(0..data.len());
                let end = rng.gen_range(start..=data.len().min(start + 64));
                let chunk = data[start..end].to_vec();
                data.splice(at..at, chunk);
            }
            4 if !corpus.is_empty() => {
                let other = &corpus[rng.gen_range(0..corpus.len())];
                let from = rng.gen_range(0..=other.len());
                data.truncate(at);
                data.extend_from_slice(&other[from..]);
            }
            _ => data.insert(at, rng.gen()),
        }
    }
    data.truncate(MAX_LEN);
    data
}
