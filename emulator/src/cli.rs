//! Command line of the `sellsync-emulator` binary.

use crate::buyers::BuyersConfig;
use crate::settings::SettingsChange;
use crate::stock::FbaStock;
use crate::{Config, Emulator, ListingSeed};

const USAGE: &str =
    "usage: sellsync-emulator [--port N] [--rate-scale X] [--clock-speed X] [--speed X] \
[--seed N] [--token-lifetime S] [--feed-seconds S] [--pending-seconds S] [--kind] [--sandbox] [--demo-shop]
[--buyers ORDERS_PER_HOUR] [--notification-delay S] [--search-lag MIN MAX] [--queue NAME]

  --port N             listen on 127.0.0.1:N (default: a free port, printed on start)
  --rate-scale X       multiply every rate limit and divide every processing delay by X
  --clock-speed X      run the emulated clock X times faster than real time
  --speed X            both of the above
  --seed N             seed of every random choice (default 1)
  --token-lifetime S   access token lifetime in emulated seconds (default 3600)
  --feed-seconds S     a feed takes S seconds from createFeed to DONE, divided by the rate
                       scale (default 90)
  --pending-seconds S  a new order stays Pending S emulated seconds (default 60)
  --kind               without Amazon's delays (for fast tests only): an accepted listings
                       patch applies inside the call instead of 5 to 120 seconds (divided
                       by the rate scale) after the answer, and the order searches see a
                       change at once
  --search-lag MIN MAX the order searches see a change MIN to MAX emulated seconds after it
                       (default 5 120; 1% of changes up to 3 hours late)
  --sandbox            answer the official models' static sandbox examples
  --demo-shop          seed the demo seller with 40 listings (36 seller-fulfilled, 4 FBA)
  --buyers N           start simulated buyers placing N orders per emulated hour
  --notification-delay S  a notification reaches its queue S emulated seconds after the
                       change (default 2)
  --queue NAME         create the SQS queue NAME at start and print its URL and ARN";

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
            handling_days: None,
            marketplace_ids: None,
            // The FBA listings have a shipment on its way and a few damaged units.
            fba_stock: (i > 36).then(|| FbaStock {
                inbound_shipped: 4 * (i as i64 - 36),
                unfulfillable: i as i64 % 3,
                ..FbaStock::default()
            }),
        })
        .collect()
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize) -> Result<T, String> {
    args.get(i + 1)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("{} needs a value", args[i]))
}

/// What the command line asks for.
#[derive(Debug)]
pub struct Options {
    /// How to start the emulator.
    pub config: Config,
    /// Seed the demo shop.
    pub demo_shop: bool,
    /// Start simulated buyers placing this many orders per emulated hour.
    pub buyers: Option<f64>,
    /// Create this SQS queue at start.
    pub queue: Option<String>,
}

/// Parses the arguments; Err carries the message to print before the usage (empty for `--help`).
pub fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        config: Config::default(),
        demo_shop: false,
        buyers: None,
        queue: None,
    };
    let config = &mut o.config;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--port" => config.port = arg(args, i)?,
            "--rate-scale" => config.rate_scale = arg(args, i)?,
            "--clock-speed" => config.clock_speed = arg(args, i)?,
            "--speed" => {
                config.rate_scale = arg(args, i)?;
                config.clock_speed = config.rate_scale;
            }
            "--seed" => config.seed = arg(args, i)?,
            "--token-lifetime" => config.token_lifetime_s = arg(args, i)?,
            "--feed-seconds" => config.settings.apply(SettingsChange {
                feed_processing_seconds: Some(arg(args, i)?),
                ..SettingsChange::default()
            })?,
            "--pending-seconds" => config.settings.apply(SettingsChange {
                pending_seconds: Some(arg(args, i)?),
                ..SettingsChange::default()
            })?,
            "--buyers" => o.buyers = Some(arg(args, i)?),
            "--notification-delay" => config.settings.apply(SettingsChange {
                notification_delay_seconds: Some(arg(args, i)?),
                ..SettingsChange::default()
            })?,
            "--queue" => o.queue = Some(arg(args, i)?),
            "--search-lag" => {
                config.settings.apply(SettingsChange {
                    order_search_lag_min_seconds: Some(arg(args, i)?),
                    order_search_lag_max_seconds: Some(arg(args, i + 1)?),
                    ..SettingsChange::default()
                })?;
                i += 3;
                continue;
            }
            "--kind" => {
                config.settings = config.settings.kind();
                i += 1;
                continue;
            }
            "--sandbox" => {
                config.sandbox = true;
                i += 1;
                continue;
            }
            "--demo-shop" => {
                o.demo_shop = true;
                i += 1;
                continue;
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
        i += 2;
    }
    if !(config.rate_scale > 0.0 && config.clock_speed > 0.0) {
        return Err("--rate-scale and --clock-speed must be positive".into());
    }
    Ok(o)
}

/// Parses arguments, starts the emulator and serves until the process is ended.
pub fn main(args: Vec<String>) -> i32 {
    let Options {
        config,
        demo_shop: demo,
        buyers,
        queue,
    } = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("{e}");
            }
            eprintln!("{USAGE}");
            return 2;
        }
    };
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
            max_lines: 3,
            return_share: 0.1,
            defect_share: 0.005,
        });
    }
    println!("{}", emulator.url());
    if let Some(name) = queue {
        match emulator.control().create_queue(&name) {
            Ok((url, arn)) => println!("queue {url} {arn}"),
            Err(e) => {
                eprintln!("cannot create queue {name}: {e}");
                return 1;
            }
        }
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn processing_times_are_set_from_the_command_line() {
        let o = parse(&args(&[
            "--feed-seconds",
            "120",
            "--sandbox",
            "--pending-seconds",
            "1800",
            "--speed",
            "10",
            "--notification-delay",
            "30",
            "--queue",
            "sellsync-notifications",
            "--kind",
            "--search-lag",
            "30",
            "600",
        ]))
        .unwrap();
        assert_eq!(
            (
                o.config.settings.order_search_lag_min_seconds,
                o.config.settings.order_search_lag_max_seconds,
                o.config.settings.order_search_late_rate
            ),
            (30.0, 600.0, 0.0),
            "--kind has no late changes; --search-lag sets the lag"
        );
        let s = o.config.settings;
        assert_eq!(
            (s.listing_apply_min_seconds, s.listing_apply_max_seconds),
            (0.0, 0.0)
        );
        assert_eq!(o.config.settings.notification_delay_seconds, 30.0);
        assert_eq!(o.queue.as_deref(), Some("sellsync-notifications"));
        assert_eq!(o.config.settings.feed_processing_seconds, 120.0);
        assert_eq!(o.config.settings.pending_seconds, 1800.0);
        assert!(o.config.sandbox);
        assert_eq!((o.config.rate_scale, o.config.clock_speed), (10.0, 10.0));
        let defaults = parse(&[]).unwrap().config.settings;
        assert_eq!(defaults, crate::Settings::default());
        assert_eq!(
            (
                defaults.listing_apply_min_seconds,
                defaults.listing_apply_max_seconds
            ),
            (5.0, 120.0)
        );
        assert!(parse(&args(&["--pending-seconds", "-5"])).is_err());
        assert!(parse(&args(&["--feed-seconds"])).is_err());
        assert!(parse(&args(&["--search-lag", "60", "5"])).is_err());
    }
}
