//! FBA Inventory API v1 `getInventorySummaries`: the units at Amazon of SKUs it fulfils, 50
//! SKUs a call (following `nextToken`, which Amazon lets expire after 30 seconds).

use super::{ApiRequest, Client, Operation};
use crate::error::Result;
use crate::store::fba::FbaStock;
use serde_json::Value;

/// Most SKUs one call may name.
pub const SKUS_PER_CALL: usize = 50;

/// The inventory of up to 50 `skus` in `marketplace_id`'s pool.
pub async fn summaries(
    client: &Client,
    marketplace_id: &str,
    skus: &[String],
) -> Result<Vec<FbaStock>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = ApiRequest::get(
            Operation::GetInventorySummaries,
            "/fba/inventory/v1/summaries",
        )
        .q("details", "true")
        .q("granularityType", "Marketplace")
        .q("granularityId", marketplace_id)
        .q("marketplaceIds", marketplace_id)
        .q("sellerSkus", skus.join(","));
        if let Some(t) = &token {
            req = req.q("nextToken", t.clone());
        }
        let (page, next) = answer(&client.call(&req).await?);
        out.extend(page);
        token = next;
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// Reads one `getInventorySummaries` answer: the summaries and the next page's token.
pub fn answer(v: &Value) -> (Vec<FbaStock>, Option<String>) {
    let n = |x: &Value| x.as_i64().unwrap_or(0);
    let stock = v["payload"]["inventorySummaries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let d = &s["inventoryDetails"];
            Some(FbaStock {
                sku: s["sellerSku"].as_str()?.to_string(),
                fulfillable: n(&d["fulfillableQuantity"]),
                inbound_working: n(&d["inboundWorkingQuantity"]),
                inbound_shipped: n(&d["inboundShippedQuantity"]),
                inbound_receiving: n(&d["inboundReceivingQuantity"]),
                reserved: n(&d["reservedQuantity"]["totalReservedQuantity"]),
                unfulfillable: n(&d["unfulfillableQuantity"]["totalUnfulfillableQuantity"]),
                researching: n(&d["researchingQuantity"]["totalResearchingQuantity"]),
                total: n(&s["totalQuantity"]),
                amazon_updated: s["lastUpdatedTime"].as_str().map(str::to_string),
            })
        })
        .collect();
    let next = v["pagination"]["nextToken"]
        .as_str()
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    (stock, next)
}
