//! Reports API: the merchant listings report (`GET_MERCHANT_LISTINGS_ALL_DATA`).

use super::listings::encode_segment;
use super::{ApiRequest, Client, Operation};
use crate::error::{Error, Result};
use crate::model::Listing;
use serde_json::json;

/// The full listings snapshot, including inactive listings.
pub const MERCHANT_LISTINGS: &str = "GET_MERCHANT_LISTINGS_ALL_DATA";

/// Requests a report; returns its id.
pub async fn create(
    client: &Client,
    report_type: &str,
    marketplace_ids: &[String],
) -> Result<String> {
    let body = json!({"reportType": report_type, "marketplaceIds": marketplace_ids});
    let v = client
        .call(&ApiRequest::post(
            Operation::CreateReport,
            "/reports/2021-06-30/reports",
            body,
        ))
        .await?;
    created_answer(&v)
}

/// Reads a `createReport` answer: the report id.
pub fn created_answer(v: &serde_json::Value) -> Result<String> {
    v["reportId"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| Error::Network("createReport answered without reportId".into()))
}

/// A report's processing status and document id.
pub async fn status(client: &Client, report_id: &str) -> Result<(String, Option<String>)> {
    let path = format!("/reports/2021-06-30/reports/{}", encode_segment(report_id));
    let v = client
        .call(&ApiRequest::get(Operation::GetReport, path))
        .await?;
    Ok(status_answer(&v))
}

/// Reads a `getReport` answer: the processing status and the document id.
pub fn status_answer(v: &serde_json::Value) -> (String, Option<String>) {
    (
        v["processingStatus"].as_str().unwrap_or("").to_string(),
        v["reportDocumentId"].as_str().map(str::to_string),
    )
}

/// Downloads a report document.
pub async fn document(client: &Client, document_id: &str) -> Result<Vec<u8>> {
    let path = format!(
        "/reports/2021-06-30/documents/{}",
        encode_segment(document_id)
    );
    client
        .fetch_document(Operation::GetReportDocument, path)
        .await
}

/// Parses the tab-separated merchant listings report by its column names.
pub fn parse_listings(bytes: &[u8]) -> Result<Vec<Listing>> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or("")
        .split('\t')
        .map(str::trim)
        .collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let Some(sku) = col("seller-sku") else {
        tracing::warn!("the listings report has no seller-sku column");
        return Err(super::unreadable_document("the listings report"));
    };
    // Every row has every column (empty or not): a shorter one was cut off.
    if text
        .lines()
        .skip(1)
        .any(|l| !l.trim().is_empty() && l.split('\t').count() < header.len())
    {
        tracing::warn!("the listings report ends in a row cut short");
        return Err(super::unreadable_document("the listings report"));
    }
    let (asin, title, price, quantity, channel, status) = (
        col("asin1"),
        col("item-name"),
        col("price"),
        col("quantity"),
        col("fulfillment-channel"),
        col("status"),
    );
    Ok(lines
        .filter(|l| !l.trim().is_empty())
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            let get = |i: Option<usize>| {
                i.and_then(|i| cells.get(i))
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            };
            Some(Listing {
                sku: get(Some(sku))?,
                asin: get(asin),
                title: get(title),
                price: get(price),
                quantity: get(quantity).and_then(|q| q.parse().ok()),
                fulfillment_channel: get(channel),
                status: get(status),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_listings_by_column_name_with_blank_fba_quantities() {
        let tsv = "item-name\tseller-sku\tprice\tquantity\tasin1\tfulfillment-channel\tstatus\n\
                   Mug\tMUG-1\t12.99\t7\tB01\tDEFAULT\tActive\n\
                   Mug FBA\tMUG-F\t12.99\t\tB02\tAMAZON_NA\tActive\n";
        let l = parse_listings(tsv.as_bytes()).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].quantity, Some(7));
        assert_eq!(l[0].price.as_deref(), Some("12.99"));
        assert_eq!(l[1].quantity, None);
        assert_eq!(l[1].fulfillment_channel.as_deref(), Some("AMAZON_NA"));
    }
}
