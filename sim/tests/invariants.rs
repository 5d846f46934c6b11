//! A tiny shop for a few simulated hours at high speed: invariants that a wrong simulation
//! (or a wrong connector) would break.

use sellsync_sim::{generate, run, Options, Profile};

fn tiny() -> Profile {
    Profile::from_json(
        r#"{
        "name": "tiny", "hours": 3, "start_hour": 10, "speed": 1800,
        "opening": {"open_hour": 0, "close_hour": 24},
        "skus": {"count": 20, "units_min": 2, "units_max": 6, "popularity_skew": 0.5},
        "restock": {"reorder_point": 0, "order_up_to": 3, "lead_time_hours": 1, "review_every_minutes": 60},
        "store": {"sales_per_day": 960},
        "amazon": {"orders_per_day": 360, "quantity_shares": [0.8, 0.2], "handling_hours": 48},
        "packing": {"staff": 2, "minutes_per_order": 2, "handling_minutes": 10}
    }"#,
    )
    .expect("tiny profile")
}

#[test]
fn the_same_seed_gives_the_same_schedule() {
    let p = tiny();
    let a = generate(&p, 7);
    assert_eq!(a, generate(&p, 7));
    assert_ne!(a, generate(&p, 8));
    let (amazon, store, restock) = a.counts();
    assert!(amazon > 20 && store > 20 && restock > 0, "{:?}", a.counts());
    assert!(a.events.windows(2).all(|w| w[0].at <= w[1].at));
}

#[test]
fn every_order_is_accounted_for_and_stale_stock_shows_as_the_connectors_fault() {
    let p = tiny();
    let schedule = generate(&p, 7);
    let opts = Options {
        speed: p.speed,
        seed: 7,
        progress: None,
    };
    let policies = ["no_stock_sync", "sellsync_no_auto_buffer", "csv_hourly"];
    let outcomes: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = policies
            .iter()
            .map(|name| {
                let (p, schedule, opts) = (&p, &schedule, &opts);
                s.spawn(move || run(p, schedule, name, opts))
            })
            .collect();
        hs.into_iter().map(|h| h.join().expect("run")).collect()
    });
    for o in &outcomes {
        eprintln!(
            "{}: {} orders, {} cancelled ({} the connector's fault), {} shipped, {} open",
            o.policy, o.amazon_orders, o.seller_cancellations, o.connector_fault, o.shipped, o.open
        );
    }
    for o in &outcomes {
        assert!(o.error.is_none(), "{}: {:?}", o.policy, o.error);
        assert!(o.amazon_orders > 10, "{}: {o:?}", o.policy);
        // Every order ends shipped, cancelled, or still open within its handling time.
        assert_eq!(o.unaccounted, 0, "{o:?}");
        assert_eq!(o.overdue, 0, "{o:?}");
        assert_eq!(
            o.shipped + o.cancellations_at_amazon + o.cancellations_in_flight + o.open,
            o.amazon_orders,
            "{o:?}"
        );
        assert_eq!(
            o.cancellations_at_amazon + o.cancellations_in_flight,
            o.seller_cancellations,
            "{o:?}"
        );
        assert_eq!(o.unpreventable + o.connector_fault, o.seller_cancellations);
        // Booked units never exceed what the shelf had.
        assert_eq!(o.overbooked, 0, "{o:?}");
    }
    let frozen = &outcomes[0];
    let sellsync = &outcomes[1];
    assert!(
        frozen.connector_fault > 0,
        "a policy that never updates stock must oversell: {frozen:?}"
    );
    assert!(
        sellsync.connector_fault < frozen.connector_fault,
        "sellsync {sellsync:?} vs no stock sync {frozen:?}"
    );
    // Everyone met the same customers.
    let buyers = schedule.counts().0 as u64;
    for o in &outcomes {
        assert_eq!(o.amazon_orders + o.amazon_lost, buyers, "{o:?}");
    }
}
