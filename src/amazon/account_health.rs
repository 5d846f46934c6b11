//! Amazon's own account health: the seller performance report
//! (`GET_V2_SELLER_PERFORMANCE_REPORT`, JSON per `accountHealthReport-2020-11-18.json`), read
//! into the figures sellsync shows beside its own.
//!
//! Amazon's documents differ from their schema: the model's example names the cancellation
//! section `prefulfillmentCancelRate` where the schema requires
//! `preFulfillmentCancellationRate`, and dates come to the minute (`2026-12-06T23:59Z`,
//! inclusive). Both names are read; a section missing is a figure Amazon did not give; a
//! section present with a wrong type makes the document unusable (an error, not zeros).

use crate::error::{Error, Result};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The report type.
pub const SELLER_PERFORMANCE: &str = "GET_V2_SELLER_PERFORMANCE_REPORT";

/// One of Amazon's figures for a marketplace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AmazonMetric {
    /// `cancellation_rate`, `late_shipment_rate`, `order_defect_rate` or
    /// `valid_tracking_rate`.
    pub name: String,
    /// For the order defect rate: `mfn` (seller-fulfilled) or `afn` (Amazon-fulfilled).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub fulfilment: Option<String>,
    /// Amazon's window: from (inclusive) to (exclusive), ISO 8601.
    pub from: String,
    pub to: String,
    pub window_days: i64,
    pub numerator: u64,
    pub denominator: u64,
    pub rate: f64,
    pub target: f64,
    /// `LESS_THAN`, `GREATER_THAN` or `EQUALS`.
    pub target_condition: String,
    /// Amazon's status: `GOOD`, `BAD` or `NONE`.
    pub status: String,
    /// For the order defect rate: orders with A-to-z claims, chargebacks, negative feedback.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub defects: Option<Defects>,
}

impl AmazonMetric {
    /// Whether the rate is on the wrong side of its target.
    pub fn misses_target(&self) -> bool {
        match self.target_condition.as_str() {
            "GREATER_THAN" => self.rate <= self.target,
            "EQUALS" => self.rate != self.target,
            _ => self.rate >= self.target,
        }
    }
}

/// The parts of Amazon's order defect rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Defects {
    pub claims: u64,
    pub chargebacks: u64,
    pub negative_feedback: u64,
}

/// Amazon's account health for one marketplace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarketplaceHealth {
    pub marketplace_id: String,
    /// `NORMAL`, `AT_RISK`, `DEACTIVATED` (or what else Amazon says).
    pub account_status: Option<String>,
    /// Amazon's account health rating status, e.g. `GREAT`.
    pub account_health_rating: Option<String>,
    pub metrics: Vec<AmazonMetric>,
}

fn bad(what: &str) -> Error {
    Error::Network(format!(
        "the seller performance report is not usable: {what}"
    ))
}

/// Amazon's minute-precision date (or a full ISO 8601 one).
fn time(v: &Value, what: &str) -> Result<DateTime<Utc>> {
    let s = v
        .as_str()
        .ok_or_else(|| bad(&format!("{what} is not a date")))?;
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s.trim_end_matches('Z'), "%Y-%m-%dT%H:%M")
        .map(|t| t.and_utc())
        .map_err(|_| bad(&format!("{what} {s:?} is not a date")))
}

fn number(v: &Value, what: &str) -> Result<f64> {
    v.as_f64()
        .filter(|n| n.is_finite())
        .ok_or_else(|| bad(&format!("{what} is not a number")))
}

fn whole(v: &Value, what: &str) -> Result<u64> {
    v.as_u64()
        .or_else(|| {
            v.as_f64()
                .filter(|n| *n >= 0.0 && n.fract() == 0.0)
                .map(|n| n as u64)
        })
        .ok_or_else(|| bad(&format!("{what} is not a count")))
}

/// One section: its window, counts, rate and target.
fn metric(
    s: &Value,
    name: &str,
    numerator: &str,
    denominator: &str,
    fulfilment: Option<&str>,
) -> Result<AmazonMetric> {
    let range = &s["reportingDateRange"];
    let from = time(&range["reportingDateFrom"], "reportingDateFrom")?;
    // The end is the last minute included.
    let to = time(&range["reportingDateTo"], "reportingDateTo")? + Duration::minutes(1);
    let numerator = match numerator {
        "orderWithDefects" => whole(&s[numerator]["count"], numerator)?,
        n => whole(&s[n], n)?,
    };
    let defects = match fulfilment {
        Some(_) => Some(Defects {
            claims: whole(&s["claims"]["count"], "claims")?,
            chargebacks: whole(&s["chargebacks"]["count"], "chargebacks")?,
            negative_feedback: whole(&s["negativeFeedback"]["count"], "negativeFeedback")?,
        }),
        None => None,
    };
    Ok(AmazonMetric {
        name: name.to_string(),
        fulfilment: fulfilment.map(str::to_string),
        window_days: (to - from).num_days(),
        from: crate::store::ts(from),
        to: crate::store::ts(to),
        numerator,
        denominator: whole(&s[denominator], denominator)?,
        rate: number(&s["rate"], "rate")?,
        target: number(&s["targetValue"], "targetValue")?,
        target_condition: s["targetCondition"]
            .as_str()
            .unwrap_or("LESS_THAN")
            .to_string(),
        status: s["status"].as_str().unwrap_or("NONE").to_string(),
        defects,
    })
}

/// Reads the report's document.
pub fn parse(bytes: &[u8]) -> Result<Vec<MarketplaceHealth>> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| bad(&e.to_string()))?;
    let statuses = v["accountStatuses"].as_array();
    let sections = v["performanceMetrics"]
        .as_array()
        .ok_or_else(|| bad("performanceMetrics is missing"))?;
    let mut out = Vec::new();
    for p in sections {
        let mp = p["marketplaceId"]
            .as_str()
            .ok_or_else(|| bad("a performanceMetrics entry names no marketplaceId"))?;
        let mut metrics = Vec::new();
        let cancel = ["preFulfillmentCancellationRate", "prefulfillmentCancelRate"]
            .iter()
            .map(|k| &p[*k])
            .find(|s| !s.is_null());
        if let Some(s) = cancel {
            metrics.push(metric(
                s,
                "cancellation_rate",
                "cancellationCount",
                "orderCount",
                None,
            )?);
        }
        // Both windows when Amazon lists them, else the one section.
        let late: Vec<&Value> = match p["lateShipmentRateList"].as_array() {
            Some(list) if !list.is_empty() => list.iter().collect(),
            _ => Some(&p["lateShipmentRate"])
                .filter(|s| !s.is_null())
                .into_iter()
                .collect(),
        };
        for s in late {
            metrics.push(metric(
                s,
                "late_shipment_rate",
                "lateShipmentCount",
                "orderCount",
                None,
            )?);
        }
        for f in ["mfn", "afn"] {
            let s = &p["orderDefectRate"][f];
            if !s.is_null() {
                metrics.push(metric(
                    s,
                    "order_defect_rate",
                    "orderWithDefects",
                    "orderCount",
                    Some(f),
                )?);
            }
        }
        let s = &p["validTrackingRate"];
        if !s.is_null() {
            metrics.push(metric(
                s,
                "valid_tracking_rate",
                "validTrackingCount",
                "shipmentCount",
                None,
            )?);
        }
        let rating = &p["accountHealthRating"];
        out.push(MarketplaceHealth {
            marketplace_id: mp.to_string(),
            account_status: statuses
                .into_iter()
                .flatten()
                .find(|s| s["marketplaceId"] == mp)
                .and_then(|s| s["status"].as_str())
                .map(str::to_string),
            account_health_rating: ["ahrStatus", "accountHealthRatingStatus"]
                .iter()
                .find_map(|k| rating[*k].as_str())
                .map(str::to_string),
            metrics,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model's own example (with its `prefulfillmentCancelRate`) reads.
    #[test]
    fn the_models_example_reads_with_minute_dates() {
        let doc = br#"{"accountStatuses":[{"marketplaceId":"ATVPDKIKX0DER","status":"AT_RISK"}],
          "performanceMetrics":[{"marketplaceId":"ATVPDKIKX0DER",
            "lateShipmentRate":{"reportingDateRange":{"reportingDateFrom":"2020-10-21T00:00Z","reportingDateTo":"2020-11-19T23:59Z"},
              "orderCount":870669,"lateShipmentCount":27896,"status":"GOOD","rate":0.03203973037,"targetValue":0.04,"targetCondition":"LESS_THAN"},
            "prefulfillmentCancelRate":{"reportingDateRange":{"reportingDateFrom":"2020-11-12T00:00Z","reportingDateTo":"2020-11-18T23:59Z"},
              "orderCount":17197,"cancellationCount":551,"status":"GOOD","rate":0.005,"targetValue":0.01,"targetCondition":"LESS_THAN"},
            "orderDefectRate":{"mfn":{"reportingDateRange":{"reportingDateFrom":"2020-09-06T00:00Z","reportingDateTo":"2020-11-04T23:59Z"},
              "orderCount":539000,"orderWithDefects":{"count":1078,"status":"GOOD"},"claims":{"count":442,"status":"NONE"},
              "chargebacks":{"count":15,"status":"NONE"},"negativeFeedback":{"count":628,"status":"NONE"},"fulfillmentType":"mfn",
              "status":"GOOD","rate":0.009,"targetValue":0.01,"targetCondition":"LESS_THAN"}},
            "accountHealthRating":{"ahrStatus":"WARNED"}}]}"#;
        let h = parse(doc).unwrap();
        assert_eq!(h[0].account_status.as_deref(), Some("AT_RISK"));
        assert_eq!(h[0].account_health_rating.as_deref(), Some("WARNED"));
        let cancel = &h[0].metrics[0];
        assert_eq!(
            (cancel.name.as_str(), cancel.numerator, cancel.denominator),
            ("cancellation_rate", 551, 17197)
        );
        assert_eq!(
            (cancel.from.as_str(), cancel.to.as_str(), cancel.window_days),
            ("2020-11-12T00:00:00.000Z", "2020-11-19T00:00:00.000Z", 7)
        );
        let odr = &h[0].metrics[2];
        assert_eq!(odr.defects.as_ref().map(|d| d.claims), Some(442));
        assert!(!odr.misses_target());
    }

    #[test]
    fn a_section_with_a_wrong_type_makes_the_document_unusable() {
        let doc = br#"{"performanceMetrics":[{"marketplaceId":"X","lateShipmentRate":{"reportingDateRange":
            {"reportingDateFrom":"2020-10-21T00:00Z","reportingDateTo":"2020-11-19T23:59Z"},"orderCount":"many",
            "lateShipmentCount":1,"rate":0.1,"targetValue":0.04}}]}"#;
        assert!(parse(doc).is_err());
        assert!(parse(b"{}").is_err());
    }
}
