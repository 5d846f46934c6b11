//! Listings Items API: the direct quantity update (`patchListingsItem`).

use super::{ApiRequest, Client, Operation};
use crate::error::Result;
use serde_json::{json, Value};

/// Percent-encodes one path segment (a SKU may contain any character).
pub fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The patch that sets a seller-fulfilled quantity, and the handling time when one is given
/// (the same shape the listings feed uses). It is a `merge`: a `replace` drops every part of
/// the channel's entry it does not carry, so the listing's handling time and restock date
/// would fall back to the account's defaults on every stock change (a known limitation of
/// Amazon's; `merge` keeps them since 2025-06-16).
pub fn quantity_patch(quantity: i64, handling_days: Option<i64>) -> Value {
    let mut entry = json!({"fulfillment_channel_code": "DEFAULT", "quantity": quantity});
    if let Some(days) = handling_days {
        entry["lead_time_to_ship_max_days"] = json!(days);
    }
    json!([{"op": "merge", "path": "/attributes/fulfillment_availability", "value": [entry]}])
}

/// Sets the quantity of one SKU at once. `Ok(Err(message))` when Amazon refused the
/// submission (status INVALID) with its issues.
pub async fn patch_quantity(
    client: &Client,
    seller_id: &str,
    marketplace_ids: &[String],
    sku: &str,
    product_type: &str,
    quantity: i64,
    handling_days: Option<i64>,
) -> Result<std::result::Result<(), String>> {
    let body =
        json!({"productType": product_type, "patches": quantity_patch(quantity, handling_days)});
    let path = format!(
        "/listings/2021-08-01/items/{}/{}",
        encode_segment(seller_id),
        encode_segment(sku)
    );
    let req = ApiRequest::with_body(
        Operation::PatchListingsItem,
        reqwest::Method::PATCH,
        path,
        body,
    )
    .q("marketplaceIds", marketplace_ids.join(","));
    Ok(patch_answer(&client.call(&req).await?))
}

/// Reads a `patchListingsItem` answer: `Err(message)` when Amazon refused the submission.
pub fn patch_answer(v: &Value) -> std::result::Result<(), String> {
    if v["status"] == "ACCEPTED" || v["status"] == "VALID" {
        return Ok(());
    }
    let issues: Vec<String> = v["issues"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            format!(
                "{}: {}",
                i["code"].as_str().unwrap_or(""),
                i["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    Err(format!(
        "Amazon refused the quantity update: {}",
        issues.join("; ")
    ))
}

/// The patch that sets a SKU's offer in one marketplace: its price, and its sale price and
/// the seller's floor and ceiling when given. A `replace`: the offer Amazon keeps is the one
/// sent, whole (a sale or bound the host no longer gives ends).
pub fn price_patch(p: &crate::store::prices::PriceRow) -> Value {
    let amount = |minor: i64| json!([{"schedule": [{"value_with_tax": crate::prices::as_number(minor, p.decimals)}]}]);
    let mut offer = json!({"marketplace_id": p.marketplace_id, "currency": p.currency,
                           "our_price": amount(p.price)});
    if let Some((sale, from, to)) = &p.sale {
        let mut s = amount(*sale);
        s[0]["schedule"][0]["start_at"] = json!(from);
        s[0]["schedule"][0]["end_at"] = json!(to);
        offer["discounted_price"] = s;
    }
    if let Some(m) = p.minimum {
        offer["minimum_seller_allowed_price"] = amount(m);
    }
    if let Some(m) = p.maximum {
        offer["maximum_seller_allowed_price"] = amount(m);
    }
    json!([{"op": "replace", "path": "/attributes/purchasable_offer", "value": [offer]}])
}

/// Sets a SKU's offer in one marketplace. `Ok(Err(message))` when Amazon refused the
/// submission (status INVALID) with its issues.
pub async fn patch_price(
    client: &Client,
    seller_id: &str,
    product_type: &str,
    p: &crate::store::prices::PriceRow,
) -> Result<std::result::Result<(), String>> {
    let body = json!({"productType": product_type, "patches": price_patch(p)});
    let path = format!(
        "/listings/2021-08-01/items/{}/{}",
        encode_segment(seller_id),
        encode_segment(&p.sku)
    );
    let req = ApiRequest::with_body(
        Operation::PatchListingsItem,
        reqwest::Method::PATCH,
        path,
        body,
    )
    .q("marketplaceIds", p.marketplace_id.clone());
    Ok(patch_answer(&client.call(&req).await?)
        .map_err(|m| m.replace("the quantity update", "the price")))
}

/// A listing's offer in one marketplace: its price in minor units of `currency`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub sku: String,
    pub currency: Option<String>,
    /// The price, in minor units of the marketplace's currency (None: not read).
    pub price: Option<i64>,
}

/// Reads the offers of up to 20 SKUs in one marketplace with one `searchListingsItems` call;
/// SKUs absent from the answer have no listing there.
pub async fn search_offers(
    client: &Client,
    seller_id: &str,
    marketplace_id: &str,
    skus: &[String],
) -> Result<Vec<Shown>> {
    let req = search_request(seller_id, marketplace_id, skus, "summaries,offers");
    let decimals = crate::prices::currency(marketplace_id).map_or(2, |c| c.1);
    Ok(offers_answer(
        &client.call(&req).await?,
        marketplace_id,
        decimals,
    ))
}

/// Reads the offers of a `searchListingsItems` answer in one marketplace.
pub fn offers_answer(v: &Value, marketplace_id: &str, decimals: u32) -> Vec<Shown> {
    v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| {
            let sku = item["sku"].as_str()?.to_string();
            let offer = item["offers"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|o| o["marketplaceId"] == marketplace_id && o["offerType"] != "B2B");
            let price = offer.map(|o| &o["price"]);
            let amount = price.and_then(|p| match &p["amount"] {
                Value::String(s) => s.parse::<f64>().ok(),
                n => n.as_f64(),
            });
            Some(Shown {
                sku,
                currency: price
                    .and_then(|p| p["currencyCode"].as_str())
                    .map(str::to_string),
                price: amount.map(|a| (a * 10f64.powi(decimals as i32)).round() as i64),
            })
        })
        .collect()
}

/// What Amazon's listing of a SKU says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub sku: String,
    pub product_type: Option<String>,
    /// The seller-fulfilled quantity.
    pub quantity: Option<i64>,
    /// When the listing last changed (`summaries.lastUpdatedDate`, to the millisecond): Amazon
    /// moves it when it applies a submission.
    pub updated: Option<chrono::DateTime<chrono::Utc>>,
    /// Amazon fulfils it (a channel other than `DEFAULT`, and no `DEFAULT` one).
    pub fulfilled_by_amazon: bool,
}

/// Looks up to 20 SKUs up with one `searchListingsItems` call; SKUs absent from the answer
/// have no listing.
pub async fn search_by_skus(
    client: &Client,
    seller_id: &str,
    marketplace_ids: &[String],
    skus: &[String],
) -> Result<Vec<Found>> {
    let req = search_request(
        seller_id,
        &marketplace_ids.join(","),
        skus,
        "summaries,fulfillmentAvailability",
    );
    Ok(search_answer(&client.call(&req).await?))
}

/// The `searchListingsItems` call for up to 20 SKUs in `marketplace_ids` (comma-separated),
/// with the sections `included`.
fn search_request(
    seller_id: &str,
    marketplace_ids: &str,
    skus: &[String],
    included: &str,
) -> ApiRequest {
    let path = format!("/listings/2021-08-01/items/{}", encode_segment(seller_id));
    ApiRequest::get(Operation::SearchListingsItems, path)
        .q("marketplaceIds", marketplace_ids.to_string())
        .q("identifiers", skus.join(","))
        .q("identifiersType", "SKU")
        .q("includedData", included.to_string())
        .q("pageSize", "20")
}

/// Reads a `searchListingsItems` answer: what each listing found says.
pub fn search_answer(v: &Value) -> Vec<Found> {
    v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| {
            let sku = item["sku"].as_str()?.to_string();
            let product_type = item["summaries"][0]["productType"]
                .as_str()
                .map(str::to_string);
            let channels = item["fulfillmentAvailability"].as_array();
            let channel = |code: &str| {
                channels
                    .into_iter()
                    .flatten()
                    .find(|f| f["fulfillmentChannelCode"] == code)
            };
            let quantity = channel("DEFAULT").and_then(|f| f["quantity"].as_i64());
            let fulfilled_by_amazon = channel("DEFAULT").is_none()
                && channels.into_iter().flatten().any(|f| {
                    f["fulfillmentChannelCode"]
                        .as_str()
                        .is_some_and(|c| c.starts_with("AMAZON"))
                });
            let updated = item["summaries"][0]["lastUpdatedDate"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&chrono::Utc));
            Some(Found {
                sku,
                product_type,
                quantity,
                updated,
                fulfilled_by_amazon,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_are_percent_encoded_in_paths() {
        assert_eq!(encode_segment("A/B c+ä"), "A%2FB%20c%2B%C3%A4");
        assert_eq!(encode_segment("SKU-1_x.y~"), "SKU-1_x.y~");
    }
}
