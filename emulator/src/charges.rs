//! What Amazon charges a buyer for an order beyond its item prices: tax, shipping, gift wrap
//! and promotions, and the order's programs (business, Prime, premium). Drawn from the order's
//! number, so a run repeats.
//!
//! US and Canadian prices exclude sales tax, which Amazon adds and reports (`ItemTax`,
//! `ShippingTax`). Elsewhere prices include VAT and, without Amazon's VAT calculation service,
//! Amazon reports the taxes as 0.00 (selling-partner-api-models #1766, #3004): the emulator
//! does the same.

use serde::{Deserialize, Serialize};

/// The charges of one line in minor units; discounts are positive amounts taken off.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineCharges {
    pub item_tax: i64,
    pub shipping: i64,
    pub shipping_tax: i64,
    pub shipping_discount: i64,
    pub shipping_discount_tax: i64,
    pub promotion_discount: i64,
    pub promotion_discount_tax: i64,
    pub promotion_ids: Vec<String>,
    pub gift_wrap: i64,
    pub gift_wrap_tax: i64,
    pub gift_wrap_level: Option<String>,
    pub gift_message: Option<String>,
}

impl LineCharges {
    /// The line is a gift (wrapped, or with a message).
    pub fn is_gift(&self) -> bool {
        self.gift_wrap_level.is_some() || self.gift_message.is_some()
    }

    /// Every tax of the line, net of the tax on its discounts.
    pub fn taxes(&self) -> i64 {
        self.item_tax + self.shipping_tax + self.gift_wrap_tax
            - self.promotion_discount_tax
            - self.shipping_discount_tax
    }

    /// What the buyer pays for a line whose items cost `items`.
    pub fn charged(&self, items: i64, tax_included: bool) -> i64 {
        let taxes = if tax_included { 0 } else { self.taxes() };
        items + self.shipping + self.gift_wrap - self.promotion_discount - self.shipping_discount
            + taxes
    }
}

/// The order's programs (Amazon Business, Prime, premium shipping).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Programs {
    pub business: bool,
    pub prime: bool,
    pub premium: bool,
}

/// Whether prices in this marketplace include tax (all but the US and Canada).
pub fn tax_included(country: &str) -> bool {
    !matches!(country, "US" | "CA")
}

/// The sales tax rate Amazon adds in a marketplace, in basis points (0 where prices include it).
fn tax_rate_bp(country: &str) -> i64 {
    match country {
        "US" => 825,
        "CA" => 1300,
        _ => 0,
    }
}

fn tax(amount: i64, bp: i64) -> i64 {
    (amount * bp + 5_000).div_euclid(10_000)
}

/// The programs of order number `n`.
pub fn programs(n: u64) -> Programs {
    Programs {
        business: n % 7 == 3,
        prime: n % 3 == 1,
        premium: n % 11 == 5,
    }
}

/// The charges of each line of order number `n` in `country`, for lines of (unit price, quantity).
pub fn for_order(
    n: u64,
    country: &str,
    programs: Programs,
    lines: &[(i64, i64)],
) -> Vec<LineCharges> {
    let bp = tax_rate_bp(country);
    lines
        .iter()
        .enumerate()
        .map(|(i, &(unit, qty))| {
            let first = i == 0;
            let items = unit * qty;
            let mut c = LineCharges::default();
            if !programs.prime {
                c.shipping = if first {
                    499 + 99 * (qty - 1)
                } else {
                    99 * qty
                };
            }
            if programs.premium && first {
                c.shipping += 500;
            }
            // A tenth off the first line, and free shipping for some orders that pay for it.
            if n % 5 == 2 && first {
                c.promotion_discount = items / 10;
                c.promotion_ids.push(format!("TENOFF-{:04}", n % 10_000));
            }
            if n % 4 == 1 && c.shipping > 0 {
                c.shipping_discount = c.shipping;
                c.promotion_ids.push("FREESHIP".into());
            }
            if n % 6 == 2 && first {
                c.gift_wrap = 299;
                c.gift_wrap_level = Some("Classic".into());
                c.gift_message = Some(format!("Happy birthday! From buyer {n}"));
            }
            c.item_tax = tax(items, bp);
            c.shipping_tax = tax(c.shipping, bp);
            c.gift_wrap_tax = tax(c.gift_wrap, bp);
            c.promotion_discount_tax = tax(c.promotion_discount, bp);
            c.shipping_discount_tax = tax(c.shipping_discount, bp);
            c
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_charges_its_price_shipping_and_wrap_less_discounts_and_us_tax_on_top() {
        // Order 32: a tenth off, a gift; not Prime, so shipping is paid.
        let p = programs(32);
        assert!(!p.prime);
        let c = &for_order(32, "US", p, &[(1000, 2)])[0];
        assert_eq!(
            (c.shipping, c.promotion_discount, c.gift_wrap),
            (598, 200, 299)
        );
        assert_eq!(c.item_tax, 165);
        let taxes = 165 + 49 + 25 - 17;
        assert_eq!(c.taxes(), taxes);
        assert_eq!(c.charged(2000, false), 2000 + 598 + 299 - 200 + taxes);
        let de = &for_order(32, "DE", p, &[(1000, 2)])[0];
        assert_eq!(
            de.taxes(),
            0,
            "VAT is in the price, and Amazon reports it as 0.00"
        );
        assert_eq!(de.charged(2000, true), 2000 + 598 + 299 - 200);
    }
}
