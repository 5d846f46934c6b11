//! Login with Amazon, Restricted Data Tokens and the Sellers API.

use super::Ctx;
use crate::reply::Reply;
use crate::world::Token;
use chrono::Duration;
use serde::Deserialize;
use serde_json::json;

fn lwa_error(status: u16, error: &str, description: &str) -> Reply {
    Reply::json(
        status,
        json!({"error": error, "error_description": description}),
    )
}

/// The scopes of grantless operations the emulator serves.
pub const GRANTLESS_SCOPES: &[&str] = &["sellingpartnerapi::notifications"];

/// `POST /auth/o2/token` with the `refresh_token` grant (a seller's token) or the
/// `client_credentials` grant with a `scope` (a grantless token of the application).
pub fn lwa_token(ctx: &mut Ctx<'_>) -> Reply {
    let form: Vec<(String, String)> = form_urlencoded::parse(&ctx.body).into_owned().collect();
    let field = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let grant = field("grant_type");
    if grant != "refresh_token" && grant != "client_credentials" {
        return lwa_error(
            400,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server",
        );
    }
    let client_ok =
        ctx.world.sellers.iter().any(|s| {
            s.client_id == field("client_id") && s.client_secret == field("client_secret")
        });
    if !client_ok {
        return lwa_error(401, "invalid_client", "Client authentication failed");
    }
    let lifetime = ctx.shared.token_lifetime_s;
    let token = format!("Atza|{}", ctx.world.random_hex(64));
    let mut issued = Token {
        seller_id: String::new(),
        client_id: field("client_id").to_string(),
        grantless_scope: None,
        expires: ctx.now + Duration::seconds(lifetime),
        restricted: None,
    };
    let mut answer = json!({"access_token": token, "token_type": "bearer", "expires_in": lifetime});
    if grant == "client_credentials" {
        let scope = field("scope");
        if !GRANTLESS_SCOPES.contains(&scope) {
            return lwa_error(
                400,
                "invalid_scope",
                "The request has an invalid parameter : scope",
            );
        }
        issued.grantless_scope = Some(scope.to_string());
    } else {
        let seller = ctx.world.sellers.iter().find(|s| {
            s.client_id == field("client_id") && s.refresh_token == field("refresh_token")
        });
        let Some(seller_id) = seller.map(|s| s.seller_id.clone()) else {
            return lwa_error(
                400,
                "invalid_grant",
                "The request has an invalid grant parameter : refresh_token",
            );
        };
        issued.seller_id = seller_id;
        answer["refresh_token"] = json!(field("refresh_token"));
    }
    ctx.world.tokens.insert(token, issued);
    Reply::json(200, answer)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RdtRequest {
    restricted_resources: Vec<RdtResource>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RdtResource {
    method: String,
    path: String,
    #[serde(default)]
    data_elements: Vec<String>,
}

/// `POST /tokens/2021-03-01/restrictedDataToken`.
pub fn create_rdt(ctx: &mut Ctx<'_>) -> Reply {
    let bad = |d: &str| {
        Reply::error(
            400,
            "InvalidRequest",
            "Request is missing or has invalid parameters",
            d,
        )
    };
    let req: RdtRequest = match ctx.json(|d| {
        Reply::error(
            400,
            "InvalidRequest",
            "Request is missing or has invalid parameters",
            d,
        )
    }) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if req.restricted_resources.is_empty() || req.restricted_resources.len() > 50 {
        return bad("Resource not provided.");
    }
    for r in &req.restricted_resources {
        if !matches!(r.method.as_str(), "GET" | "PUT" | "POST" | "DELETE")
            || !r.path.starts_with('/')
        {
            return bad(&format!("Invalid resource {} {}", r.method, r.path));
        }
    }
    let names_address = |r: &RdtResource| {
        r.path.ends_with("/address") || r.data_elements.iter().any(|d| d == "shippingAddress")
    };
    if !ctx.world.address_role && req.restricted_resources.iter().any(names_address) {
        let elements: Vec<&str> = req
            .restricted_resources
            .iter()
            .flat_map(|r| r.data_elements.iter().map(String::as_str))
            .collect();
        return Reply::error(
            400,
            "InvalidInput",
            &if elements.is_empty() {
                "Application do not have access to some or all requested resource".to_string()
            } else {
                format!(
                    "Application does not have access to one or more requested data elements: [{}]",
                    elements.join(", ")
                )
            },
            "",
        );
    }
    let token = format!("Atz.sprdt|{}", ctx.world.random_hex(64));
    let expires_in = 3600;
    ctx.world.tokens.insert(
        token.clone(),
        Token {
            seller_id: ctx.seller.clone(),
            client_id: ctx
                .token
                .as_ref()
                .map(|t| t.client_id.clone())
                .unwrap_or_default(),
            grantless_scope: None,
            expires: ctx.now + Duration::seconds(expires_in),
            restricted: Some(
                req.restricted_resources
                    .into_iter()
                    .map(|r| (r.method, r.path, r.data_elements))
                    .collect(),
            ),
        },
    );
    Reply::json(
        200,
        json!({"restrictedDataToken": token, "expiresIn": expires_in}),
    )
}

/// The data elements an RDT grants for `path` (exact order path or the bulk orders path).
pub fn rdt_grants(ctx: &Ctx<'_>, path: &str) -> Option<Vec<String>> {
    let restricted = ctx.token.as_ref()?.restricted.as_ref()?;
    restricted
        .iter()
        .find(|(m, p, _)| m == "GET" && p == path)
        .map(|(_, _, d)| d.clone())
}

/// `GET /sellers/v1/marketplaceParticipations`.
pub fn participations(ctx: &mut Ctx<'_>) -> Reply {
    let ids = ctx
        .world
        .seller(&ctx.seller)
        .map(|s| s.marketplace_ids.clone())
        .unwrap_or_default();
    let payload: Vec<_> = ids
        .iter()
        .map(|id| {
            let (country, currency, domain) = crate::marketplace(id);
            json!({
                "marketplace": {"id": id, "name": domain, "countryCode": country,
                                "defaultCurrencyCode": currency, "defaultLanguageCode": "en_US",
                                "domainName": domain},
                "participation": {"isParticipating": true, "hasSuspendedListings": false},
                "storeName": "Demo Shop"
            })
        })
        .collect();
    Reply::json(200, json!({ "payload": payload }))
}
