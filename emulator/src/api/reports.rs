//! Reports API 2021-06-30: the merchant listings report, the order report by last update and
//! the returns reports (seller-fulfilled by return date, FBA customer returns), as
//! tab-separated documents with the documented columns, and the seller performance report
//! (JSON, [`crate::health`]), ready after a processing delay. A
//! returns report without a row ends `CANCELLED`, as Amazon's do "if there is no data".

use super::feeds::store_document;
use super::orders::money;
use super::{iso, parse_time, Ctx};
use crate::reply::Reply;
use crate::world::{Processing, Report, World};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Nominal seconds a report waits, then takes (divided by the rate scale).
const QUEUE_S: f64 = 10.0;
const PROCESS_S: f64 = 30.0;

const LISTINGS: &str = "GET_MERCHANT_LISTINGS_ALL_DATA";
const ORDERS: &str = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL";
const MFN_RETURNS: &str = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE";
const FBA_RETURNS: &str = "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA";
/// The seller's account health, a JSON document (see [`crate::health`]).
const PERFORMANCE: &str = "GET_V2_SELLER_PERFORMANCE_REPORT";

/// The seller-fulfilled returns report's columns (Amazon's "Returns reports attributes").
const MFN_RETURNS_COLUMNS: &str = "Order ID\tOrder date\tReturn request date\tReturn request status\tAmazon RMA ID\tMerchant RMA ID\tLabel type\tLabel cost\tCurrency code\tReturn carrier\tTracking ID\tLabel to be paid by\tA-to-Z Claim\tIs prime\tASIN\tMerchant SKU\tItem Name\tReturn quantity\tReturn Reason\tIn policy\tReturn type\tResolution\tInvoice number\tReturn delivery date\tOrder Amount\tOrder quantity\tSafeT Action reason\tSafeT claim id\tSafeT claim state\tSafeT claim creation time\tSafeT claim reimbursement amount\tRefunded Amount";
/// The FBA customer returns report's columns.
const FBA_RETURNS_COLUMNS: &str = "return-date\torder-id\tsku\tasin\tfnsku\tproduct-name\tquantity\tfulfillment-center-id\tdetailed-disposition\treason\tstatus\tlicense-plate-number\tcustomer-comments";

const LISTINGS_COLUMNS: &str = "item-name\titem-description\tlisting-id\tseller-sku\tprice\tquantity\topen-date\timage-url\titem-is-marketplace\tproduct-id-type\tzshop-shipping-fee\titem-note\titem-condition\tzshop-category1\tzshop-browse-path\tzshop-storefront-feature\tasin1\tasin2\tasin3\twill-ship-internationally\texpedited-shipping\tzshop-boldface\tproduct-id\tbid-for-featured-placement\tadd-delete\tpending-quantity\tfulfillment-channel\tmerchant-shipping-group\tstatus";
const ORDERS_COLUMNS: &str = "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\tfulfillment-channel\tsales-channel\torder-channel\tship-service-level\tproduct-name\tsku\tasin\titem-status\tquantity\tcurrency\titem-price\titem-tax\tshipping-price\tshipping-tax\tgift-wrap-price\tgift-wrap-tax\titem-promotion-discount\tship-promotion-discount\tship-city\tship-state\tship-postal-code\tship-country\tpromotion-ids\tis-business-order\tpurchase-order-number\tprice-designation";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateReport {
    report_type: String,
    marketplace_ids: Vec<String>,
    data_start_time: Option<String>,
    data_end_time: Option<String>,
}

/// `POST /reports/2021-06-30/reports` → 202.
pub fn create_report(ctx: &mut Ctx<'_>) -> Reply {
    let req: CreateReport = match ctx.json(Reply::invalid_400) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if ![LISTINGS, ORDERS, MFN_RETURNS, FBA_RETURNS, PERFORMANCE]
        .contains(&req.report_type.as_str())
    {
        return Reply::invalid_400(&format!("Invalid reportType {}", req.report_type));
    }
    if req.report_type == PERFORMANCE && !ctx.world.insights_role {
        return Reply::error(
            403,
            "Unauthorized",
            "Access to requested resource is denied.",
            "",
        );
    }
    if req.marketplace_ids.is_empty() || req.marketplace_ids.len() > 25 {
        return Reply::invalid_400("marketplaceIds must name 1 to 25 marketplaces");
    }
    let parse = |t: &Option<String>| {
        t.as_deref()
            .map(|s| parse_time(s).ok_or(s.to_string()))
            .transpose()
    };
    let (start, end) = match (parse(&req.data_start_time), parse(&req.data_end_time)) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(t), _) | (_, Err(t)) => return Reply::invalid_400(&format!("Invalid date-time {t}")),
    };
    if end.is_some_and(|e| e > ctx.now) {
        return Reply::invalid_400("dataEndTime must not be in the future");
    }
    let id = ctx.world.id().to_string();
    let scale = ctx.shared.rate_scale;
    let start_at = Instant::now() + Duration::from_secs_f64(QUEUE_S / scale);
    ctx.world.reports.insert(
        id.clone(),
        Report {
            report_id: id.clone(),
            seller_id: ctx.seller.clone(),
            report_type: req.report_type,
            marketplace_ids: req.marketplace_ids,
            data_start: start,
            data_end: end,
            created: ctx.now,
            status: Processing::InQueue,
            started: None,
            ended: None,
            document_id: None,
            start_at,
            done_at: start_at + Duration::from_secs_f64(PROCESS_S / scale),
        },
    );
    Reply::json(202, json!({ "reportId": id }))
}

/// `GET /reports/2021-06-30/reports/{reportId}`.
pub fn get_report(ctx: &mut Ctx<'_>) -> Reply {
    let Some(r) = ctx
        .world
        .reports
        .get(&ctx.params[0])
        .filter(|r| r.seller_id == ctx.seller)
    else {
        return Reply::not_found(&format!("Report {} not found", ctx.params[0]));
    };
    let mut v: Value = json!({"reportId": r.report_id, "reportType": r.report_type, "marketplaceIds": r.marketplace_ids,
                              "createdTime": iso(r.created), "processingStatus": r.status.as_str()});
    for (k, t) in [
        ("dataStartTime", r.data_start),
        ("dataEndTime", r.data_end),
        ("processingStartTime", r.started),
        ("processingEndTime", r.ended),
    ] {
        if let Some(t) = t {
            v[k] = json!(iso(t));
        }
    }
    if let Some(d) = &r.document_id {
        v["reportDocumentId"] = json!(d);
    }
    Reply::json(200, v)
}

/// Moves reports through processing and writes their documents.
pub fn tick(world: &mut World, now: DateTime<Utc>) {
    let real = Instant::now();
    let due: Vec<String> = world
        .reports
        .values()
        .filter(|r| {
            matches!(r.status, Processing::InQueue | Processing::InProgress) && r.start_at <= real
        })
        .map(|r| r.report_id.clone())
        .collect();
    for id in due {
        let Some(r) = world.reports.get_mut(&id) else {
            continue;
        };
        if r.status == Processing::InQueue {
            r.status = Processing::InProgress;
            r.started = Some(now);
        }
        if r.done_at > real {
            continue;
        }
        let report = r.clone();
        const TSV: &str = "text/tab-separated-values; charset=UTF-8";
        let (content_type, text) = match report.report_type.as_str() {
            PERFORMANCE => (
                "application/json",
                crate::health::report(world, &report.seller_id, &report.marketplace_ids, now)
                    .to_string(),
            ),
            LISTINGS => (TSV, listings_tsv(world, &report)),
            MFN_RETURNS | FBA_RETURNS => (TSV, returns_tsv(world, &report, now)),
            _ => (TSV, orders_tsv(world, &report, now)),
        };
        // A returns report without a row: no data.
        if matches!(report.report_type.as_str(), MFN_RETURNS | FBA_RETURNS)
            && text.lines().count() < 2
        {
            if let Some(r) = world.reports.get_mut(&id) {
                r.status = Processing::Cancelled;
                r.ended = Some(now);
            }
            continue;
        }
        let doc = store_document(world, content_type, Some(text.into_bytes()), 1.0);
        if let Some(r) = world.reports.get_mut(&id) {
            r.status = Processing::Done;
            r.ended = Some(now);
            r.document_id = Some(doc);
        }
    }
}

/// The returns requested in the report's window, of its kind (seller-fulfilled or FBA).
fn returns_tsv(world: &World, r: &Report, now: DateTime<Utc>) -> String {
    let fba = r.report_type == FBA_RETURNS;
    let start = r.data_start.unwrap_or(now - chrono::Duration::days(30));
    let end = r.data_end.unwrap_or(now);
    let mut out = String::from(if fba {
        FBA_RETURNS_COLUMNS
    } else {
        MFN_RETURNS_COLUMNS
    });
    out.push('\n');
    for ret in world
        .returns
        .iter()
        .filter(|x| x.fba == fba && x.requested >= start && x.requested <= end)
    {
        let Some(o) = world.orders.get(&ret.order_id) else {
            continue;
        };
        if o.seller_id != r.seller_id || !r.marketplace_ids.contains(&o.marketplace_id) {
            continue;
        }
        let row: Vec<String> = if fba {
            vec![
                iso(ret.requested),
                ret.order_id.clone(),
                clean(&ret.sku),
                ret.asin.clone(),
                super::fba::fnsku(&ret.asin),
                clean(&ret.title),
                ret.quantity.to_string(),
                "SEA8".into(),
                "SELLABLE".into(),
                ret.reason.clone(),
                "Unit returned to inventory".into(),
                ret.rma_id.clone(),
                String::new(),
            ]
        } else {
            let ordered: i64 = o.items.iter().map(|i| i.quantity).sum();
            vec![
                ret.order_id.clone(),
                iso(o.created),
                iso(ret.requested),
                "Approved".into(),
                ret.rma_id.clone(),
                String::new(),
                "AmazonUnPaidLabel".into(),
                String::new(),
                o.currency.clone(),
                "UPS".into(),
                String::new(),
                "Customer".into(),
                "N".into(),
                if o.programs.prime { "Y" } else { "N" }.into(),
                ret.asin.clone(),
                clean(&ret.sku),
                clean(&ret.title),
                ret.quantity.to_string(),
                ret.reason.clone(),
                "Y".into(),
                "C-Returns".into(),
                "StandardRefund".into(),
                String::new(),
                String::new(),
                money(o.total_cents(), &o.currency),
                ordered.to_string(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]
        };
        out.push_str(&row.join("\t"));
        out.push('\n');
    }
    out
}

fn clean(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

fn listings_tsv(world: &World, r: &Report) -> String {
    let mut out = String::from(LISTINGS_COLUMNS);
    out.push('\n');
    for l in world.listings.of_seller(&r.seller_id) {
        let (channel, status) = (
            if l.fba { "AMAZON_NA" } else { "DEFAULT" },
            if l.quantity > 0 { "Active" } else { "Inactive" },
        );
        let quantity = if l.fba {
            String::new()
        } else {
            l.quantity.to_string()
        };
        let row = [
            clean(&l.title),
            String::new(),
            l.asin.clone(),
            clean(&l.sku),
            money(l.price_cents, &l.currency),
            quantity,
            l.created.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            String::new(),
            "y".into(),
            "1".into(),
            String::new(),
            String::new(),
            "11".into(),
            String::new(),
            String::new(),
            String::new(),
            l.asin.clone(),
            String::new(),
            String::new(),
            "N".into(),
            String::new(),
            String::new(),
            l.asin.clone(),
            String::new(),
            String::new(),
            "0".into(),
            channel.into(),
            "Migrated Template".into(),
            status.into(),
        ];
        out.push_str(&row.join("\t"));
        out.push('\n');
    }
    out
}

fn orders_tsv(world: &World, r: &Report, now: DateTime<Utc>) -> String {
    let start = r.data_start.unwrap_or(now - chrono::Duration::days(30));
    let end = r.data_end.unwrap_or(now);
    let mut out = String::from(ORDERS_COLUMNS);
    out.push('\n');
    for (_, id) in world.by_update.range((start, String::new())..) {
        let Some(o) = world.orders.get(id) else {
            continue;
        };
        if o.last_updated > end {
            break;
        }
        if o.seller_id != r.seller_id || !r.marketplace_ids.contains(&o.marketplace_id) {
            continue;
        }
        let (_, _, domain) = crate::marketplace(&o.marketplace_id);
        for it in &o.items {
            let c = &it.charges;
            let row = [
                o.order_id.clone(),
                String::new(),
                iso(o.created),
                iso(o.last_updated),
                o.status.v0().to_string(),
                if o.fulfilled_by_amazon {
                    "Amazon"
                } else {
                    "Merchant"
                }
                .to_string(),
                domain.to_string(),
                String::new(),
                "Standard".into(),
                clean(&it.title),
                clean(&it.sku),
                it.asin.clone(),
                if o.status == crate::world::Status::Canceled {
                    "Cancelled"
                } else if it.quantity_shipped >= it.quantity {
                    "Shipped"
                } else {
                    "Unshipped"
                }
                .to_string(),
                it.quantity.to_string(),
                o.currency.clone(),
                money(it.items_cents(), &o.currency),
                money(c.item_tax, &o.currency),
                money(c.shipping, &o.currency),
                money(c.shipping_tax, &o.currency),
                money(c.gift_wrap, &o.currency),
                money(c.gift_wrap_tax, &o.currency),
                money(-c.promotion_discount, &o.currency),
                money(-c.shipping_discount, &o.currency),
                o.address.city.clone(),
                String::new(),
                o.address.postal_code.clone(),
                o.address.country_code.clone(),
                c.promotion_ids.join(","),
                o.programs.business.to_string(),
                String::new(),
                String::new(),
            ];
            out.push_str(&row.join("\t"));
            out.push('\n');
        }
    }
    out
}
