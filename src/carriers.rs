//! The carrier of a shipment as Amazon takes it. Amazon confirms a package only with a carrier
//! code of its published list, spelled exactly, or with `Other` and the carrier's name; any
//! other code leaves the order unconfirmed (selling-partner-api-docs #413 and #772). Hosts
//! write carriers as their own systems do (`ups`, `Royal Mail`, `Yamato`), so each name is
//! mapped here, before the package is accepted.

/// Amazon's carrier codes that hosts' names are mapped to, each with the other names hosts
/// use for it. Names are compared without case, spaces and punctuation (`dhl express`,
/// `DHL-Express` and `DHLExpress` are one name).
const CARRIERS: &[(&str, &[&str])] = &[
    (
        "USPS",
        &[
            "United States Postal Service",
            "US Postal Service",
            "US Mail",
        ],
    ),
    ("UPS", &["United Parcel Service", "UPS Ground"]),
    ("UPS Mail Innovations", &[]),
    ("UPSMI", &[]),
    (
        "FedEx",
        &["Federal Express", "FedEx Ground", "FedEx Express"],
    ),
    ("FedEx SmartPost", &["SmartPost", "FedEx Ground Economy"]),
    ("DHL", &[]),
    ("DHL Express", &[]),
    ("DHL eCommerce", &["DHL eCommerce Solutions"]),
    ("DHL-Paket", &["DHL Parcel Germany"]),
    ("OnTrac", &[]),
    ("Lasership", &[]),
    ("Amazon Shipping", &[]),
    ("Canada Post", &["Postes Canada"]),
    ("PUROLATOR", &[]),
    ("Royal Mail", &[]),
    ("Parcelforce", &["Parcelforce Worldwide"]),
    ("Yodel", &[]),
    ("Hermes UK", &[]),
    ("Deutsche Post", &[]),
    ("Hermes", &["Hermes Germany", "myHermes"]),
    ("Hermes Logistik Gruppe", &[]),
    ("DPD", &[]),
    ("GLS", &["General Logistics Systems"]),
    ("GO!", &["GO Express"]),
    ("La Poste", &[]),
    ("Colissimo", &[]),
    ("Chronopost", &[]),
    ("Poste Italiane", &[]),
    ("BRT", &["Bartolini"]),
    ("Correos", &[]),
    ("Seur", &[]),
    ("Post NL", &[]),
    ("PostNord", &[]),
    ("InPost", &[]),
    ("Japan Post", &["JP Post", "Yu-Pack", "Yupack"]),
    (
        "YamatoTransport",
        &["Yamato", "Kuroneko Yamato", "Ta-Q-Bin", "TA-Q-BIN"],
    ),
    ("SagawaExpress", &["Sagawa"]),
    ("NipponExpress", &["Nittsu"]),
    ("Australia Post", &["AusPost"]),
    ("Sendle", &[]),
    ("CouriersPlease", &[]),
    ("India Post", &[]),
    ("BlueDart", &[]),
    ("Delhivery", &[]),
    ("TNT", &[]),
    ("Aramex", &[]),
    ("Asendia", &[]),
    ("China Post", &[]),
    ("Yun Express", &[]),
    ("SF Express", &[]),
    ("Singapore Post", &["SingPost"]),
];

/// Amazon's code for an unlisted carrier, named in `carrierName`.
pub const OTHER: &str = "Other";

/// A name reduced to what is compared: lower case letters and digits.
fn key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Amazon's carrier code for a name a host gives, if the name is one sellsync maps.
pub fn amazon_code(name: &str) -> Option<&'static str> {
    let k = key(name);
    if k.is_empty() {
        return None;
    }
    CARRIERS
        .iter()
        .find(|(code, aliases)| key(code) == k || aliases.iter().any(|a| key(a) == k))
        .map(|(code, _)| *code)
        .or_else(|| (k == key(OTHER)).then_some(OTHER))
}

/// Every Amazon carrier code a name can be mapped to.
pub fn codes() -> impl Iterator<Item = &'static str> {
    CARRIERS
        .iter()
        .map(|(code, _)| *code)
        .chain(std::iter::once(OTHER))
}

/// The (`carrierCode`, `carrierName`) Amazon is sent for what the host gave: a mapped name
/// becomes Amazon's code; a carrier sellsync does not know goes as `Other` with
/// `carrier_name`. An unknown carrier without a name, or `Other` without one, is refused with a
/// message saying what to pass instead.
pub fn to_amazon(code: &str, name: Option<&str>) -> Result<(String, Option<String>), String> {
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    match (amazon_code(code), name) {
        (Some(OTHER), None) => {
            Err("carrier_name is required when carrier_code is \"Other\"".into())
        }
        (Some(c), name) => Ok((c.to_string(), name.map(str::to_string))),
        (None, Some(n)) => Ok((OTHER.to_string(), Some(n.to_string()))),
        (None, None) => Err(format!(
            "carrier_code {} is not one of Amazon's carrier codes nor a carrier name sellsync \
             maps to one (such as \"UPS\", \"FedEx\", \"DHL Express\", \"Royal Mail\", \
             \"Deutsche Post\", \"Japan Post\"): pass Amazon's code, or the carrier's name in \
             carrier_name to send it as \"Other\"",
            crate::error::quote(code)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_names_map_to_amazons_codes() {
        for (given, code) in [
            ("ups", "UPS"),
            (" UPS ", "UPS"),
            ("fedex", "FedEx"),
            ("usps", "USPS"),
            ("Royal Mail", "Royal Mail"),
            ("ROYAL_MAIL", "Royal Mail"),
            ("royalmail", "Royal Mail"),
            ("DHL Express", "DHL Express"),
            ("dhl-express", "DHL Express"),
            ("DHL", "DHL"),
            ("Deutsche Post", "Deutsche Post"),
            ("hermes", "Hermes"),
            ("dpd", "DPD"),
            ("gls", "GLS"),
            ("canada post", "Canada Post"),
            ("Australia Post", "Australia Post"),
            ("japan post", "Japan Post"),
            ("Yamato", "YamatoTransport"),
            ("yamato transport", "YamatoTransport"),
            ("go!", "GO!"),
            ("other", "Other"),
        ] {
            assert_eq!(amazon_code(given), Some(code), "{given}");
        }
        assert_eq!(amazon_code("Kurierdienst Meier"), None);
        assert_eq!(amazon_code(" - "), None);
    }

    #[test]
    fn the_readme_names_every_code() {
        let readme = include_str!("../README.md");
        for code in codes().filter(|c| *c != OTHER) {
            assert!(readme.contains(&format!("`{code}`")), "{code}");
        }
    }

    #[test]
    fn an_unknown_carrier_goes_as_other_with_its_name_or_is_refused() {
        assert_eq!(
            to_amazon("Meier", Some("Kurierdienst Meier")),
            Ok(("Other".into(), Some("Kurierdienst Meier".into())))
        );
        assert_eq!(to_amazon("ups", None), Ok(("UPS".into(), None)));
        let e = to_amazon("Meier", None).unwrap_err();
        assert!(e.contains("\"Meier\"") && e.contains("carrier_name"), "{e}");
        assert!(to_amazon("Other", Some(" ")).is_err());
    }
}
