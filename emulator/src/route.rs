//! Maps a method and path to the operation it names, with its path parameters.

use crate::limits::Op;

/// A recognised SP-API call: the operation and its path parameters, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub op: Op,
    pub params: Vec<String>,
}

/// Recognises `method path`; None for an unknown path (404) and Some(Err) for a known path
/// with a method it does not take (405 on Amazon's gateway; answered 404 here too).
pub fn route(method: &str, path: &str) -> Option<Route> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let p = |i: usize| decode(segs[i]);
    let (op, params) = match (method, segs.as_slice()) {
        ("POST", ["auth", "o2", "token"]) => (Op::LwaToken, vec![]),
        ("GET", ["orders", "2026-01-01", "orders"]) => (Op::SearchOrders, vec![]),
        ("GET", ["orders", "2026-01-01", "orders", _]) => (Op::GetOrder2026, vec![p(3)]),
        ("GET", ["orders", "v0", "orders"]) => (Op::GetOrders, vec![]),
        ("GET", ["orders", "v0", "orders", _]) => (Op::GetOrder, vec![p(3)]),
        ("GET", ["orders", "v0", "orders", _, "orderItems"]) => (Op::GetOrderItems, vec![p(3)]),
        ("GET", ["orders", "v0", "orders", _, "address"]) => (Op::GetOrderAddress, vec![p(3)]),
        ("POST", ["orders", "v0", "orders", _, "shipmentConfirmation"]) => {
            (Op::ConfirmShipment, vec![p(3)])
        }
        ("POST", ["orders", "v0", "orders", _, "shipment"]) => {
            (Op::UpdateShipmentStatus, vec![p(3)])
        }
        ("POST", ["tokens", "2021-03-01", "restrictedDataToken"]) => {
            (Op::CreateRestrictedDataToken, vec![])
        }
        ("GET", ["sellers", "v1", "marketplaceParticipations"]) => {
            (Op::GetMarketplaceParticipations, vec![])
        }
        ("GET", ["listings", "2021-08-01", "items", _]) => (Op::SearchListingsItems, vec![p(3)]),
        (m, ["listings", "2021-08-01", "items", _, _]) => {
            let op = match m {
                "GET" => Op::GetListingsItem,
                "PUT" => Op::PutListingsItem,
                "PATCH" => Op::PatchListingsItem,
                "DELETE" => Op::DeleteListingsItem,
                _ => return None,
            };
            (op, vec![p(3), p(4)])
        }
        ("POST", ["feeds", "2021-06-30", "documents"]) => (Op::CreateFeedDocument, vec![]),
        ("POST", ["feeds", "2021-06-30", "feeds"]) => (Op::CreateFeed, vec![]),
        ("GET", ["feeds", "2021-06-30", "feeds"]) => (Op::GetFeeds, vec![]),
        ("GET", ["feeds", "2021-06-30", "feeds", _]) => (Op::GetFeed, vec![p(3)]),
        ("DELETE", ["feeds", "2021-06-30", "feeds", _]) => (Op::CancelFeed, vec![p(3)]),
        ("GET", ["feeds", "2021-06-30", "documents", _]) => (Op::GetFeedDocument, vec![p(3)]),
        ("POST", ["reports", "2021-06-30", "reports"]) => (Op::CreateReport, vec![]),
        ("GET", ["fba", "inventory", "v1", "summaries"]) => (Op::GetInventorySummaries, vec![]),
        ("GET", ["reports", "2021-06-30", "reports", _]) => (Op::GetReport, vec![p(3)]),
        ("GET", ["reports", "2021-06-30", "documents", _]) => (Op::GetReportDocument, vec![p(3)]),
        ("POST", ["notifications", "v1", "destinations"]) => (Op::CreateDestination, vec![]),
        ("GET", ["notifications", "v1", "destinations"]) => (Op::GetDestinations, vec![]),
        ("GET", ["notifications", "v1", "destinations", _]) => (Op::GetDestination, vec![p(3)]),
        ("DELETE", ["notifications", "v1", "destinations", _]) => {
            (Op::DeleteDestination, vec![p(3)])
        }
        ("GET", ["notifications", "v1", "subscriptions"]) => (Op::GetSubscriptions, vec![]),
        ("POST", ["notifications", "v1", "subscriptions", _]) => {
            (Op::CreateSubscription, vec![p(3)])
        }
        ("GET", ["notifications", "v1", "subscriptions", _]) => (Op::GetSubscription, vec![p(3)]),
        ("GET", ["notifications", "v1", "subscriptions", _, _]) => {
            (Op::GetSubscriptionById, vec![p(3), p(4)])
        }
        ("DELETE", ["notifications", "v1", "subscriptions", _, _]) => {
            (Op::DeleteSubscriptionById, vec![p(3), p(4)])
        }
        ("PUT" | "GET", ["_documents", _]) => (Op::Document, vec![p(1)]),
        _ => return None,
    };
    Some(Route { op, params })
}

/// Percent-decodes one path segment (SKUs may contain any character).
fn decode(seg: &str) -> String {
    form_urlencoded::parse(format!("x={}", seg.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_known_paths_and_decodes_skus() {
        let r = route("PATCH", "/listings/2021-08-01/items/A1/SKU%2F1%20x").unwrap();
        assert_eq!(r.op, Op::PatchListingsItem);
        assert_eq!(r.params, vec!["A1".to_string(), "SKU/1 x".to_string()]);
        assert_eq!(
            route("GET", "/orders/2026-01-01/orders").unwrap().op,
            Op::SearchOrders
        );
        assert!(route("GET", "/orders/v1/orders").is_none());
        assert!(route("POST", "/listings/2021-08-01/items/A1/S").is_none());
    }
}
