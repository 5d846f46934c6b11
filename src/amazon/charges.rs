//! What an order's lines charge beyond their price (tax, shipping, gift wrap, promotions), read
//! from either Orders API into [`ItemCharges`], so a till can book a balanced sale.
//!
//! v2026-01-01 gives each item's `proceeds` by category (`ITEM`, `TAX` with what each tax is on,
//! `SHIPPING`, `GIFT_WRAP`, `DISCOUNT` as negative amounts) and their sum, `proceedsTotal`. v0
//! gives `ItemTax`, `ShippingPrice`, `ShippingTax`, the promotions and their taxes, and gift
//! wrap only in the restricted `BuyerInfo`. Neither gives prices while an order is pending.

use super::orders::{decimal, format_decimal};
use crate::model::{ItemCharges, OrderItem};
use serde_json::Value;

/// Whether a marketplace's prices include tax: all but the US and Canada, where Amazon adds
/// sales tax to the price.
pub fn tax_included(marketplace_id: &str) -> bool {
    !matches!(marketplace_id, "ATVPDKIKX0DER" | "A2EUQ1WTGCTBG2")
}

/// The sum of signed decimal amounts, written with `digits` or more digits after the point
/// (the most any part has). None when an amount is no decimal or the sum does not fit.
fn sum(parts: &[(i128, Option<&str>)], digits: usize) -> Option<String> {
    let parsed: Vec<(i128, (i128, i128, usize))> = parts
        .iter()
        .filter_map(|(sign, a)| a.map(|a| decimal(a).map(|d| (*sign, d))))
        .collect::<Option<_>>()?;
    let digits = parsed
        .iter()
        .map(|(_, (_, _, d))| *d)
        .fold(digits, usize::max);
    let scale = 10i128.checked_pow(u32::try_from(digits).ok()?)?;
    let mut total: i128 = 0;
    for (sign, (units, _, d)) in parsed {
        let up = 10i128.checked_pow(u32::try_from(digits - d).ok()?)?;
        total = total.checked_add(sign.checked_mul(units.checked_mul(up)?)?)?;
    }
    Some(format_decimal(total, scale, digits))
}

/// Digits after the point of an amount (2 when unknown).
fn digits_of(amount: Option<&str>) -> usize {
    amount.and_then(decimal).map_or(2, |(_, _, d)| d)
}

fn amount(v: &Value) -> Option<&str> {
    v["amount"].as_str()
}

/// One category of a v2026 item's proceeds, or one part of it (`detailedBreakdowns`).
fn proceeds<'a>(breakdowns: &'a Value, kind: &str, subtype: Option<&str>) -> Option<&'a str> {
    let b = breakdowns.as_array()?.iter().find(|b| b["type"] == kind)?;
    match subtype {
        None => amount(&b["subtotal"]),
        Some(sub) => b["detailedBreakdowns"]
            .as_array()?
            .iter()
            .find(|d| d["subtype"] == sub)
            .and_then(|d| amount(&d["value"])),
    }
}

/// The charges of a v2026-01-01 item with `PROCEEDS` (and `PROMOTION`, `FULFILLMENT`); None
/// while it has no proceeds (pending).
pub fn v2026(i: &Value) -> Option<ItemCharges> {
    let p = &i["proceeds"];
    let charged = amount(&p["proceedsTotal"])?;
    let b = &p["breakdowns"];
    let d = digits_of(Some(charged));
    let one = |sign: i128, a: Option<&str>| sum(&[(sign, a)], d);
    // A tax without parts is all on the items.
    let tax_parts = b.as_array().and_then(|all| {
        all.iter()
            .find(|x| x["type"] == "TAX")
            .map(|t| t["detailedBreakdowns"].is_array())
    });
    let item_tax = if tax_parts == Some(false) {
        proceeds(b, "TAX", None)
    } else {
        proceeds(b, "TAX", Some("ITEM"))
    };
    let gift = &i["fulfillment"]["packing"]["giftOption"];
    Some(ItemCharges {
        item_tax: one(1, item_tax)?,
        shipping_price: one(1, proceeds(b, "SHIPPING", None))?,
        shipping_tax: one(1, proceeds(b, "TAX", Some("SHIPPING")))?,
        gift_wrap_price: one(1, proceeds(b, "GIFT_WRAP", None))?,
        gift_wrap_tax: one(1, proceeds(b, "TAX", Some("GIFT_WRAP")))?,
        discount: one(-1, proceeds(b, "DISCOUNT", None))?,
        discount_tax: one(-1, proceeds(b, "TAX", Some("DISCOUNT")))?,
        charged: one(1, Some(charged))?,
        promotion_ids: i["promotion"]["breakdowns"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|x| x["promotionId"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        is_gift: gift.is_object(),
        gift_wrap_level: gift["giftWrapLevel"].as_str().map(str::to_string),
        gift_message: gift["giftMessage"].as_str().map(str::to_string),
    })
}

/// The charges of a v0 `OrderItem` whose items cost `line_total`; None without a price
/// (pending).
pub fn v0(i: &Value, line_total: Option<&str>, tax_included: bool) -> Option<ItemCharges> {
    let line = line_total?;
    let d = digits_of(Some(line));
    let m = |k: &str| i[k]["Amount"].as_str();
    let b = &i["BuyerInfo"];
    let wrap = b["GiftWrapPrice"]["Amount"].as_str();
    let wrap_tax = b["GiftWrapTax"]["Amount"].as_str();
    let taxes = if tax_included { 0 } else { 1 };
    Some(ItemCharges {
        item_tax: sum(&[(1, m("ItemTax"))], d)?,
        shipping_price: sum(&[(1, m("ShippingPrice"))], d)?,
        shipping_tax: sum(&[(1, m("ShippingTax"))], d)?,
        gift_wrap_price: sum(&[(1, wrap)], d)?,
        gift_wrap_tax: sum(&[(1, wrap_tax)], d)?,
        discount: sum(
            &[(1, m("PromotionDiscount")), (1, m("ShippingDiscount"))],
            d,
        )?,
        discount_tax: sum(
            &[
                (1, m("PromotionDiscountTax")),
                (1, m("ShippingDiscountTax")),
            ],
            d,
        )?,
        charged: sum(
            &[
                (1, Some(line)),
                (1, m("ShippingPrice")),
                (1, wrap),
                (-1, m("PromotionDiscount")),
                (-1, m("ShippingDiscount")),
                (taxes, m("ItemTax")),
                (taxes, m("ShippingTax")),
                (taxes, wrap_tax),
                (-taxes, m("PromotionDiscountTax")),
                (-taxes, m("ShippingDiscountTax")),
            ],
            d,
        )?,
        promotion_ids: i["PromotionIds"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        is_gift: i["IsGift"] == "true",
        gift_wrap_level: b["GiftWrapLevel"].as_str().map(str::to_string),
        gift_message: b["GiftMessageText"].as_str().map(str::to_string),
    })
}

/// `total` less what every line charges; None unless every line is priced.
pub fn other_charges(total: Option<&str>, items: &[OrderItem]) -> Option<String> {
    let total = total?;
    let mut parts = vec![(1, Some(total))];
    for i in items {
        parts.push((-1, Some(i.charges.as_ref()?.charged.as_str())));
    }
    sum(&parts, digits_of(Some(total)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sums_align_the_digits_and_keep_the_sign() {
        assert_eq!(
            sum(&[(1, Some("4.99")), (-1, Some("5"))], 2).as_deref(),
            Some("-0.01")
        );
        assert_eq!(
            sum(&[(1, Some("5980")), (1, None)], 0).as_deref(),
            Some("5980")
        );
        assert_eq!(sum(&[], 2).as_deref(), Some("0.00"));
        assert_eq!(sum(&[(1, Some("x"))], 2), None);
    }

    #[test]
    fn a_v0_line_charges_its_shipping_less_promotions_and_us_tax_on_top() {
        let m = |a: &str| json!({"CurrencyCode": "USD", "Amount": a});
        let item = json!({"ItemPrice": m("20.00"), "ItemTax": m("1.65"), "ShippingPrice": m("5.98"),
            "ShippingTax": m("0.49"), "PromotionDiscount": m("2.00"), "PromotionDiscountTax": m("0.17"),
            "ShippingDiscount": m("0.00"), "ShippingDiscountTax": m("0.00"), "PromotionIds": ["TENOFF"],
            "IsGift": "false"});
        let c = v0(&item, Some("20.00"), false).unwrap();
        assert_eq!(c.charged, "25.95"); // 20.00 + 5.98 − 2.00 + 1.65 + 0.49 − 0.17
        assert_eq!(
            (c.discount.as_str(), c.discount_tax.as_str()),
            ("2.00", "0.17")
        );
        // Where prices include VAT, the taxes are in them: not added again.
        assert_eq!(v0(&item, Some("20.00"), true).unwrap().charged, "23.98");
        assert_eq!(v0(&item, None, false), None, "pending: no prices");
    }
}
