//! Amazon's carrier codes for shipment confirmations, and its tracking number check.
//!
//! Since 2021 Amazon confirms a seller-fulfilled package only with a carrier code of its
//! published list (`CarrierCode` of `amzn-base.xsd`, the Orders v0 `carrierCode`); a missing or
//! unlisted code leaves the order unconfirmed, and `Other` needs a `carrierName`
//! (selling-partner-api-docs #413 and #772, 2021; extended to BR, MX, CA, SG, AU, IN and JP in
//! 2022). Codes are compared exactly: `PUROLATOR` is a code, `Purolator` is not
//! (selling-partner-api-docs #2530). A tracking number that does not look like its carrier's is
//! confirmed all the same, with a warning (selling-partner-api-docs #489).

/// Amazon's carrier codes, spelled as Amazon spells them: the carriers of every marketplace the
/// emulator serves (the full list has some 300).
pub const CARRIER_CODES: &[&str] = &[
    // United States
    "USPS",
    "UPS",
    "UPSMI",
    "UPS Mail Innovations",
    "UPS Freight",
    "FedEx",
    "FedEx SmartPost",
    "Fedex Freight",
    "DHL",
    "DHL eCommerce",
    "DHL Express",
    "DHL Global Mail",
    "OnTrac",
    "Lasership",
    "Newgistics",
    "Amazon Shipping",
    "Estes",
    "Old Dominion",
    // Canada, Mexico, Brazil
    "Canada Post",
    "PUROLATOR",
    "Canpar",
    "Estafeta",
    "Correios",
    // United Kingdom
    "Royal Mail",
    "Parcelforce",
    "Yodel",
    "Hermes UK",
    "DPD Local",
    "APC Overnight",
    "UK MAIL",
    "DX",
    // Germany, Austria, Switzerland
    "Deutsche Post",
    "DHL-Paket",
    "Hermes Logistik Gruppe",
    "Hermes",
    "DPD",
    "GLS",
    "GO!",
    "Trans-o-Flex",
    "AT POST",
    "Swiss post",
    // France, Benelux, Nordics, Poland
    "La Poste",
    "Colissimo",
    "Chronopost",
    "Colis Prive",
    "Mondial Relay",
    "Post NL",
    "BPOST",
    "PostNord",
    "InPost",
    "Polish Post",
    // Italy, Spain
    "Poste Italiane",
    "BRT",
    "SDA",
    "Nexive",
    "Correos",
    "Correos Express",
    "Seur",
    "MRW",
    "Nacex",
    // Japan
    "Japan Post",
    "YamatoTransport",
    "YAMATO",
    "SagawaExpress",
    "SAGAWA",
    "NipponExpress",
    "NITTSU",
    "Seino",
    "FEDEX_JP",
    // Australia, Singapore
    "Australia Post",
    "Australia Post-ArticleId",
    "Australia Post-Consignment",
    "StarTrack-ArticleID",
    "Sendle",
    "CouriersPlease",
    "Toll Global Express",
    "Singapore Post",
    "Ninjavan",
    // India, Middle East
    "India Post",
    "BlueDart",
    "Delhivery",
    "DTDC",
    "Ecom Express",
    "Xpressbees",
    "Aramex",
    "Emirates Post",
    // Cross-border
    "TNT",
    "Asendia",
    "China Post",
    "Yun Express",
    "Yanwen",
    "SF Express",
    "4PX",
    // An unlisted carrier, named in `carrierName`.
    "Other",
];

/// Whether Amazon takes `code` as a `carrierCode` (exact spelling).
pub fn is_known(code: &str) -> bool {
    CARRIER_CODES.contains(&code)
}

/// Why Amazon leaves a package with this carrier unconfirmed, if it does.
pub fn refusal(code: &str, name: Option<&str>) -> Option<String> {
    if code.is_empty() {
        return Some("carrierCode is required".into());
    }
    if !is_known(code) {
        return Some(format!(
            "carrierCode '{code}' is not one of Amazon's carrier codes; use a listed code \
             (spelled exactly), or Other with the carrier's name in carrierName"
        ));
    }
    (code == "Other" && name.unwrap_or("").trim().is_empty())
        .then(|| "carrierName is required when carrierCode is Other".into())
}

/// The warning Amazon records for a tracking number that does not match the expected format
/// of its carrier (only the carriers whose formats are well known are checked).
pub fn tracking_warning(code: &str, tracking: &str) -> Option<String> {
    let t = tracking.trim();
    let digits = |lens: &[usize]| t.bytes().all(|b| b.is_ascii_digit()) && lens.contains(&t.len());
    // S10 (UPU) numbers: two letters, nine digits, the country's two letters.
    let s10 = |country: &str| {
        let b = t.as_bytes();
        b.len() == 13
            && b[..2].iter().all(u8::is_ascii_uppercase)
            && b[2..11].iter().all(u8::is_ascii_digit)
            && t.ends_with(country)
    };
    let plausible = match code {
        "UPS" => {
            t.len() == 18
                && t.starts_with("1Z")
                && t.bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        }
        "USPS" => digits(&[20, 22, 26, 30, 34]) || s10("US"),
        "FedEx" => digits(&[12, 15, 20, 22]),
        "Royal Mail" | "Parcelforce" => s10("GB"),
        "DHL Express" => digits(&[10]),
        _ => {
            !t.is_empty()
                && t.len() <= 40
                && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        }
    };
    (!plausible).then(|| {
        format!(
            "The tracking ID {tracking} for {code} does not match the expected format for the \
             carrier. Please verify that you have entered the tracking ID and carrier name \
             correctly."
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_exact_and_other_needs_a_name() {
        assert!(refusal("UPS", None).is_none());
        assert!(refusal("ups", None).is_some());
        assert!(refusal("Purolator", None).is_some());
        assert!(refusal("Other", None).is_some());
        assert!(refusal("Other", Some("Local Courier")).is_none());
        assert!(refusal("", None).is_some());
    }

    #[test]
    fn a_tracking_number_unlike_its_carriers_is_a_warning() {
        assert!(tracking_warning("UPS", "1Z999AA10123456784").is_none());
        assert!(tracking_warning("UPS", "1Z999").is_some());
        assert!(tracking_warning("Royal Mail", "AB123456789GB").is_none());
        assert!(tracking_warning("FedEx", "646555175639").is_none());
        assert!(tracking_warning("GLS", "JJD00 1").is_some());
        assert!(tracking_warning("GLS", "ZX81-4711").is_none());
    }
}
