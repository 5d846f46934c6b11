//! `sellsync-simulate PROFILE [--days N] [--hours H] [--seed S] [--speed X] [--html OUT.html]
//! [--policies a,b,...]`: runs every policy against its own emulator, concurrently, and prints
//! what each does to Amazon's seller metrics.

use sellsync_sim::{policies, report, run, schedule, Options, Profile};

const USAGE: &str = "usage: sellsync-simulate PROFILE [--days N] [--hours H] [--seed S] [--speed X] [--html OUT.html] [--policies a,b,...] [--explain]\n\
PROFILE is a JSON file or a shipped profile name (realistic, rush).\n\
policies: manual, csv_hourly, poll_15min, sellsync, sellsync_notifications, sellsync_no_fast_lane, sellsync_no_read_back, sellsync_no_auto_buffer, oracle (default: all);\n\
a name ending in @instant runs against an Amazon that applies accepted listing patches at once (e.g. sellsync@instant);\n\
--explain prints each cancellation a connector caused, with Amazon's changes of its SKU around it";

fn main() {
    if let Err(e) = real_main() {
        eprintln!("sellsync-simulate: {e}");
        std::process::exit(2);
    }
}

fn real_main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut profile_arg = None;
    let (mut hours, mut seed, mut speed, mut html, mut list) = (None, 1u64, None, None, None);
    let mut explain = false;
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().ok_or(format!("{name} needs a value\n{USAGE}"));
        match a.as_str() {
            "--days" => hours = Some(num(&val("--days")?)? * 24.0),
            "--hours" => hours = Some(num(&val("--hours")?)?),
            "--seed" => seed = val("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--speed" => speed = Some(num(&val("--speed")?)?),
            "--html" => html = Some(val("--html")?),
            "--policies" => list = Some(val("--policies")?),
            "--explain" => explain = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            _ if a.starts_with('-') => return Err(format!("unknown option {a}\n{USAGE}")),
            _ => profile_arg = Some(a),
        }
    }
    let mut profile = Profile::load(&profile_arg.ok_or(USAGE)?)?;
    if let Some(h) = hours {
        if h <= 0.0 {
            return Err("--days/--hours must be positive".into());
        }
        profile.hours = h;
    }
    let speed = speed.unwrap_or(profile.speed);
    if speed <= 0.0 {
        return Err("--speed must be positive".into());
    }
    let chosen: Vec<String> = match list {
        Some(l) => l.split(',').map(|s| s.trim().to_string()).collect(),
        None => policies::ALL.iter().map(|s| s.to_string()).collect(),
    };
    for c in &chosen {
        let base = policies::base_name(c).0;
        if !policies::ALL.contains(&base) && base != policies::NO_STOCK_SYNC {
            return Err(format!("unknown policy {c}\n{USAGE}"));
        }
    }
    let schedule = schedule::generate(&profile, seed);
    let header = report::header(&profile, seed, speed, schedule.counts());
    print!("{header}");
    println!(
        "Running {} policies at once, each against its own emulator; about {:.0} s of real time.",
        chosen.len(),
        profile.hours * 3600.0 / speed
    );
    let opts = Options {
        speed,
        seed,
        progress: Some(indicatif::MultiProgress::new()),
    };
    let started = std::time::Instant::now();
    let outcomes: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = chosen
            .iter()
            .map(|p| {
                let (profile, schedule, opts) = (&profile, &schedule, &opts);
                s.spawn(move || run(profile, schedule, p, opts))
            })
            .collect();
        handles
            .into_iter()
            .zip(&chosen)
            .map(|(h, p)| {
                h.join().unwrap_or_else(|_| sellsync_sim::Outcome {
                    policy: p.clone(),
                    error: Some("the run panicked".into()),
                    ..Default::default()
                })
            })
            .collect()
    });
    let took = started.elapsed().as_secs_f64();
    println!();
    print!("{}", report::table(&outcomes));
    print!("{}", report::calls_table(&outcomes, profile.hours));
    if explain {
        for o in &outcomes {
            for line in &o.faults_explained {
                println!("{}: {line}", o.policy);
            }
        }
    }
    let note = format!(
        "Took {took:.0} s of real time. Customers, quantities and deliveries are the same for every policy (drawn from the seed);\n\
         the timing of the library's and the connectors' calls follows real time, so figures can differ slightly between runs.\n\
         Every policy ran against its own emulator with time and Amazon's rate limits {speed}x faster than real."
    );
    println!("\n{note}");
    let bad: Vec<_> = outcomes
        .iter()
        .filter(|o| o.error.is_none() && (o.unaccounted > 0 || o.overbooked > 0))
        .collect();
    for o in &bad {
        println!(
            "WARNING {}: {} orders unaccounted for, {} bookings beyond the shelf",
            o.policy, o.unaccounted, o.overbooked
        );
    }
    if let Some(path) = html {
        std::fs::write(&path, report::html(&profile, &header, &outcomes, &note))
            .map_err(|e| format!("cannot write {path}: {e}"))?;
        println!("Report written to {path}");
    }
    Ok(())
}

fn num(s: &str) -> Result<f64, String> {
    s.parse::<f64>().map_err(|e| format!("{s}: {e}"))
}
