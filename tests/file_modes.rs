//! Every file the library writes (the store, its `-wal` and `-shm` files, the key file) is its
//! owner's alone, whatever the process's umask, and a store that others may read is tightened
//! at open. One test in its own binary: the umask is the whole process's.
#![cfg(unix)]

use sellsync::config::StockConfig;
use sellsync::store::Store;
use std::os::unix::fs::PermissionsExt;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn order() -> sellsync::model::Order {
    serde_json::from_value(serde_json::json!({
        "order_id": "111-0000001-0000000", "marketplace_id": "ATVPDKIKX0DER",
        "status": "UNSHIPPED", "fulfilled_by": "MERCHANT",
        "purchase_date": "2026-01-01T10:00:00.000Z", "last_updated": "2026-01-01T10:00:00.000Z",
        "earliest_ship_date": null, "latest_ship_date": null, "currency": "USD", "total": "1.00",
        "buyer_cancel_requested": false,
        "recipient": {"name": "A", "company": null, "line1": "B", "line2": null, "line3": null,
                      "city": null, "district_or_county": null, "state_or_region": null,
                      "postal_code": null, "country_code": null, "phone": null},
        "items": []
    }))
    .unwrap()
}

const FILES: [&str; 4] = ["s.sqlite", "s.sqlite-wal", "s.sqlite-shm", "s.sqlite.key"];

#[test]
fn files_are_the_owners_alone_whatever_the_umask_and_loose_ones_are_tightened() {
    for umask in [0o022, 0o000] {
        // SAFETY: umask only sets the process's file creation mask; this binary runs this one
        // test, so no other thread creates files meanwhile.
        unsafe { libc::umask(umask) };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        let store = Store::open(path.to_str().unwrap()).unwrap();
        store
            .apply_orders(&[order()], &StockConfig::default(), chrono::Utc::now())
            .unwrap();
        for f in FILES {
            let m = mode(&dir.path().join(f));
            println!("umask {umask:03o}: {f} {m:03o}");
            assert_eq!(m, 0o600, "{f} with umask {umask:03o}");
        }
        drop(store);
        // Loosened by someone else: tightened at the next open.
        for f in FILES {
            let p = dir.path().join(f);
            if p.exists() {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
            }
        }
        let store = Store::open(path.to_str().unwrap()).unwrap();
        for f in FILES {
            let p = dir.path().join(f);
            if p.exists() {
                assert_eq!(mode(&p), 0o600, "{f} loosened, then opened");
            }
        }
        drop(store);
    }
}
