//! A plain HTTP client for the emulator tests.
#![allow(dead_code)]

use reqwest::blocking::Client;
use sellsync_emulator::{Config, Emulator, Seller};
use serde_json::Value;
use std::time::{Duration, Instant};

/// A started emulator and an HTTP client with a token of the demo seller.
pub struct Api {
    pub emu: Emulator,
    pub http: Client,
    pub token: String,
}

/// One answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Api {
    /// An emulator with every rate limit 1000x Amazon's and without Amazon's delays
    /// (`Settings::kind`), so tests of its paths and shapes are not slowed by them.
    pub fn fast() -> Api {
        Api::start(Config {
            rate_scale: 1000.0,
            settings: sellsync_emulator::Settings::default().kind(),
            ..Config::default()
        })
    }

    /// Starts an emulator with `config` and gets an access token.
    pub fn start(config: Config) -> Api {
        let emu = Emulator::start(config).expect("emulator starts");
        let http = Client::new();
        let mut api = Api {
            emu,
            http,
            token: String::new(),
        };
        let a = api.lwa(&Seller::demo().refresh_token, &Seller::demo().client_secret);
        assert_eq!(a.status, 200, "{:?}", a.body);
        api.token = a.body["access_token"].as_str().unwrap().to_string();
        api
    }

    /// The LWA token exchange.
    pub fn lwa(&self, refresh_token: &str, client_secret: &str) -> Answer {
        let s = Seller::demo();
        let resp = self
            .http
            .post(format!("{}/auth/o2/token", self.emu.url()))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_id", s.client_id.as_str()),
                ("client_secret", client_secret),
            ])
            .send()
            .unwrap();
        answer(resp)
    }

    /// A grantless access token of the demo seller's application (`client_credentials` grant
    /// with `scope`).
    pub fn grantless(&self, scope: &str) -> String {
        let s = Seller::demo();
        let resp = self
            .http
            .post(format!("{}/auth/o2/token", self.emu.url()))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", scope),
                ("client_id", s.client_id.as_str()),
                ("client_secret", s.client_secret.as_str()),
            ])
            .send()
            .unwrap();
        let a = answer(resp);
        assert_eq!(a.status, 200, "{:?}", a.body);
        assert!(a.body.get("refresh_token").is_none());
        a.body["access_token"].as_str().unwrap().to_string()
    }

    /// A call with the access token (or `token` if given) and an optional JSON body.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Answer {
        self.call_with(method, path, query, body, &self.token)
    }

    /// A call with an explicit token.
    pub fn call_with(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
        token: &str,
    ) -> Answer {
        let mut rb = self
            .http
            .request(
                method.parse().unwrap(),
                format!("{}{}", self.emu.url(), path),
            )
            .query(query)
            .header("x-amz-access-token", token);
        if let Some(b) = body {
            rb = rb
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        answer(rb.send().unwrap())
    }

    /// A control API call (`/_emulator/<path>`): its status and JSON answer.
    pub fn control_answer(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let mut rb = self.http.request(
            method.parse().unwrap(),
            format!("{}/_emulator/{path}", self.emu.url()),
        );
        if let Some(b) = body {
            rb = rb
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        answer(rb.send().unwrap())
    }

    /// A control API call that must succeed; its JSON answer.
    pub fn control(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let a = self.control_answer(method, path, body);
        assert_eq!(a.status, 200, "{method} {path}: {:?}", a.body);
        a.body
    }

    /// Creates a feed document and uploads `data` to its URL; the createFeedDocument answer.
    pub fn upload(&self, content_type: &str, data: Vec<u8>) -> Answer {
        let doc = self.call(
            "POST",
            "/feeds/2021-06-30/documents",
            &[],
            Some(&serde_json::json!({"contentType": content_type})),
        );
        assert_eq!(doc.status, 201);
        let put = self
            .http
            .put(doc.body["url"].as_str().unwrap())
            .header("content-type", content_type)
            .body(data)
            .send()
            .unwrap();
        assert_eq!(put.status().as_u16(), 200);
        doc
    }

    /// Polls `getFeed` at `path` (bounded) until processing ends; the feed.
    pub fn wait_done(&self, path: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let a = self.call("GET", path, &[], None);
            assert_eq!(a.status, 200);
            let s = a.body["processingStatus"].as_str().unwrap().to_string();
            if matches!(s.as_str(), "DONE" | "FATAL" | "CANCELLED") {
                return a.body;
            }
            assert!(Instant::now() < deadline, "{path} still {s}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn answer(resp: reqwest::blocking::Response) -> Answer {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let raw = resp.bytes().unwrap().to_vec();
    let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
        raw,
    }
}

/// Runs one of the Python scripts in `tests/python` with `args` (the interpreter is
/// `$SELLSYNC_PYTHON`, set by scripts/test to a virtualenv with the packages, else `python3`);
/// its output, after checking that it ended with "all ok".
pub fn run_python(script: &str, args: &[&str]) -> String {
    let python = std::env::var("SELLSYNC_PYTHON").unwrap_or_else(|_| "python3".into());
    let path = format!("{}/tests/python/{script}", env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(&python)
        .arg(path)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("all ok"),
        "{script} against the emulator failed (install its packages with scripts/test, or set SELLSYNC_PYTHON):\n{text}"
    );
    text
}

/// Places one paid order of `quantity` units of `sku`, created `age_seconds` ago; its order id
/// and its item's id.
pub fn one_order(api: &Api, sku: &str, quantity: i64, age_seconds: i64) -> (String, String) {
    let c = api.emu.control();
    let id = c
        .place_orders(&sellsync_emulator::OrderSeed {
            lines: vec![(sku.into(), quantity)],
            age_seconds,
            ..Default::default()
        })
        .unwrap()
        .remove(0);
    let item = c.order(&id).unwrap().items[0].order_item_id.clone();
    (id, item)
}
