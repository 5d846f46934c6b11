//! Orders API v2026-01-01 (`searchOrders`, `getOrder`) and v0 (`getOrders`, `getOrder`,
//! `getOrderItems`, `getOrderAddress`, `confirmShipment`, `updateShipmentStatus`).

use super::auth::rdt_grants;
use super::{iso, Ctx};
use crate::faults::FaultKind;
use crate::reply::Reply;
use crate::world::{Order, OrderItem, Status};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

/// Money as Amazon writes it: a decimal string.
pub fn money(cents: i64, currency: &str) -> String {
    let _ = currency;
    format!(
        "{}{}.{:02}",
        if cents < 0 { "-" } else { "" },
        cents.abs() / 100,
        cents.abs() % 100
    )
}

/// Money in the v2026-01-01 shape.
fn money_v2026(cents: i64, currency: &str) -> Value {
    json!({"amount": money(cents, currency), "currencyCode": currency})
}

/// One category or part of a line's proceeds: its name and amount in minor units.
type Part = (&'static str, i64);

/// What the buyer pays for a line, by category (v2026-01-01 `proceeds.breakdowns`): the items,
/// the taxes by what they are on (a discount's negative), shipping, gift wrap, and the
/// discounts as negative amounts.
fn breakdowns(it: &OrderItem) -> Vec<(&'static str, i64, Vec<Part>)> {
    let c = &it.charges;
    let nonzero =
        |parts: Vec<Part>| -> Vec<Part> { parts.into_iter().filter(|(_, v)| *v != 0).collect() };
    let mut out = vec![
        ("ITEM", it.items_cents(), vec![]),
        (
            "TAX",
            c.taxes(),
            nonzero(vec![
                ("ITEM", c.item_tax),
                ("SHIPPING", c.shipping_tax),
                ("GIFT_WRAP", c.gift_wrap_tax),
                (
                    "DISCOUNT",
                    -(c.promotion_discount_tax + c.shipping_discount_tax),
                ),
            ]),
        ),
    ];
    if c.shipping != 0 {
        out.push(("SHIPPING", c.shipping, vec![]));
    }
    if c.gift_wrap != 0 {
        out.push(("GIFT_WRAP", c.gift_wrap, vec![]));
    }
    let discount = c.promotion_discount + c.shipping_discount;
    if discount != 0 {
        out.push((
            "DISCOUNT",
            -discount,
            nonzero(vec![
                ("ITEM", -c.promotion_discount),
                ("SHIPPING", -c.shipping_discount),
            ]),
        ));
    }
    out
}

fn item_proceeds(o: &Order, it: &OrderItem) -> Value {
    let m = |cents| money_v2026(cents, &o.currency);
    let parts: Vec<Value> = breakdowns(it)
        .into_iter()
        .map(|(kind, subtotal, detail)| {
            let mut b = json!({"type": kind, "subtotal": m(subtotal)});
            if !detail.is_empty() {
                b["detailedBreakdowns"] = detail
                    .into_iter()
                    .map(|(sub, v)| json!({"subtype": sub, "value": m(v)}))
                    .collect();
            }
            b
        })
        .collect();
    json!({
        "proceedsTotal": m(it.charges.charged(it.items_cents(), o.tax_included())),
        "breakdowns": parts,
    })
}

/// The order's proceeds: its total and each category summed over the lines.
fn order_proceeds(o: &Order) -> Value {
    let mut sums: Vec<(&'static str, i64)> = Vec::new();
    for it in &o.items {
        for (kind, subtotal, _) in breakdowns(it) {
            match sums.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, s)) => *s += subtotal,
                None => sums.push((kind, subtotal)),
            }
        }
    }
    json!({
        "grandTotal": money_v2026(o.total_cents(), &o.currency),
        "breakdowns": sums.into_iter()
            .map(|(kind, s)| json!({"type": kind, "subtotal": money_v2026(s, &o.currency)}))
            .collect::<Vec<_>>(),
    })
}

/// The order's programs, as Amazon names them.
fn programs(o: &Order) -> Vec<&'static str> {
    let p = o.programs;
    [
        (p.business, "AMAZON_BUSINESS"),
        (p.prime, "PRIME"),
        (p.premium, "PREMIUM"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect()
}

/// One order in the v2026-01-01 shape, with the sections named in `included`. A pending order
/// has no prices (no unit price, no proceeds, no promotions, no gift options).
pub fn order_v2026(o: &Order, included: &[String]) -> Value {
    let has = |s: &str| included.iter().any(|i| i == s);
    let (_, _, domain) = crate::marketplace(&o.marketplace_id);
    let priced = o.status != Status::Pending;
    let items: Vec<Value> = o
        .items
        .iter()
        .map(|it| {
            let mut item = json!({
                "orderItemId": it.order_item_id,
                "quantityOrdered": it.quantity,
                "product": {
                    "asin": it.asin, "title": it.title, "sellerSku": it.sku,
                    "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
                }
            });
            if priced {
                item["product"]["price"] =
                    json!({"unitPrice": money_v2026(it.unit_price_cents, &o.currency)});
            }
            if has("PROCEEDS") && priced {
                item["proceeds"] = item_proceeds(o, it);
            }
            if has("PROMOTION") && priced && !it.charges.promotion_ids.is_empty() {
                item["promotion"] = json!({"breakdowns": it.charges.promotion_ids.iter()
                    .map(|id| json!({"promotionId": id})).collect::<Vec<_>>()});
            }
            if has("CANCELLATION") {
                if let Some(reason) = &it.buyer_cancel_reason {
                    item["cancellation"] = json!({"cancellationRequest": {"requester": "BUYER", "cancelReason": reason}});
                }
            }
            if has("FULFILLMENT") {
                item["fulfillment"] = json!({"quantityFulfilled": it.quantity_shipped,
                                             "quantityUnfulfilled": it.quantity - it.quantity_shipped - it.quantity_cancelled});
                if priced && it.charges.is_gift() {
                    item["fulfillment"]["packing"] = json!({"giftOption": {
                        "giftMessage": it.charges.gift_message,
                        "giftWrapLevel": it.charges.gift_wrap_level}});
                }
            }
            item
        })
        .collect();
    let mut v = json!({
        "orderId": o.order_id,
        "createdTime": iso(o.created),
        "lastUpdatedTime": iso(o.last_updated),
        "programs": programs(o),
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": o.marketplace_id, "marketplaceName": domain},
        "orderItems": items,
    });
    if let Some(original) = &o.replaced_order_id {
        v["associatedOrders"] =
            json!([{"orderId": original, "associationType": "REPLACEMENT_ORIGINAL_ID"}]);
    }
    let shippable = !matches!(o.status, Status::Pending | Status::Canceled);
    if has("BUYER") && shippable {
        v["buyer"] = json!({"buyerName": o.buyer_name, "buyerEmail": o.buyer_email});
    }
    if has("RECIPIENT") && shippable && !o.fulfilled_by_amazon {
        v["recipient"] = json!({"deliveryAddress": {
            "name": o.address.name, "addressLine1": o.address.line1, "city": o.address.city,
            "postalCode": o.address.postal_code, "countryCode": o.address.country_code,
            "phone": o.address.phone, "addressType": "RESIDENTIAL"}});
    }
    if has("PROCEEDS") && priced {
        v["proceeds"] = order_proceeds(o);
    }
    if has("FULFILLMENT") {
        v["fulfillment"] = json!({
            "fulfillmentStatus": o.status.v2026(),
            "fulfilledBy": if o.fulfilled_by_amazon { "AMAZON" } else { "MERCHANT" },
            "fulfillmentServiceLevel": "STANDARD",
            "shipByWindow": {"earliestDateTime": iso(o.earliest_ship), "latestDateTime": iso(o.latest_ship)}
        });
    }
    v
}

/// One order in the v0 shape; restricted fields only when `pii` is granted.
pub fn order_v0(o: &Order, address: bool, buyer: bool) -> Value {
    let (_, _, domain) = crate::marketplace(&o.marketplace_id);
    let unshipped: i64 = o
        .items
        .iter()
        .map(|i| i.quantity - i.quantity_shipped)
        .sum();
    let shipped: i64 = o.items.iter().map(|i| i.quantity_shipped).sum();
    let mut v = json!({
        "AmazonOrderId": o.order_id,
        "PurchaseDate": iso(o.created),
        "LastUpdateDate": iso(o.last_updated),
        "OrderStatus": o.status.v0(),
        "FulfillmentChannel": if o.fulfilled_by_amazon { "AFN" } else { "MFN" },
        "SalesChannel": domain,
        "ShipServiceLevel": "Std US D2D Dom",
        "NumberOfItemsShipped": shipped,
        "NumberOfItemsUnshipped": unshipped,
        "PaymentMethod": "Other",
        "MarketplaceId": o.marketplace_id,
        "ShipmentServiceLevelCategory": "Standard",
        "OrderType": "StandardOrder",
        "EarliestShipDate": iso(o.earliest_ship),
        "LatestShipDate": iso(o.latest_ship),
        "IsBusinessOrder": o.programs.business,
        "IsPrime": o.programs.prime,
        "IsPremiumOrder": o.programs.premium,
        "IsGlobalExpressEnabled": false,
        "IsReplacementOrder": o.replaced_order_id.is_some(),
        "IsSoldByAB": false,
        "IsISPU": false,
        "IsAccessPointOrder": false,
        "HasRegulatedItems": false,
    });
    if let Some(original) = &o.replaced_order_id {
        v["ReplacedOrderId"] = json!(original);
    }
    if o.status != Status::Pending {
        v["OrderTotal"] =
            json!({"CurrencyCode": o.currency, "Amount": money(o.total_cents(), &o.currency)});
    }
    let shippable = matches!(
        o.status,
        Status::Unshipped | Status::PartiallyShipped | Status::Shipped
    );
    if address && shippable && !o.fulfilled_by_amazon {
        v["ShippingAddress"] = address_v0(o);
    }
    if buyer && shippable {
        v["BuyerInfo"] = json!({"BuyerEmail": o.buyer_email, "BuyerName": o.buyer_name});
    }
    v
}

fn address_v0(o: &Order) -> Value {
    json!({"Name": o.address.name, "AddressLine1": o.address.line1, "City": o.address.city,
           "PostalCode": o.address.postal_code, "CountryCode": o.address.country_code,
           "Phone": o.address.phone, "AddressType": "Residential"})
}

/// A search over the order indexes, shared by both API versions. It sees each order as the
/// searches do, after its search lag ([`crate::search`]); `getOrder` and `getOrderItems` see
/// the order as it is.
#[derive(Debug, Deserialize, serde::Serialize, PartialEq)]
struct Search {
    by_update: bool,
    after: DateTime<Utc>,
    before: DateTime<Utc>,
    statuses: Vec<String>,
    marketplaces: Vec<String>,
    /// Some(true) = AMAZON only, Some(false) = MERCHANT only.
    fba: Option<bool>,
    /// Position after which the next page starts.
    cursor: Option<(DateTime<Utc>, String)>,
    /// When the token carrying this search was issued.
    #[serde(default)]
    issued: Option<DateTime<Utc>>,
}

impl Search {
    /// The next page, as an injected page fault distorts it.
    fn page(&self, ctx: &Ctx<'_>, max: usize) -> (Vec<Order>, Option<(DateTime<Utc>, String)>) {
        let (mut orders, next) = self.scan(ctx, max);
        match ctx.fault {
            Some(FaultKind::StalePage) => {
                for o in &mut orders {
                    if let Some(old) = ctx.world.previous.get(&o.order_id) {
                        *o = old.clone();
                    }
                }
            }
            Some(FaultKind::OutOfOrder) => {
                orders.sort_by_key(|o| std::cmp::Reverse(o.last_updated));
            }
            _ => {}
        }
        (orders, next)
    }

    fn scan(&self, ctx: &Ctx<'_>, max: usize) -> (Vec<Order>, Option<(DateTime<Utc>, String)>) {
        let index = if self.by_update {
            ctx.world.search.by_update()
        } else {
            ctx.world.search.by_creation()
        };
        let start = match &self.cursor {
            Some(c) => std::ops::Bound::Excluded(c.clone()),
            None => std::ops::Bound::Included((self.after, String::new())),
        };
        let mut out = Vec::new();
        let mut last = None;
        for key in index.range((start, std::ops::Bound::Unbounded)) {
            if key.0 > self.before {
                return (out, None);
            }
            let Some(o) = ctx.world.search.get(&key.1) else {
                continue;
            };
            if o.seller_id != ctx.seller
                || (!self.marketplaces.is_empty() && !self.marketplaces.contains(&o.marketplace_id))
                || (!self.statuses.is_empty()
                    && !self
                        .statuses
                        .iter()
                        .any(|s| Status::parse(s) == Some(o.status)))
                || self.fba.is_some_and(|f| f != o.fulfilled_by_amazon)
            {
                continue;
            }
            if out.len() == max {
                return (out, last);
            }
            last = Some(key.clone());
            out.push(o.clone());
        }
        (out, None)
    }

    /// The token of the page after `cursor`, issued at `now`.
    fn token(&self, cursor: (DateTime<Utc>, String), now: DateTime<Utc>) -> String {
        let s = Search {
            cursor: Some(cursor),
            issued: Some(now),
            ..self.clone_filters()
        };
        token::encode(&serde_json::to_vec(&s).unwrap_or_default())
    }

    fn clone_filters(&self) -> Search {
        Search {
            by_update: self.by_update,
            after: self.after,
            before: self.before,
            statuses: self.statuses.clone(),
            marketplaces: self.marketplaces.clone(),
            fba: self.fba,
            cursor: None,
            issued: None,
        }
    }

    fn from_token(t: &str) -> Option<Search> {
        serde_json::from_slice(&token::decode(t)?).ok()
    }

    /// Whether a token of this search, read at `now`, is past its lifetime.
    fn expired(&self, now: DateTime<Utc>) -> bool {
        self.issued
            .is_some_and(|t| now - t > Duration::hours(TOKEN_HOURS_2026))
    }
}

/// How long an Orders v2026-01-01 `paginationToken` may be used: "Token handling with
/// 24-hour expiration" (Orders API migration guide, v0 to v2026-01-01). v0 `NextToken`s are
/// documented without a lifetime and do not expire here.
const TOKEN_HOURS_2026: i64 = 24;

/// Opaque page tokens: standard base64 (alphabet with `+` and `/`, `=` padding) of the
/// search, scrambled, as Amazon's tokens are base64 that often carry `+`, `/` and `=` and
/// must be URL-encoded by the client (selling-partner-api-models #1269). Every token starts
/// with `+/` and ends with `==`, so a client that does not encode its query fails on its
/// first next page: a raw `+` in a query is a space to a server ([`crate::route`]).
mod token {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    /// Two leading bytes that encode as `+/`.
    const HEAD: [u8; 2] = [0xfb, 0xff];

    /// A reversible scramble (xor with a fixed keystream), so the token looks random.
    fn scramble(data: &mut [u8]) {
        let mut x: u32 = 0x9e37_79b9;
        for b in data {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b ^= x as u8;
        }
    }

    pub fn encode(json: &[u8]) -> String {
        let mut data = HEAD.to_vec();
        data.extend_from_slice(json);
        // JSON may end in spaces: pad to one byte past a multiple of three, for `==`.
        while data.len() % 3 != 1 {
            data.push(b' ');
        }
        scramble(&mut data[HEAD.len()..]);
        STANDARD.encode(data)
    }

    pub fn decode(token: &str) -> Option<Vec<u8>> {
        let mut data = STANDARD.decode(token).ok()?;
        if !data.starts_with(&HEAD) {
            return None;
        }
        scramble(&mut data[HEAD.len()..]);
        Some(data.split_off(HEAD.len()))
    }
}

/// Reads the date window common to both versions. `names` = (createdAfter, createdBefore,
/// lastUpdatedAfter, lastUpdatedBefore) in the version's spelling.
fn window(ctx: &Ctx<'_>, names: [&str; 4]) -> Result<(bool, DateTime<Utc>, DateTime<Utc>), String> {
    let created_after = ctx.q_time(names[0])?;
    let created_before = ctx.q_time(names[1])?;
    let updated_after = ctx.q_time(names[2])?;
    let updated_before = ctx.q_time(names[3])?;
    let latest = ctx.now - Duration::minutes(2);
    let (by_update, after, before) = match (created_after, updated_after) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "{} and {} cannot both be specified",
                names[0], names[2]
            ))
        }
        (None, None) => {
            return Err(format!(
                "Exactly one of {} or {} is required",
                names[0], names[2]
            ))
        }
        (Some(a), None) => {
            if updated_before.is_some() {
                return Err(format!("{} cannot be combined with {}", names[3], names[0]));
            }
            (false, a, created_before)
        }
        (None, Some(a)) => {
            if created_before.is_some() {
                return Err(format!("{} cannot be combined with {}", names[1], names[2]));
            }
            (true, a, updated_before)
        }
    };
    let before = before.unwrap_or(latest);
    if before > latest {
        return Err(format!(
            "{} must be at least two minutes before the current time",
            if by_update { names[3] } else { names[1] }
        ));
    }
    if before < after {
        return Err("The before date must not be earlier than the after date".into());
    }
    Ok((by_update, after, before))
}

fn max_results(ctx: &Ctx<'_>, name: &str) -> Result<usize, String> {
    match ctx.q(name) {
        None => Ok(100),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => Ok(n),
            _ => Err(format!("{name} must be between 1 and 100")),
        },
    }
}

/// `GET /orders/2026-01-01/orders`.
pub fn search_orders(ctx: &mut Ctx<'_>) -> Reply {
    let max = match max_results(ctx, "maxResultsPerPage") {
        Ok(m) => m,
        Err(e) => return Reply::invalid_input(&e),
    };
    let (by_update, after, before) = match window(
        ctx,
        [
            "createdAfter",
            "createdBefore",
            "lastUpdatedAfter",
            "lastUpdatedBefore",
        ],
    ) {
        Ok(w) => w,
        Err(e) => return Reply::invalid_input(&e),
    };
    let fulfilled_by = ctx.q_list("fulfilledBy");
    let fba = match (
        fulfilled_by.iter().any(|f| f == "AMAZON"),
        fulfilled_by.iter().any(|f| f == "MERCHANT"),
    ) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    };
    let statuses = ctx.q_list("fulfillmentStatuses");
    if let Some(bad) = statuses.iter().find(|s| {
        Status::parse(s).is_none()
            && !matches!(s.as_str(), "PENDING_AVAILABILITY" | "UNFULFILLABLE")
    }) {
        return Reply::invalid_input(&format!("Invalid fulfillmentStatuses value {bad}"));
    }
    let mut search = Search {
        by_update,
        after,
        before,
        statuses,
        marketplaces: ctx.q_list("marketplaceIds"),
        fba,
        cursor: None,
        issued: None,
    };
    if let Some(t) = ctx.q("paginationToken") {
        // A bound the caller left out defaulted to "now - 2 minutes" on the first page; the
        // token keeps that first bound.
        let before_name = if by_update {
            "lastUpdatedBefore"
        } else {
            "createdBefore"
        };
        let explicit_before = ctx.q(before_name).is_some();
        match Search::from_token(t) {
            Some(s)
                if s.clone_filters()
                    == Search {
                        before: if explicit_before {
                            search.before
                        } else {
                            s.before
                        },
                        ..search.clone_filters()
                    } =>
            {
                search = s
            }
            _ => {
                return Reply::invalid_input(
                    "Invalid paginationToken, or the other parameters changed",
                )
            }
        }
        if search.expired(ctx.now) {
            return Reply::invalid_input(
                "The paginationToken has expired: a token can be used for 24 hours",
            );
        }
    }
    let included = ctx.q_list("includedData");
    let (orders, next) = search.page(ctx, max);
    let mut v = json!({
        "orders": orders.iter().map(|o| order_v2026(o, &included)).collect::<Vec<_>>(),
    });
    v[if by_update {
        "lastUpdatedBefore"
    } else {
        "createdBefore"
    }] = json!(iso(before));
    if let Some(c) = next {
        v["pagination"] = json!({"nextToken": search.token(c, ctx.now)});
    }
    Reply::json(200, v)
}

fn find_order<'w>(ctx: &'w Ctx<'_>) -> Result<&'w Order, Reply> {
    let id = &ctx.params[0];
    ctx.world
        .orders
        .get(id)
        .filter(|o| o.seller_id == ctx.seller)
        .ok_or_else(|| Reply::not_found(&format!("Order {id} not found")))
}

/// `GET /orders/2026-01-01/orders/{orderId}`; with a stale-page fault, the order as it was
/// before its last update (a lagging replica).
pub fn get_order_2026(ctx: &mut Ctx<'_>) -> Reply {
    let included = ctx.q_list("includedData");
    match find_order(ctx) {
        Ok(o) => {
            let o = match (&ctx.fault, ctx.world.previous.get(&o.order_id)) {
                (Some(FaultKind::StalePage), Some(old)) => old,
                _ => o,
            };
            Reply::json(200, json!({"order": order_v2026(o, &included)}))
        }
        Err(r) => r,
    }
}

/// `GET /orders/v0/orders`.
pub fn get_orders(ctx: &mut Ctx<'_>) -> Reply {
    let grants = rdt_grants(ctx, "/orders/v0/orders").unwrap_or_default();
    let (address, buyer) = (
        ctx.world.get_orders_addresses && grants.iter().any(|g| g == "shippingAddress"),
        grants.iter().any(|g| g == "buyerInfo"),
    );
    let marketplaces = ctx.q_list("MarketplaceIds");
    if marketplaces.is_empty() {
        return Reply::invalid_input("MarketplaceIds is required");
    }
    let max = match max_results(ctx, "MaxResultsPerPage") {
        Ok(m) => m,
        Err(e) => return Reply::invalid_input(&e),
    };
    let search = if let Some(t) = ctx.q("NextToken") {
        match Search::from_token(t) {
            Some(s) => s,
            None => return Reply::invalid_input("Invalid NextToken"),
        }
    } else {
        let (by_update, after, before) = match window(
            ctx,
            [
                "CreatedAfter",
                "CreatedBefore",
                "LastUpdatedAfter",
                "LastUpdatedBefore",
            ],
        ) {
            Ok(w) => w,
            Err(e) => return Reply::invalid_input(&e),
        };
        let channels = ctx.q_list("FulfillmentChannels");
        let fba = match (
            channels.iter().any(|c| c == "AFN"),
            channels.iter().any(|c| c == "MFN"),
        ) {
            (true, false) => Some(true),
            (false, true) => Some(false),
            _ => None,
        };
        Search {
            by_update,
            after,
            before,
            statuses: ctx.q_list("OrderStatuses"),
            marketplaces,
            fba,
            cursor: None,
            issued: None,
        }
    };
    let (orders, next) = search.page(ctx, max);
    let mut payload = json!({
        "Orders": orders.iter().map(|o| order_v0(o, address, buyer)).collect::<Vec<_>>(),
    });
    payload[if search.by_update {
        "LastUpdatedBefore"
    } else {
        "CreatedBefore"
    }] = json!(iso(search.before));
    if let Some(c) = next {
        payload["NextToken"] = json!(search.token(c, ctx.now));
    }
    Reply::json(200, json!({ "payload": payload }))
}

/// `GET /orders/v0/orders/{orderId}`.
pub fn get_order_v0(ctx: &mut Ctx<'_>) -> Reply {
    let path = format!("/orders/v0/orders/{}", ctx.params[0]);
    let grants = rdt_grants(ctx, &path).unwrap_or_default();
    match find_order(ctx) {
        Ok(o) => Reply::json(
            200,
            json!({"payload": order_v0(o,
            grants.iter().any(|g| g == "shippingAddress"), grants.iter().any(|g| g == "buyerInfo"))}),
        ),
        Err(r) => r,
    }
}

/// `GET /orders/v0/orders/{orderId}/orderItems`: while the order is pending, without prices,
/// taxes, shipping, promotions or gift status; gift wrap and message only in `BuyerInfo`,
/// which needs a Restricted Data Token with `buyerInfo`.
pub fn get_order_items(ctx: &mut Ctx<'_>) -> Reply {
    let path = format!("/orders/v0/orders/{}/orderItems", ctx.params[0]);
    let buyer_info = rdt_grants(ctx, &path)
        .unwrap_or_default()
        .iter()
        .any(|g| g == "buyerInfo");
    let o = match find_order(ctx) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let m = |cents: i64| json!({"CurrencyCode": o.currency, "Amount": money(cents, &o.currency)});
    let items: Vec<Value> = o
        .items
        .iter()
        .map(|it| {
            let mut v = json!({
                "ASIN": it.asin, "SellerSKU": it.sku, "OrderItemId": it.order_item_id,
                "Title": it.title, "QuantityOrdered": it.quantity, "QuantityShipped": it.quantity_shipped,
                "ConditionId": "New", "ConditionSubtypeId": "New",
            });
            if o.status != Status::Pending {
                let c = &it.charges;
                v["ItemPrice"] = m(it.items_cents());
                v["ItemTax"] = m(c.item_tax);
                v["ShippingPrice"] = m(c.shipping);
                v["ShippingTax"] = m(c.shipping_tax);
                v["ShippingDiscount"] = m(c.shipping_discount);
                v["ShippingDiscountTax"] = m(c.shipping_discount_tax);
                v["PromotionDiscount"] = m(c.promotion_discount);
                v["PromotionDiscountTax"] = m(c.promotion_discount_tax);
                v["PromotionIds"] = json!(c.promotion_ids);
                v["IsGift"] = json!(if c.is_gift() { "true" } else { "false" });
                if buyer_info && c.is_gift() {
                    v["BuyerInfo"] = json!({
                        "GiftWrapPrice": m(c.gift_wrap), "GiftWrapTax": m(c.gift_wrap_tax),
                        "GiftMessageText": c.gift_message, "GiftWrapLevel": c.gift_wrap_level});
                }
            }
            if let Some(reason) = &it.buyer_cancel_reason {
                v["BuyerRequestedCancel"] = json!({"IsBuyerRequestedCancel": "true", "BuyerCancelReason": reason});
            }
            v
        })
        .collect();
    Reply::json(
        200,
        json!({"payload": {"AmazonOrderId": o.order_id, "OrderItems": items}}),
    )
}

/// `GET /orders/v0/orders/{orderId}/address` (restricted: needs an RDT).
pub fn get_order_address(ctx: &mut Ctx<'_>) -> Reply {
    if ctx.token.as_ref().is_none_or(|t| t.restricted.is_none()) {
        return Reply::unauthorized("This operation requires a restricted data token.");
    }
    match find_order(ctx) {
        Ok(o) => {
            let mut p = json!({"AmazonOrderId": o.order_id});
            if matches!(
                o.status,
                Status::Unshipped | Status::PartiallyShipped | Status::Shipped
            ) && !o.fulfilled_by_amazon
            {
                p["ShippingAddress"] = address_v0(o);
            }
            Reply::json(200, json!({ "payload": p }))
        }
        Err(r) => r,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfirmShipmentRequest {
    marketplace_id: String,
    package_detail: PackageDetail,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PackageDetail {
    /// Read as any JSON value: Amazon answers a number here with its own invalid-type error.
    package_reference_id: Value,
    carrier_code: String,
    carrier_name: Option<String>,
    tracking_number: String,
    ship_date: String,
    order_items: Vec<ConfirmItem>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfirmItem {
    order_item_id: String,
    quantity: i64,
}

/// `POST /orders/v0/orders/{orderId}/shipmentConfirmation` → 204. The carrier code must be
/// one of Amazon's ([`crate::carriers`]); `packageReferenceId` must be a string of a positive
/// number: a JSON number is refused since 2026-01 (selling-partner-api-models #5094). A
/// tracking number unlike its carrier's is confirmed with a warning, kept with the package.
pub fn confirm_shipment(ctx: &mut Ctx<'_>) -> Reply {
    let req: ConfirmShipmentRequest = match ctx.json(Reply::invalid_input) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let order = match find_order(ctx) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let p = &req.package_detail;
    let Some(pref) = p.package_reference_id.as_str() else {
        return Reply::error(
            400,
            "InvalidInput",
            "The input you have submitted is not valid. Please check the fields with invalid \
             type [packageDetail.packageReferenceId].",
            "",
        );
    };
    let problem = if req.marketplace_id != order.marketplace_id {
        Some("marketplaceId does not match the order".to_string())
    } else if pref.is_empty() || !pref.chars().all(|c| c.is_ascii_digit()) || pref.starts_with('0')
    {
        Some("PackageReferenceId: is invalid, must be a positive numeric value.".into())
    } else if let Some(e) = crate::carriers::refusal(&p.carrier_code, p.carrier_name.as_deref()) {
        Some(e)
    } else if p.tracking_number.is_empty() {
        Some("trackingNumber is required".into())
    } else if super::parse_time(&p.ship_date).is_none() {
        Some(format!(
            "shipDate is not a valid ISO 8601 date-time: {}",
            p.ship_date
        ))
    } else if p.order_items.is_empty() {
        Some("orderItems is required".into())
    } else if ctx.fault == Some(FaultKind::AlreadyFulfilled) {
        Some(crate::world::ALREADY_FULFILLED.into())
    } else {
        None
    };
    if let Some(e) = problem {
        return Reply::invalid_input(&e);
    }
    let order_id = ctx.params[0].clone();
    let items = p
        .order_items
        .iter()
        .map(|i| (i.order_item_id.clone(), i.quantity))
        .collect();
    let (pref, carrier, name, tracking) = (
        pref.to_string(),
        p.carrier_code.clone(),
        p.carrier_name.clone(),
        p.tracking_number.clone(),
    );
    match ctx.world.confirm_package(
        &order_id,
        &pref,
        (&carrier, name.as_deref()),
        &tracking,
        items,
        ctx.now,
    ) {
        Ok(()) => Reply::no_content(),
        Err(e) => Reply::invalid_input(&e),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateShipmentStatusRequest {
    marketplace_id: String,
    shipment_status: String,
}

/// `POST /orders/v0/orders/{orderId}/shipment` → 204 (pickup status updates).
pub fn update_shipment_status(ctx: &mut Ctx<'_>) -> Reply {
    let req: UpdateShipmentStatusRequest = match ctx.json(Reply::invalid_input) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let order = match find_order(ctx) {
        Ok(o) => o,
        Err(r) => return r,
    };
    if req.marketplace_id != order.marketplace_id
        || !matches!(
            req.shipment_status.as_str(),
            "ReadyForPickup" | "PickedUp" | "RefusedPickup"
        )
    {
        return Reply::invalid_input("marketplaceId or shipmentStatus is invalid");
    }
    Reply::no_content()
}
