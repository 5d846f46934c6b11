//! Reports API: the merchant listings report (`GET_MERCHANT_LISTINGS_ALL_DATA`) and the
//! returns reports.

use super::listings::encode_segment;
use super::{ApiRequest, Client, Operation};
use crate::error::{Error, Result};
use crate::model::{FulfilledBy, Listing, Return};
use serde_json::json;

/// The full listings snapshot, including inactive listings.
pub const MERCHANT_LISTINGS: &str = "GET_MERCHANT_LISTINGS_ALL_DATA";

/// Seller-fulfilled returns by the date they were requested (tab-separated).
pub const MFN_RETURNS: &str = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE";
/// Returns FBA received (tab-separated).
pub const FBA_RETURNS: &str = "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA";

/// Requests a report; returns its id.
pub async fn create(
    client: &Client,
    report_type: &str,
    marketplace_ids: &[String],
) -> Result<String> {
    create_for(client, report_type, marketplace_ids, None).await
}

/// Requests a report of the data from `since` to now; returns its id.
pub async fn create_for(
    client: &Client,
    report_type: &str,
    marketplace_ids: &[String],
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<String> {
    let mut body = json!({"reportType": report_type, "marketplaceIds": marketplace_ids});
    if let Some(t) = since {
        body["dataStartTime"] = json!(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    }
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

/// A tab-separated report read by column name; every row has every column (empty or not),
/// so a shorter one was cut off and the document is unreadable.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn read(bytes: &[u8], what: &str) -> Result<Table> {
        let text = String::from_utf8_lossy(bytes);
        let mut lines = text.lines();
        let header: Vec<String> = lines
            .next()
            .unwrap_or("")
            .split('\t')
            .map(|h| h.trim().to_string())
            .collect();
        let rows: Vec<Vec<String>> = lines
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.split('\t').map(|c| c.trim().to_string()).collect())
            .collect();
        if rows.iter().any(|r: &Vec<String>| r.len() < header.len()) {
            tracing::warn!("{what} ends in a row cut short");
            return Err(super::unreadable_document(what));
        }
        Ok(Table { header, rows })
    }

    fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// A column every report of its type has; without it the document is unreadable.
    fn required(&self, name: &str, what: &str) -> Result<usize> {
        self.col(name).ok_or_else(|| {
            tracing::warn!("{what} has no {name} column");
            super::unreadable_document(what)
        })
    }
}

/// A row's cell, None when empty or absent.
fn cell(row: &[String], i: Option<usize>) -> Option<String> {
    i.and_then(|i| row.get(i))
        .filter(|s| !s.is_empty())
        .cloned()
}

/// Parses the tab-separated merchant listings report by its column names.
pub fn parse_listings(bytes: &[u8]) -> Result<Vec<Listing>> {
    let what = "the listings report";
    let t = Table::read(bytes, what)?;
    let sku = t.required("seller-sku", what)?;
    let (asin, title, price, quantity, channel, status) = (
        t.col("asin1"),
        t.col("item-name"),
        t.col("price"),
        t.col("quantity"),
        t.col("fulfillment-channel"),
        t.col("status"),
    );
    Ok(t.rows
        .iter()
        .filter_map(|r| {
            Some(Listing {
                sku: cell(r, Some(sku))?,
                asin: cell(r, asin),
                title: cell(r, title),
                price: cell(r, price),
                quantity: cell(r, quantity).and_then(|q| q.parse().ok()),
                fulfillment_channel: cell(r, channel),
                status: cell(r, status),
            })
        })
        .collect())
}

/// Parses a returns report of `report_type` (`MFN_RETURNS` or `FBA_RETURNS`) by its column
/// names; `order_item_id` is left for the store to fill in.
pub fn parse_returns(report_type: &str, bytes: &[u8]) -> Result<Vec<Return>> {
    let fba = report_type == FBA_RETURNS;
    let what = if fba {
        "the FBA returns report"
    } else {
        "the returns report"
    };
    let t = Table::read(bytes, what)?;
    let names: [&str; 7] = if fba {
        [
            "order-id",
            "sku",
            "quantity",
            "reason",
            "status",
            "license-plate-number",
            "return-date",
        ]
    } else {
        [
            "Order ID",
            "Merchant SKU",
            "Return quantity",
            "Return Reason",
            "Return request status",
            "Amazon RMA ID",
            "Return request date",
        ]
    };
    let cols = names
        .iter()
        .map(|n| t.required(n, what))
        .collect::<Result<Vec<_>>>()?;
    let disposition = t.col("detailed-disposition");
    Ok(t.rows
        .iter()
        .filter_map(|r| {
            let get = |i: usize| cell(r, Some(cols[i]));
            Some(Return {
                order_id: get(0)?,
                order_item_id: None,
                sku: get(1)?,
                quantity: get(2)?.parse().ok()?,
                reason: get(3).unwrap_or_default(),
                status: get(4).unwrap_or_default(),
                disposition: cell(r, disposition),
                fulfilled_by: if fba {
                    FulfilledBy::Amazon
                } else {
                    FulfilledBy::Merchant
                },
                return_id: get(5)?,
                returned_at: get(6)?,
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
