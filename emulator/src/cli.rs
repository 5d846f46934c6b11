//! Command line of the `sellsync-emulator` binary.

use crate::buyers::BuyersConfig;
use crate::{Config, Emulator, ListingSeed};

const USAGE: &str =
    "usage: sellsync-emulator [--port N] [--rate-scale X] [--clock-speed X] [--speed X] \
[--seed N] [--token-lifetime S] [--sandbox] [--demo-shop] [--buyers ORDERS_PER_HOUR]

  --port N             listen on 127.0.0.1:N (default: a free port, printed on start)
  --rate-scale X       multiply every rate limit and divide every processing delay by X
  --clock-speed X      run the emulated clock X times faster than real time
  --speed X            both of the above
  --seed N             seed of every random choice (default 1)
  --token-lifetime S   access token lifetime in emulated seconds (default 3600)
  --sandbox            answer the official models' static sandbox examples
  --demo-shop          seed the demo seller with 40 listings (36 seller-fulfilled, 4 FBA)
  --buyers N           start simulated buyers placing N orders per emulated hour";

/// The demo shop's listings.
pub fn demo_listings() -> Vec<ListingSeed> {
    let names = [
        "Espresso cup",
        "Tea pot",
        "Chef knife",
        "Cutting board",
        "Olive oil",
        "Coffee beans",
        "Mug",
        "Apron",
    ];
    (1..=40)
        .map(|i| ListingSeed {
            sku: format!("DEMO-{i:03}"),
            asin: None,
            title: Some(format!("{} #{i}", names[i % names.len()])),
            quantity: 5 + (i as i64 * 7) % 40,
            price_cents: Some(499 + (i as i64 * 250) % 5000),
            fba: i > 36,
            product_type: Some("HOME".into()),
        })
        .collect()
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize) -> Result<T, String> {
    args.get(i + 1)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("{} needs a value", args[i]))
}

/// Parses arguments, starts the emulator and serves until the process is ended.
pub fn main(args: Vec<String>) -> i32 {
    let mut config = Config::default();
    let (mut demo, mut buyers) = (false, None);
    let mut i = 0;
    let parsed: Result<(), String> = (|| {
        while i < args.len() {
            match args[i].as_str() {
                "--port" => {
                    config.port = arg(&args, i)?;
                    i += 1
                }
                "--rate-scale" => {
                    config.rate_scale = arg(&args, i)?;
                    i += 1
                }
                "--clock-speed" => {
                    config.clock_speed = arg(&args, i)?;
                    i += 1
                }
                "--speed" => {
                    config.rate_scale = arg(&args, i)?;
                    config.clock_speed = config.rate_scale;
                    i += 1
                }
                "--seed" => {
                    config.seed = arg(&args, i)?;
                    i += 1
                }
                "--token-lifetime" => {
                    config.token_lifetime_s = arg(&args, i)?;
                    i += 1
                }
                "--buyers" => {
                    buyers = Some(arg::<f64>(&args, i)?);
                    i += 1
                }
                "--sandbox" => config.sandbox = true,
                "--demo-shop" => demo = true,
                "-h" | "--help" => return Err(String::new()),
                other => return Err(format!("unknown argument {other}")),
            }
            i += 1;
        }
        Ok(())
    })();
    if let Err(e) = parsed {
        if !e.is_empty() {
            eprintln!("{e}");
        }
        eprintln!("{USAGE}");
        return 2;
    }
    if !(config.rate_scale > 0.0 && config.clock_speed > 0.0) {
        eprintln!("--rate-scale and --clock-speed must be positive");
        return 2;
    }
    let emulator = match Emulator::start(config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("cannot start the emulator: {e}");
            return 1;
        }
    };
    if demo {
        if let Err(e) = emulator.control().seed_listings(None, &demo_listings()) {
            eprintln!("cannot seed the demo shop: {e}");
            return 1;
        }
    }
    if let Some(rate) = buyers {
        emulator.control().start_buyers(BuyersConfig {
            seller_id: None,
            marketplace_ids: vec![],
            orders_per_hour: rate,
            cancel_request_share: 0.02,
            max_units: 2,
        });
    }
    println!("{}", emulator.url());
    use std::io::Write;
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}
