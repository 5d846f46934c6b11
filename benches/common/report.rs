//! The machine-readable line every bench prints beside its own table, for `scripts/bench`:
//!
//! `@result<TAB>section<TAB>measure<TAB>value<TAB>unit<TAB>reference<TAB>goal`
//!
//! `reference` names another measure of the same section and run, or is empty. `goal` is empty
//! or `OP NUMBER` (`<=` or `>=`) for the value itself in its unit, or `OP NUMBERx` for the value
//! divided by the reference's (e.g. `>= 0.8x`, `<= 2x` for "flat").

/// Prints one result line.
pub fn result(section: &str, measure: &str, value: f64, unit: &str, reference: &str, goal: &str) {
    println!("@result\t{section}\t{measure}\t{value}\t{unit}\t{reference}\t{goal}");
}

/// A size from the environment (the benches' knobs, e.g. for `scripts/bench --quick`).
pub fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `p` quantile (0 to 1) of `v`, sorting it; NaN when empty.
pub fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// A memory figure of this process from `/proc/self/status` in MiB, e.g. `VmRSS:` or `VmHWM:`
/// (the peak: unlike `ru_maxrss` it does not carry the peak of the program that started this
/// one); 0 where unknown.
pub fn status_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}
