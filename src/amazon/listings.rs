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

/// The patch that sets a seller-fulfilled quantity (the same shape the listings feed uses).
pub fn quantity_patch(quantity: i64) -> Value {
    json!([{"op": "replace", "path": "/attributes/fulfillment_availability",
            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]}])
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
) -> Result<std::result::Result<(), String>> {
    let body = json!({"productType": product_type, "patches": quantity_patch(quantity)});
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
    let v = client.call(&req).await?;
    if v["status"] == "ACCEPTED" || v["status"] == "VALID" {
        return Ok(Ok(()));
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
    Ok(Err(format!(
        "Amazon refused the quantity update: {}",
        issues.join("; ")
    )))
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
