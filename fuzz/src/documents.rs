//! Target `documents`: the feed and report documents the library reads and builds. The first
//! line of an input names the document: `listings_report` (the merchant listings report, TSV),
//! `processing_report` (a listings feed's JSON processing report, applied to the feed's
//! messages), `flat_file_report` (an order feed's processing report) or `listings_feed` (lines
//! of `SKU<TAB>quantity` built into a listings feed and read back).

use crate::input::select;
use sellsync::amazon::{feeds, reports};
use sellsync::store::stock::FeedMessage;

/// The documents this target reads, by the name an input's first line gives.
pub const DOCUMENTS: &[&str] = &[
    "listings_report",
    "processing_report",
    "flat_file_report",
    "listings_feed",
];

/// Runs one input.
pub fn run(data: &[u8]) {
    let (index, rest) = select(data, DOCUMENTS);
    match DOCUMENTS[index] {
        "listings_report" => {
            if let Ok(listings) = reports::parse_listings(rest) {
                assert!(
                    listings.iter().all(|l| !l.sku.is_empty()),
                    "a listing without a SKU was read"
                );
            }
        }
        "processing_report" => {
            if let Ok(report) = feeds::parse_report(rest) {
                let messages = messages((1..=5).map(|i| (format!("SKU-{i}"), i)));
                let (accepted, rejected) = feeds::outcome(&messages, &report);
                assert_eq!(
                    accepted.len() + rejected.len(),
                    messages.len(),
                    "a message was lost or doubled by its processing report"
                );
            }
        }
        "flat_file_report" => {
            let _ = feeds::flat_file_errors(rest);
        }
        "listings_feed" => round_trip(rest),
        _ => unreachable!("every document is listed"),
    }
}

fn messages(items: impl Iterator<Item = (String, i64)>) -> Vec<FeedMessage> {
    items
        .enumerate()
        .map(|(i, (sku, quantity))| FeedMessage {
            message_id: i as i64 + 1,
            sku,
            quantity,
            pushed_for: None,
            took: None,
            sent_at: None,
            handling_days: None,
        })
        .collect()
}

/// Builds a listings feed from `SKU<TAB>quantity` lines and checks that the document carries
/// each message's SKU and quantity.
fn round_trip(rest: &[u8]) {
    let text = String::from_utf8_lossy(rest);
    let lines = text.lines().take(feeds::MAX_MESSAGES).map(|line| {
        let (sku, quantity) = line.split_once('\t').unwrap_or((line, "0"));
        (sku.to_string(), quantity.trim().parse().unwrap_or(0))
    });
    let messages = messages(lines);
    let with_type: Vec<(FeedMessage, String)> = messages
        .iter()
        .map(|m| (m.clone(), "PRODUCT".to_string()))
        .collect();
    let document = feeds::listings_feed("A2FUZZSELLER01", &with_type).to_string();
    let back: serde_json::Value = serde_json::from_str(&document).expect("a listings feed is JSON");
    let sent = back["messages"].as_array().expect("messages");
    assert_eq!(sent.len(), messages.len(), "the feed lost messages");
    for (m, s) in messages.iter().zip(sent) {
        assert_eq!(s["sku"], m.sku.as_str(), "the feed changed a SKU");
        assert_eq!(
            s["patches"][0]["value"][0]["quantity"], m.quantity,
            "the feed changed a quantity"
        );
        assert_eq!(
            s["messageId"], m.message_id,
            "the feed changed a message id"
        );
    }
}
