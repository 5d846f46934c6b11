//! Listings Items API 2021-08-01: get, put, patch, delete, search.

use super::Ctx;
use crate::reply::Reply;
use crate::stock::PendingPatch;
use crate::world::{Cause, Listing, World};
use chrono::{DateTime, Utc};
use rand::Rng;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// One listing as `getListingsItem` returns it, with the sections in `included`.
pub fn listing_json(l: &Listing, marketplace_id: &str, included: &[String]) -> Value {
    let has = |s: &str| included.iter().any(|i| i == s);
    let mut v = json!({ "sku": l.sku });
    if included.is_empty() || has("summaries") {
        let status: Vec<&str> = if l.quantity > 0 {
            vec!["BUYABLE", "DISCOVERABLE"]
        } else {
            vec!["DISCOVERABLE"]
        };
        v["summaries"] = json!([{
            "marketplaceId": marketplace_id, "asin": l.asin, "productType": l.product_type,
            "conditionType": "new_new", "status": status, "itemName": l.title,
            "createdDate": iso_ms(l.created), "lastUpdatedDate": iso_ms(l.last_updated)
        }]);
    }
    let channel = if l.fba { "AMAZON_NA" } else { "DEFAULT" };
    let (cents, currency) = l.price_in(marketplace_id);
    let price = super::orders::money(cents, &currency);
    if has("attributes") {
        v["attributes"] = json!({
            "item_name": [{"value": l.title, "marketplace_id": marketplace_id}],
            "fulfillment_availability": [fulfillment_entry(l, channel)],
            "purchasable_offer": [offer_entry(l, marketplace_id)]
        });
    }
    if has("issues") {
        v["issues"] = json!([]);
    }
    if has("offers") {
        v["offers"] = json!([{"marketplaceId": marketplace_id, "offerType": "B2C",
                               "price": {"currencyCode": currency, "amount": price}}]);
    }
    if has("fulfillmentAvailability") {
        v["fulfillmentAvailability"] =
            json!([{"fulfillmentChannelCode": channel, "quantity": l.quantity}]);
    }
    v
}

/// A price as the attributes carry it (`[{"schedule": [{"value_with_tax": 15.0}]}]`).
fn schedule(cents: i64) -> Value {
    json!([{"schedule": [{"value_with_tax": cents as f64 / 100.0}]}])
}

/// A listing's `purchasable_offer` entry for one marketplace as its attributes show it.
fn offer_entry(l: &Listing, marketplace_id: &str) -> Value {
    let (cents, currency) = l.price_in(marketplace_id);
    let mut e = json!({"marketplace_id": marketplace_id, "currency": currency,
                       "our_price": schedule(cents)});
    if let Some(o) = l.offers.get(marketplace_id) {
        if let Some((sale, start, end)) = &o.sale {
            let mut s = schedule(*sale);
            s[0]["schedule"][0]["start_at"] = json!(start);
            s[0]["schedule"][0]["end_at"] = json!(end);
            e["discounted_price"] = s;
        }
        if let Some(m) = o.minimum_cents {
            e["minimum_seller_allowed_price"] = schedule(m);
        }
        if let Some(m) = o.maximum_cents {
            e["maximum_seller_allowed_price"] = schedule(m);
        }
    }
    e
}

/// The amount of a price attribute (`<name>[0].schedule[0].value_with_tax`) in minor units.
fn amount(entry: &Value, name: &str) -> Result<Option<i64>, Issue> {
    let Some(v) = entry.get(name) else {
        return Ok(None);
    };
    v.pointer("/0/schedule/0/value_with_tax")
        .and_then(Value::as_f64)
        .filter(|p| *p >= 0.0 && p.is_finite())
        .map(|p| Some((p * 100.0).round() as i64))
        .ok_or_else(|| {
            issue(
                "INVALID_VALUE",
                &format!("{name} needs [0].schedule[0].value_with_tax, a price of 0 or more"),
            )
        })
}

/// A listing's dates come to the millisecond (`2024-04-19T02:40:58.472Z`), unlike orders'.
fn iso_ms(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A listing's `fulfillment_availability` entry as its attributes show it.
fn fulfillment_entry(l: &Listing, channel: &str) -> Value {
    let mut e = json!({"fulfillment_channel_code": channel, "quantity": l.quantity});
    if let Some(d) = l.handling_days {
        e["lead_time_to_ship_max_days"] = json!(d);
    }
    if let Some(r) = &l.restock_date {
        e["restock_date"] = json!(r);
    }
    e
}

fn marketplace_or_400(ctx: &Ctx<'_>) -> Result<String, Reply> {
    ctx.q_list("marketplaceIds")
        .into_iter()
        .next()
        .ok_or_else(|| Reply::bad_request("marketplaceIds is required"))
}

/// `GET /listings/2021-08-01/items/{sellerId}/{sku}`.
pub fn get(ctx: &mut Ctx<'_>) -> Reply {
    let mp = match marketplace_or_400(ctx) {
        Ok(m) => m,
        Err(r) => return r,
    };
    if ctx.params[0] != ctx.seller {
        return Reply::unauthorized("The sellerId does not match the access token.");
    }
    let included = ctx.q_list("includedData");
    let requested = ctx.q_list("marketplaceIds");
    let listing = ctx
        .world
        .listings
        .get(&(ctx.seller.clone(), ctx.params[1].clone()));
    match listing.and_then(|l| Some((l, l.offered_in(&requested)?))) {
        Some((l, offered)) => Reply::json(200, listing_json(l, offered, &included)),
        None => Reply::not_found(&format!(
            "SKU '{}' not found in marketplace {mp}",
            ctx.params[1]
        )),
    }
}

pub use crate::stock::Patch;

/// What was wrong with a patch or attribute set: (code, message).
pub type Issue = (String, String);

/// How an attribute's value is applied. `Replace` (`add`, `replace`, and a put's attributes)
/// sets the whole value: a `fulfillment_availability` entry that does not carry
/// `lead_time_to_ship_max_days` or `restock_date` drops them, and the listing falls back to
/// the account's handling time (selling-partner-api-docs #2395, Amazon staff: a known
/// limitation; #3002 for feeds). `Merge` changes only what the entry carries, the entry
/// chosen by its `fulfillment_channel_code` (SP-API changelog, 2025-06-16).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Replace,
    Merge,
}

/// The attributes of an offer: Amazon accepts them under the product type `PRODUCT`
/// whatever the listing's own product type (selling-partner-api-models #317, Amazon staff).
const OFFER_ATTRIBUTES: &[&str] = &[
    "fulfillment_availability",
    "purchasable_offer",
    "list_price",
    "condition_type",
    "merchant_shipping_group",
    "max_order_quantity",
    "skip_offer",
];

/// Whether every named attribute belongs to the offer.
pub fn offer_only<'a>(mut names: impl Iterator<Item = &'a str>) -> bool {
    names.all(|n| OFFER_ATTRIBUTES.contains(&n))
}

/// The attribute a patch path names (`/attributes/<name>`).
pub fn patched_attribute(path: &str) -> Option<&str> {
    path.strip_prefix("/attributes/")
        .filter(|n| !n.is_empty() && !n.contains('/'))
}

/// Applies attribute values to a listing; returns the issues that prevent acceptance.
pub fn apply_attribute(
    l: &mut Listing,
    name: &str,
    value: &Value,
    mode: Mode,
) -> Result<(), Issue> {
    match name {
        "fulfillment_availability" => {
            let entry = value.get(0).ok_or_else(|| {
                issue("INVALID_VALUE", "fulfillment_availability needs one value")
            })?;
            // Amazon refuses an entry without its channel (selling-partner-api-models #4554).
            let code = entry
                .get("fulfillment_channel_code")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    issue(
                        "MISSING_ATTRIBUTE",
                        "fulfillment_availability needs fulfillment_channel_code",
                    )
                })?;
            if code != "DEFAULT" {
                return Err(issue(
                    "FBA_QUANTITY",
                    "The quantity of a listing fulfilled by Amazon cannot be set by the seller",
                ));
            }
            if l.fba {
                // Amazon takes a seller-fulfilled quantity for an FBA listing: the listing
                // becomes seller-fulfilled, and its units at Amazon are stranded (the
                // POST_INVENTORY_AVAILABILITY_DATA changelog; docs#1714, models#2061).
                l.fba = false;
                l.converted_from_fba = true;
            }
            let lead = match entry.get("lead_time_to_ship_max_days") {
                None => None,
                Some(v) => Some(v.as_i64().filter(|d| (0..=30).contains(d)).ok_or_else(|| {
                    issue(
                        "INVALID_VALUE",
                        "lead_time_to_ship_max_days must be a whole number of days from 0 to 30",
                    )
                })?),
            };
            let restock = entry
                .get("restock_date")
                .and_then(Value::as_str)
                .map(str::to_string);
            match entry.get("quantity").and_then(Value::as_i64) {
                Some(q) if q >= 0 => {
                    l.quantity = q;
                    l.quantity_updates += 1;
                }
                // The quantity is required even to change only the handling time
                // (selling-partner-api-models #4841, Amazon staff).
                _ => {
                    return Err(issue(
                        "INVALID_VALUE",
                        "quantity must be a non-negative integer",
                    ))
                }
            }
            match mode {
                Mode::Replace => (l.handling_days, l.restock_date) = (lead, restock),
                Mode::Merge => {
                    l.handling_days = lead.or(l.handling_days);
                    l.restock_date = restock.or(l.restock_date.take());
                }
            }
            Ok(())
        }
        "purchasable_offer" => {
            for entry in value.as_array().into_iter().flatten() {
                let price = amount(entry, "our_price")?.ok_or_else(|| {
                    issue(
                        "INVALID_VALUE",
                        "purchasable_offer needs our_price[0].schedule[0].value_with_tax",
                    )
                })?;
                let Some(mp) = entry.get("marketplace_id").and_then(Value::as_str) else {
                    // Without a marketplace: the listing's price everywhere.
                    l.price_cents = price;
                    continue;
                };
                // The product type's schema allows each marketplace its own currency only.
                let want = crate::marketplace(mp).1;
                let currency = entry
                    .get("currency")
                    .and_then(Value::as_str)
                    .unwrap_or(want);
                if currency != want {
                    return Err(issue(
                        "INVALID_VALUE",
                        &format!("currency {currency} is not accepted in marketplace {mp} (its currency is {want})"),
                    ));
                }
                let sale = match amount(entry, "discounted_price")? {
                    None => None,
                    Some(cents) => {
                        let at = |k: &str| {
                            entry
                                .pointer(&format!("/discounted_price/0/schedule/0/{k}"))
                                .and_then(Value::as_str)
                                .map(str::to_string)
                        };
                        Some((cents, at("start_at"), at("end_at")))
                    }
                };
                let offer = crate::stock::Offer {
                    currency: currency.to_string(),
                    price_cents: price,
                    sale,
                    minimum_cents: amount(entry, "minimum_seller_allowed_price")?,
                    maximum_cents: amount(entry, "maximum_seller_allowed_price")?,
                };
                match mode {
                    Mode::Replace => {
                        l.offers.insert(mp.to_string(), offer);
                    }
                    Mode::Merge => {
                        let o = l.offers.entry(mp.to_string()).or_default();
                        let given = |k: &str| entry.get(k).is_some();
                        o.currency = offer.currency;
                        o.price_cents = offer.price_cents;
                        if given("discounted_price") {
                            o.sale = offer.sale;
                        }
                        if given("minimum_seller_allowed_price") {
                            o.minimum_cents = offer.minimum_cents;
                        }
                        if given("maximum_seller_allowed_price") {
                            o.maximum_cents = offer.maximum_cents;
                        }
                    }
                }
            }
            Ok(())
        }
        "item_name" => {
            if let Some(t) = value.pointer("/0/value").and_then(Value::as_str) {
                l.title = t.to_string();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn issue(code: &str, message: &str) -> Issue {
    (code.to_string(), message.to_string())
}

/// Amazon validates a submission against the product type the listing has, or `PRODUCT` for
/// one that changes only offer attributes (`offer_only`).
pub fn check_product_type(l: &Listing, product_type: &str, offer_only: bool) -> Result<(), Issue> {
    if product_type == l.product_type || (offer_only && product_type == "PRODUCT") {
        Ok(())
    } else {
        Err(issue(
            "PRODUCT_TYPE_MISMATCH",
            &format!(
                "productType {product_type} does not match the listing's product type {}",
                l.product_type
            ),
        ))
    }
}

/// Applies patches to a listing (all or nothing).
pub fn apply_patches(l: &Listing, patches: &[Patch]) -> Result<Listing, Issue> {
    let mut next = l.clone();
    for p in patches {
        let name = patched_attribute(&p.path).ok_or_else(|| {
            issue(
                "INVALID_PATH",
                "Only top-level attributes (/attributes/<name>) can be patched",
            )
        })?;
        let mode = match p.op.as_str() {
            "add" | "replace" => Mode::Replace,
            "merge" => Mode::Merge,
            "delete" => continue,
            other => return Err(issue("INVALID_OP", &format!("Unknown patch op {other}"))),
        };
        let v = p
            .value
            .as_ref()
            .filter(|v| v.is_array())
            .ok_or_else(|| issue("INVALID_VALUE", "value must be an array"))?;
        apply_attribute(&mut next, name, v, mode)?;
    }
    Ok(next)
}

fn submission(ctx: &mut Ctx<'_>, sku: &str, result: Result<(), Issue>, preview: bool) -> Reply {
    let id = ctx.world.random_hex(32);
    match result {
        Ok(()) => Reply::json(
            200,
            json!({"sku": sku, "status": if preview { "VALID" } else { "ACCEPTED" }, "submissionId": id, "issues": []}),
        ),
        Err((code, message)) => Reply::json(
            200,
            json!({"sku": sku, "status": "INVALID", "submissionId": id,
            "issues": [{"code": code, "message": message, "severity": "ERROR", "categories": ["INVALID_ATTRIBUTE"]}]}),
        ),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PatchRequest {
    product_type: String,
    patches: Vec<Patch>,
}

/// `PATCH /listings/2021-08-01/items/{sellerId}/{sku}`.
pub fn patch(ctx: &mut Ctx<'_>) -> Reply {
    if let Err(r) = marketplace_or_400(ctx) {
        return r;
    }
    let req: PatchRequest = match ctx.json(Reply::bad_request) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if req.product_type.is_empty() || req.patches.is_empty() {
        return Reply::bad_request("productType and patches are required");
    }
    let preview = ctx.q("mode") == Some("VALIDATION_PREVIEW");
    let key = (ctx.seller.clone(), ctx.params[1].clone());
    let sku = ctx.params[1].clone();
    let now = ctx.now;
    let result = match ctx.world.listings.get(&key) {
        None => Err(issue(
            "NOT_FOUND",
            &format!("SKU '{sku}' has no listing to patch"),
        )),
        Some(l) => check_product_type(
            l,
            &req.product_type,
            offer_only(
                req.patches
                    .iter()
                    .filter_map(|p| patched_attribute(&p.path)),
            ),
        )
        .and_then(|_| apply_patches(l, &req.patches)),
    };
    if let (Ok(next), false) = (&result, preview) {
        let settings = ctx.world.settings;
        let (lo, hi) = (
            settings.listing_apply_min_seconds,
            settings.listing_apply_max_seconds,
        );
        if ctx.fault == Some(crate::faults::FaultKind::PatchUnapplied) {
            ctx.world.landing.lose(key);
        } else if hi <= 0.0 {
            ctx.world.landing.applied(&key);
            let mut next = next.clone();
            next.last_updated = now;
            ctx.world
                .listings
                .save(&key.0, next, Cause::Patch { accepted: now });
        } else {
            let wait = if hi > lo {
                ctx.world.rng.gen_range(lo..hi)
            } else {
                hi
            };
            ctx.world.landing.push(PendingPatch {
                due: Instant::now() + Duration::from_secs_f64(wait / ctx.shared.rate_scale),
                key,
                patches: req.patches,
                accepted: now,
            });
        }
    }
    submission(ctx, &sku, result.map(|_| ()), preview)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutRequest {
    product_type: String,
    attributes: serde_json::Map<String, Value>,
}

/// Applies the accepted patches whose time has come to the listings as they are then (a
/// quantity overwrites what orders took meanwhile); one that no longer applies (the listing
/// was deleted or changed) never lands, as an accepted change on Amazon can end in an issue.
pub fn land(world: &mut World, now: DateTime<Utc>) {
    for p in world.landing.take_due(Instant::now()) {
        let next = match world.listings.get(&p.key) {
            Some(l) => apply_patches(l, &p.patches),
            None => continue,
        };
        if let Ok(mut next) = next {
            next.last_updated = now;
            world.listings.save(
                &p.key.0,
                next,
                Cause::Patch {
                    accepted: p.accepted,
                },
            );
        }
    }
}

/// `PUT /listings/2021-08-01/items/{sellerId}/{sku}`: creates or replaces a listing.
pub fn put(ctx: &mut Ctx<'_>) -> Reply {
    if let Err(r) = marketplace_or_400(ctx) {
        return r;
    }
    let req: PutRequest = match ctx.json(Reply::bad_request) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let key = (ctx.seller.clone(), ctx.params[1].clone());
    let sku = ctx.params[1].clone();
    let mut l = ctx
        .world
        .listings
        .get(&key)
        .cloned()
        .unwrap_or_else(|| Listing {
            sku: sku.clone(),
            asin: String::new(),
            title: sku.clone(),
            product_type: req.product_type.clone(),
            price_cents: 0,
            currency: "USD".into(),
            quantity: 0,
            fba: false,
            created: ctx.now,
            last_updated: ctx.now,
            quantity_updates: 0,
            handling_days: None,
            restock_date: None,
            marketplace_ids: Vec::new(),
            fba_stock: Default::default(),
            converted_from_fba: false,
            offers: Default::default(),
        });
    l.product_type = req.product_type;
    let result = req
        .attributes
        .iter()
        .try_for_each(|(name, value)| apply_attribute(&mut l, name, value, Mode::Replace));
    if result.is_ok() {
        l.last_updated = ctx.now;
        ctx.world.listings.save(&key.0, l, Cause::Put);
    }
    submission(ctx, &sku, result, false)
}

/// `DELETE /listings/2021-08-01/items/{sellerId}/{sku}`.
pub fn delete(ctx: &mut Ctx<'_>) -> Reply {
    if let Err(r) = marketplace_or_400(ctx) {
        return r;
    }
    let sku = ctx.params[1].clone();
    let result = match ctx
        .world
        .listings
        .remove(&(ctx.seller.clone(), sku.clone()))
    {
        Some(_) => Ok(()),
        None => Err(issue("NOT_FOUND", &format!("SKU '{sku}' has no listing"))),
    };
    submission(ctx, &sku, result, false)
}

/// `GET /listings/2021-08-01/items/{sellerId}`.
pub fn search(ctx: &mut Ctx<'_>) -> Reply {
    if let Err(r) = marketplace_or_400(ctx) {
        return r;
    }
    // Listings offered in any of the marketplaces asked for, each shown for the first of them
    // it is offered in.
    let requested = ctx.q_list("marketplaceIds");
    let page_size = match ctx.q("pageSize").map(str::parse::<usize>) {
        None => 10,
        Some(Ok(n)) if (1..=20).contains(&n) => n,
        _ => return Reply::bad_request("pageSize must be between 1 and 20"),
    };
    let offset = match ctx.q("pageToken").map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return Reply::bad_request("Invalid pageToken"),
    };
    let identifiers = ctx.q_list("identifiers");
    if identifiers.len() > 20 {
        return Reply::bad_request("At most 20 identifiers");
    }
    let by_sku = ctx.q("identifiersType") == Some("SKU");
    let mut found: Vec<&Listing> = ctx
        .world
        .listings
        .of_seller(&ctx.seller)
        .filter(|l| {
            (identifiers.is_empty() || identifiers.contains(if by_sku { &l.sku } else { &l.asin }))
                && l.offered_in(&requested).is_some()
        })
        .collect();
    match ctx.q("sortBy").unwrap_or("lastUpdatedDate") {
        "sku" => found.sort_by(|a, b| a.sku.cmp(&b.sku)),
        "createdDate" => found.sort_by_key(|l| l.created),
        _ => found.sort_by_key(|l| l.last_updated),
    }
    if ctx.q("sortOrder").unwrap_or("DESC") == "DESC" {
        found.reverse();
    }
    let total = found.len().min(1000);
    let included = ctx.q_list("includedData");
    let items: Vec<Value> = found
        .iter()
        .take(total)
        .skip(offset)
        .take(page_size)
        .filter_map(|l| Some(listing_json(l, l.offered_in(&requested)?, &included)))
        .collect();
    let mut v = json!({"numberOfResults": found.len(), "items": items});
    let mut pagination = serde_json::Map::new();
    if offset + page_size < total {
        pagination.insert("nextToken".into(), json!((offset + page_size).to_string()));
    }
    if offset > 0 {
        pagination.insert(
            "previousToken".into(),
            json!(offset.saturating_sub(page_size).to_string()),
        );
    }
    if !pagination.is_empty() {
        v["pagination"] = Value::Object(pagination);
    }
    Reply::json(200, v)
}
