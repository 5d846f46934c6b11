//! Prices the host sets, before they go to Amazon: each marketplace's currency, amounts in that
//! currency's minor units, and the guard rails (the seller's floor and ceiling, and a change
//! too large to send without the host's confirmation). Pure: no store, no calls.

use crate::error::{quote, Error, Result};
use crate::model::PriceSet;

/// Amazon's marketplaces by id, each with its currency and that currency's decimals.
const CURRENCIES: &[(&str, &str, u32)] = &[
    ("A2EUQ1WTGCTBG2", "CAD", 2),
    ("ATVPDKIKX0DER", "USD", 2),
    ("A1AM78C64UM0Y8", "MXN", 2),
    ("A2Q3Y263D00KWC", "BRL", 2),
    ("A28R8C7NBKEWEA", "EUR", 2),
    ("A1RKKUPIHCS9HS", "EUR", 2),
    ("A1F83G8C2ARO7P", "GBP", 2),
    ("A13V1IB3VIYZZH", "EUR", 2),
    ("AMEN7PMS3EDWL", "EUR", 2),
    ("A1805IZSGTT6HS", "EUR", 2),
    ("A1PA6795UKMFR9", "EUR", 2),
    ("APJ6JRA9NG5V4", "EUR", 2),
    ("A2NODRKZP88ZB9", "SEK", 2),
    ("AE08WJ6YKNBMC", "ZAR", 2),
    ("A1C3SOZRARQ6R3", "PLN", 2),
    ("ARBP9OOSHTCHU", "EGP", 2),
    ("A33AVAJ2PDY3EV", "TRY", 2),
    ("A17E79C6D8DWNP", "SAR", 2),
    ("A2VIGQ35RCS4UG", "AED", 2),
    ("A21TJRUUN4KGV", "INR", 2),
    ("A19VAU5U5O7RUS", "SGD", 2),
    ("A39IBJ37TRP1C6", "AUD", 2),
    ("A1VC38T7YXB528", "JPY", 0),
];

/// The largest price accepted, in major units (a typo guard, far above any real one).
const MAX_MAJOR: i64 = 10_000_000;

/// A marketplace's currency and its decimals; None for a marketplace unknown here.
pub fn currency(marketplace_id: &str) -> Option<(&'static str, u32)> {
    CURRENCIES
        .iter()
        .find(|(id, _, _)| *id == marketplace_id)
        .map(|(_, c, d)| (*c, *d))
}

/// A price in minor units as Amazon's attributes carry it (`15.5` for 1550 cents).
pub fn as_number(minor: i64, decimals: u32) -> f64 {
    minor as f64 / 10f64.powi(decimals as i32)
}

/// A price in minor units as text (`"15.50"`, `"1500"` for yen).
pub fn as_text(minor: i64, decimals: u32) -> String {
    if decimals == 0 {
        return minor.to_string();
    }
    let unit = 10i64.pow(decimals);
    format!(
        "{}.{:0width$}",
        minor / unit,
        minor % unit,
        width = decimals as usize
    )
}

/// Parses a decimal price (`"15"`, `"15.5"`, `"15.50"`) into minor units: more than zero, no
/// more decimals than the currency has, no sign, exponent or separator.
pub fn parse(text: &str, decimals: u32, what: &str) -> Result<i64> {
    let bad =
        |why: &str| Error::InvalidArgument(format!("{what} {} is not a price: {why}", quote(text)));
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(
            "give digits, and a point before the decimals, as \"15.50\"",
        ));
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) || (text.contains('.') && frac.is_empty()) {
        return Err(bad("give digits after the point"));
    }
    if frac.len() > decimals as usize {
        return Err(bad(&format!("the currency has {decimals} decimals")));
    }
    let whole: i64 = whole
        .parse()
        .ok()
        .filter(|w| *w <= MAX_MAJOR)
        .ok_or_else(|| bad(&format!("more than {MAX_MAJOR}")))?;
    let scale = 10i64.pow(decimals);
    let frac: i64 = format!("{frac:0<width$}", width = decimals as usize)
        .parse()
        .unwrap_or(0);
    let minor = whole * scale + frac;
    if minor == 0 {
        return Err(bad("a price must be more than zero"));
    }
    Ok(minor)
}

/// A price the host set, checked and in minor units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    pub sku: String,
    pub marketplace_id: String,
    pub currency: &'static str,
    pub decimals: u32,
    pub price: i64,
    /// The sale price and its window (ISO 8601 times, both given or neither).
    pub sale: Option<(i64, String, String)>,
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
}

/// Checks a price the host set against the marketplaces configured and its own floor and
/// ceiling (`minimum`, `maximum`; `kept` are those an earlier call set, used when this one
/// gives none): a price or sale price below the floor or above the ceiling is refused.
pub fn check(
    p: &PriceSet,
    marketplaces: &[String],
    kept: (Option<i64>, Option<i64>),
) -> Result<Checked> {
    let sku = quote(&p.sku);
    if p.sku.is_empty() || p.sku.len() > 200 {
        return Err(Error::InvalidArgument(format!(
            "SKU {sku} must have 1 to 200 characters"
        )));
    }
    if !marketplaces.contains(&p.marketplace_id) {
        return Err(Error::InvalidArgument(format!(
            "the price of SKU {sku} names marketplace {}, which is not in marketplace_ids",
            quote(&p.marketplace_id)
        )));
    }
    let (currency, decimals) = currency(&p.marketplace_id).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "marketplace {} has no currency known to sellsync",
            quote(&p.marketplace_id)
        ))
    })?;
    let amount = |t: &Option<String>, what: &str| {
        t.as_deref()
            .map(|t| parse(t, decimals, &format!("the {what} of SKU {sku}")))
            .transpose()
    };
    let price = parse(&p.price, decimals, &format!("the price of SKU {sku}"))?;
    let minimum = amount(&p.minimum, "minimum")?.or(kept.0);
    let maximum = amount(&p.maximum, "maximum")?.or(kept.1);
    let sale = match (
        amount(&p.sale_price, "sale price")?,
        &p.sale_start,
        &p.sale_end,
    ) {
        (None, None, None) => None,
        (Some(s), Some(from), Some(to)) => {
            let at = |t: &str| {
                chrono::DateTime::parse_from_rfc3339(t).map_err(|_| {
                    Error::InvalidArgument(format!(
                        "the sale of SKU {sku}: {} is not an ISO 8601 time such as 2026-12-24T00:00:00Z",
                        quote(t)
                    ))
                })
            };
            if at(from)? >= at(to)? {
                return Err(Error::InvalidArgument(format!(
                    "the sale of SKU {sku} must end after it starts"
                )));
            }
            if s >= price {
                return Err(Error::InvalidArgument(format!(
                    "the sale price of SKU {sku} must be below its price"
                )));
            }
            Some((s, from.clone(), to.clone()))
        }
        _ => {
            return Err(Error::InvalidArgument(format!(
                "the sale of SKU {sku} needs sale_price, sale_start and sale_end together"
            )))
        }
    };
    let shown = |v: i64| format!("{} {currency}", as_text(v, decimals));
    if let (Some(lo), Some(hi)) = (minimum, maximum) {
        if lo > hi {
            return Err(Error::InvalidArgument(format!(
                "the minimum of SKU {sku} ({}) is above its maximum ({})",
                shown(lo),
                shown(hi)
            )));
        }
    }
    for (what, v) in [
        ("price", Some(price)),
        ("sale price", sale.as_ref().map(|s| s.0)),
    ] {
        let Some(v) = v else { continue };
        if let Some(lo) = minimum.filter(|lo| v < *lo) {
            return Err(Error::InvalidArgument(format!(
                "the {what} of SKU {sku} ({}) is below the seller's minimum ({})",
                shown(v),
                shown(lo)
            )));
        }
        if let Some(hi) = maximum.filter(|hi| v > *hi) {
            return Err(Error::InvalidArgument(format!(
                "the {what} of SKU {sku} ({}) is above the seller's maximum ({})",
                shown(v),
                shown(hi)
            )));
        }
    }
    Ok(Checked {
        sku: p.sku.clone(),
        marketplace_id: p.marketplace_id.clone(),
        currency,
        decimals,
        price,
        sale,
        minimum,
        maximum,
    })
}

/// By how many percent `price` differs from `reference` when that is more than `percent`
/// (a change to confirm before it goes out); None when it is within it.
pub fn change_to_confirm(price: i64, reference: i64, percent: f64) -> Option<f64> {
    if reference <= 0 {
        return None;
    }
    let change = (price - reference).abs() as f64 * 100.0 / reference as f64;
    (change > percent).then_some((change * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(price: &str) -> PriceSet {
        PriceSet {
            sku: "MUG".into(),
            marketplace_id: "ATVPDKIKX0DER".into(),
            price: price.into(),
            ..Default::default()
        }
    }

    fn us() -> Vec<String> {
        vec!["ATVPDKIKX0DER".into(), "A1VC38T7YXB528".into()]
    }

    #[test]
    fn prices_are_read_in_the_currency_s_minor_units_and_bad_ones_refused() {
        assert_eq!(parse("15", 2, "p").unwrap(), 1500);
        assert_eq!(parse("15.5", 2, "p").unwrap(), 1550);
        assert_eq!(parse("0.01", 2, "p").unwrap(), 1);
        assert_eq!(parse("1500", 0, "p").unwrap(), 1500);
        for bad in [
            "", "0", "0.00", "-1", "1e3", "1,50", "15.", ".5", "15.505", "+3", "20000000",
        ] {
            assert!(parse(bad, 2, "p").is_err(), "{bad:?} accepted");
        }
        assert!(parse("15.5", 0, "p").is_err(), "yen have no decimals");
        assert_eq!(as_text(1550, 2), "15.50");
        assert_eq!(as_text(5, 2), "0.05");
        assert_eq!(as_text(1500, 0), "1500");
    }

    #[test]
    fn a_price_or_sale_price_outside_the_floor_and_ceiling_is_refused() {
        let mut p = set("9.99");
        p.minimum = Some("10.00".into());
        let e = check(&p, &us(), (None, None)).unwrap_err().to_string();
        assert!(e.contains("below the seller's minimum (10.00 USD)"), "{e}");
        // The floor an earlier call set still holds.
        let e = check(&set("9.99"), &us(), (Some(1000), None)).unwrap_err();
        assert!(e.to_string().contains("below"), "{e}");
        let e = check(&set("50.01"), &us(), (None, Some(5000))).unwrap_err();
        assert!(e.to_string().contains("above the seller's maximum"), "{e}");
        let mut p = set("20.00");
        p.minimum = Some("10.00".into());
        (p.sale_price, p.sale_start, p.sale_end) = (
            Some("9.00".into()),
            Some("2026-12-24T00:00:00Z".into()),
            Some("2026-12-27T00:00:00Z".into()),
        );
        let e = check(&p, &us(), (None, None)).unwrap_err().to_string();
        assert!(e.contains("sale price"), "{e}");
        p.sale_price = Some("12.00".into());
        let c = check(&p, &us(), (None, None)).unwrap();
        assert_eq!(
            (c.price, c.sale.map(|s| s.0), c.minimum),
            (2000, Some(1200), Some(1000))
        );
        // Within bounds, in yen.
        let mut p = set("1500");
        p.marketplace_id = "A1VC38T7YXB528".into();
        let c = check(&p, &us(), (None, None)).unwrap();
        assert_eq!((c.price, c.currency), (1500, "JPY"));
    }

    #[test]
    fn a_marketplace_not_configured_or_an_unknown_one_is_refused() {
        let mut p = set("10.00");
        p.marketplace_id = "A1PA6795UKMFR9".into();
        assert!(check(&p, &us(), (None, None)).is_err());
        p.marketplace_id = "XXXX".into();
        assert!(check(&p, &["XXXX".to_string()], (None, None)).is_err());
    }

    #[test]
    fn a_change_larger_than_the_share_is_to_be_confirmed() {
        assert_eq!(change_to_confirm(1000, 1000, 20.0), None);
        assert_eq!(change_to_confirm(1200, 1000, 20.0), None);
        assert_eq!(change_to_confirm(1201, 1000, 20.0), Some(20.1));
        assert_eq!(change_to_confirm(100, 1000, 20.0), Some(90.0));
        assert_eq!(change_to_confirm(100, 0, 20.0), None);
    }
}
