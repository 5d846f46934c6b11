//! A local emulator of the Amazon Selling Partner API.
//!
//! It serves, on loopback, the operations a POS/ERP connector uses (LWA tokens, Orders
//! v2026-01-01 and v0, Tokens, Sellers, Listings Items, Feeds, Reports) with the paths, JSON
//! shapes, status codes and usage-plan rate limits of Amazon's official models, keeps the
//! marketplace's state (listings, orders, shipments, cancellations, refunds), simulates buyers
//! and injects faults. It also serves the Notifications API v1 and an SQS-compatible queue
//! service on the same port, and publishes `ORDER_CHANGE` and
//! `LISTINGS_ITEM_MFN_QUANTITY_CHANGE` notifications into its queues. A control API under `/_emulator/` seeds and inspects it; the same
//! functions are available to Rust code through [`Emulator`].

mod api;
pub mod buyers;
pub mod carriers;
pub mod charges;
pub mod cli;
pub mod clock;
pub mod control;
pub mod faults;
pub mod health;
pub mod limits;
pub mod notify;
pub mod queues;
mod reply;
mod route;
pub mod sandbox;
pub mod search;
mod server;
pub mod settings;
pub mod sqs;
pub mod stock;
pub mod world;

pub use control::{ListingSeed, OrderSeed};
pub use faults::{Fault, FaultKind};
pub use settings::Settings;
pub use world::{CanceledBy, Seller, Status, World};

use server::Shared;
use std::net::SocketAddr;
use std::sync::Arc;

/// Country, currency and domain of a marketplace id.
pub fn marketplace(id: &str) -> (&'static str, &'static str, &'static str) {
    match id {
        "ATVPDKIKX0DER" => ("US", "USD", "Amazon.com"),
        "A2EUQ1WTGCTBG2" => ("CA", "CAD", "Amazon.ca"),
        "A1AM78C64UM0Y8" => ("MX", "MXN", "Amazon.com.mx"),
        "A1F83G8C2ARO7P" => ("GB", "GBP", "Amazon.co.uk"),
        "A1PA6795UKMFR9" => ("DE", "EUR", "Amazon.de"),
        "A13V1IB3VIYZZH" => ("FR", "EUR", "Amazon.fr"),
        "APJ6JRA9NG5V4" => ("IT", "EUR", "Amazon.it"),
        "A1RKKUPIHCS9HS" => ("ES", "EUR", "Amazon.es"),
        "A1VC38T7YXB528" => ("JP", "JPY", "Amazon.co.jp"),
        _ => ("US", "USD", "Amazon"),
    }
}

/// How to start an emulator.
#[derive(Clone, Debug)]
pub struct Config {
    /// Port on 127.0.0.1 (0 = any free port).
    pub port: u16,
    /// Multiplies every rate limit and divides every processing delay (1 = Amazon's real speed).
    pub rate_scale: f64,
    /// How fast the emulated clock runs against real time (1 = real time).
    pub clock_speed: f64,
    /// Lifetime of access tokens in emulated seconds (Amazon: 3600).
    pub token_lifetime_s: i64,
    /// Seed of every random choice.
    pub seed: u64,
    /// Answer the official models' static sandbox examples instead of the emulated marketplace.
    pub sandbox: bool,
    /// Sellers known from the start (see [`Seller::demo`]).
    pub sellers: Vec<Seller>,
    /// Feed processing, order pending and notification times and faults (also settable
    /// while running).
    pub settings: Settings,
    /// The AWS account id of the emulator's SQS queues (in their URLs and ARNs).
    pub aws_account_id: String,
    /// The AWS access key pair the emulator's SQS accepts.
    pub aws_credentials: sqs::AwsCredentials,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 0,
            rate_scale: 1.0,
            clock_speed: 1.0,
            token_lifetime_s: 3600,
            seed: 1,
            sandbox: false,
            sellers: vec![Seller::demo()],
            settings: Settings::default(),
            aws_account_id: queues::DEFAULT_ACCOUNT.into(),
            aws_credentials: sqs::AwsCredentials::default(),
        }
    }
}

impl Seller {
    /// The seller every emulator knows unless told otherwise; its credentials are public test values.
    pub fn demo() -> Seller {
        Seller {
            seller_id: "A2DEMOSELLER01".into(),
            client_id: "amzn1.application-oa2-client.emulator".into(),
            client_secret: "emulator-client-secret".into(),
            refresh_token: "Atzr|emulator-refresh-token".into(),
            marketplace_ids: vec!["ATVPDKIKX0DER".into(), "A2EUQ1WTGCTBG2".into()],
        }
    }
}

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Emulator {
    /// Starts an emulator on its own thread and runtime; returns once it accepts connections.
    pub fn start(config: Config) -> std::io::Result<Emulator> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", config.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let mut world = World::new(config.seed);
        world.settings = config.settings;
        for s in config.sellers {
            world.upsert_seller(s);
        }
        let shared = Arc::new(Shared {
            world: std::sync::Mutex::new(world),
            buckets: std::sync::Mutex::new(limits::Buckets::new(config.rate_scale)),
            faults: std::sync::Mutex::new(faults::Faults::default()),
            clock: clock::Clock::new(config.clock_speed),
            rate_scale: config.rate_scale,
            token_lifetime_s: config.token_lifetime_s,
            sandbox: config.sandbox,
            base_url: format!("http://{addr}"),
            buyers: std::sync::Mutex::new(None),
            queues: queues::Queues::new(&config.aws_account_id, &format!("http://{addr}")),
            aws: config.aws_credentials,
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = axum::Router::new()
            .fallback(server::dispatch)
            .with_state(shared.clone());
        let state = shared.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sp-api-emulator")
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("sp-api-emulator".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    tokio::spawn(buyers::run(state.clone()));
                    tokio::spawn(notify::run(state));
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = rx.await;
                        })
                        .await;
                });
                runtime.shutdown_timeout(std::time::Duration::from_secs(1));
            })?;
        Ok(Emulator {
            shared,
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The control API, callable directly from Rust.
    pub fn control(&self) -> control::Control<'_> {
        control::Control::new(&self.shared)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
