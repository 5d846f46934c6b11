//! FBA Inventory API v1: `getInventorySummaries` (`fbaInventory.json`). Only the seller's FBA
//! listings have inventory at Amazon: what they sell now (`fulfillableQuantity`), what is on
//! its way in, reserved for pending orders, unfulfillable (damaged) or under research. Pages
//! of 50; a `nextToken` expires 30 seconds after it was made.

use super::{iso, Ctx};
use crate::reply::Reply;
use crate::stock::Listing;
use crate::world::Status;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;

const PAGE: usize = 50;

/// A page token: the offset of the next page and when it was made.
fn token(offset: usize, now: DateTime<Utc>) -> String {
    format!("{offset}.{}", now.timestamp_millis())
}

fn read_token(t: &str, now: DateTime<Utc>) -> Result<usize, Reply> {
    let bad = || Reply::bad_request("Invalid nextToken");
    let (offset, made) = t.split_once('.').ok_or_else(bad)?;
    let made = made
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_millis)
        .ok_or_else(bad)?;
    if now - made > Duration::seconds(30) {
        return Err(Reply::bad_request("The nextToken has expired"));
    }
    offset.parse().map_err(|_| bad())
}

/// The fulfilment network SKU Amazon labels an FBA unit with.
pub fn fnsku(asin: &str) -> String {
    format!("X00{}", &asin[asin.len().saturating_sub(7)..])
}

/// Units of each SKU in the seller's pending FBA orders: reserved for them.
fn reserved<'a>(ctx: &'a Ctx<'_>) -> HashMap<&'a str, i64> {
    let mut out = HashMap::new();
    let pending = ctx.world.orders.values().filter(|o| {
        o.seller_id == ctx.seller && o.fulfilled_by_amazon && o.status == Status::Pending
    });
    for i in pending.flat_map(|o| o.items.iter()) {
        *out.entry(i.sku.as_str()).or_default() += i.quantity;
    }
    out
}

fn summary(l: &Listing, reserved: i64, details: bool) -> Value {
    let s = &l.fba_stock;
    let total = l.quantity
        + s.inbound_working
        + s.inbound_shipped
        + s.inbound_receiving
        + reserved
        + s.unfulfillable
        + s.researching;
    let mut v = json!({
        "asin": l.asin, "fnSku": fnsku(&l.asin),
        "sellerSku": l.sku, "condition": "NewItem", "lastUpdatedTime": iso(l.last_updated),
        "productName": l.title, "totalQuantity": total,
    });
    if details {
        v["inventoryDetails"] = json!({
            "fulfillableQuantity": l.quantity,
            "inboundWorkingQuantity": s.inbound_working,
            "inboundShippedQuantity": s.inbound_shipped,
            "inboundReceivingQuantity": s.inbound_receiving,
            "reservedQuantity": {"totalReservedQuantity": reserved,
                "pendingCustomerOrderQuantity": reserved, "pendingTransshipmentQuantity": 0,
                "fcProcessingQuantity": 0},
            "researchingQuantity": {"totalResearchingQuantity": s.researching,
                "researchingQuantityBreakdown": []},
            "unfulfillableQuantity": {"totalUnfulfillableQuantity": s.unfulfillable,
                "customerDamagedQuantity": s.unfulfillable, "warehouseDamagedQuantity": 0,
                "distributorDamagedQuantity": 0, "carrierDamagedQuantity": 0,
                "defectiveQuantity": 0, "expiredQuantity": 0},
        });
    }
    v
}

/// `GET /fba/inventory/v1/summaries`.
pub fn summaries(ctx: &mut Ctx<'_>) -> Reply {
    if ctx.q("granularityType") != Some("Marketplace") {
        return Reply::invalid_input("granularityType must be Marketplace");
    }
    let Some(granularity) = ctx.q("granularityId").map(str::to_string) else {
        return Reply::invalid_input("granularityId is required");
    };
    let marketplaces = ctx.q_list("marketplaceIds");
    if marketplaces.len() != 1 || marketplaces[0] != granularity {
        return Reply::invalid_input(
            "marketplaceIds must name the one marketplace of granularityId",
        );
    }
    let skus = ctx.q_list("sellerSkus");
    if skus.len() > 50 {
        return Reply::invalid_input("At most 50 sellerSkus");
    }
    let one = ctx.q("sellerSku").map(str::to_string);
    let since = match ctx.q("startDateTime") {
        None => None,
        Some(t) => match DateTime::parse_from_rfc3339(t) {
            Ok(t) => Some(t.with_timezone(&Utc)),
            Err(_) => return Reply::invalid_input("startDateTime must be ISO 8601"),
        },
    };
    let offset = match ctx.q("nextToken") {
        None => 0,
        Some(t) => match read_token(t, ctx.now) {
            Ok(o) => o,
            Err(r) => return r,
        },
    };
    let details = ctx.q("details") == Some("true");
    let mut found: Vec<&Listing> = ctx
        .world
        .listings
        .of_seller(&ctx.seller)
        .filter(|l| l.fba && l.offered_in(&marketplaces).is_some())
        .filter(|l| match (&since, skus.is_empty(), &one) {
            (Some(t), _, _) => l.last_updated > *t,
            (None, false, _) => skus.contains(&l.sku),
            (None, true, Some(s)) => &l.sku == s,
            (None, true, None) => true,
        })
        .collect();
    found.sort_by(|a, b| a.sku.cmp(&b.sku));
    let reserved = reserved(ctx);
    let page: Vec<Value> = found
        .iter()
        .skip(offset)
        .take(PAGE)
        .map(|l| {
            summary(
                l,
                reserved.get(l.sku.as_str()).copied().unwrap_or(0),
                details,
            )
        })
        .collect();
    let mut v = json!({
        "payload": {"granularity": {"granularityType": "Marketplace", "granularityId": granularity},
                    "inventorySummaries": page},
    });
    if offset + PAGE < found.len() {
        v["pagination"] = json!({"nextToken": token(offset + PAGE, ctx.now)});
    }
    Reply::json(200, v)
}
