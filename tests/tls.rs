//! Connections: HTTPS with TLS 1.2 or later and verified certificates, an extra root
//! certificate for a proxy that inspects TLS, a configured proxy (CONNECT) whose password is
//! never shown, and the environment's proxy only when asked for. Each test serves the
//! emulator over TLS with its own certificate authority, made in the test.

mod common;

use common::*;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use sellsync::{Config, Engine, Error};
use sellsync_emulator::{Emulator, Seller};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;

/// A certificate authority of the test's own.
struct Pki {
    root_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Pki {
    fn new() -> Pki {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "sellsync test root");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let root = params.self_signed(&key).unwrap();
        Pki {
            root_pem: root.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A server certificate for `names`, and its key, signed by this authority.
    fn leaf(&self, names: &[&str]) -> (rcgen::Certificate, KeyPair) {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        (params.signed_by(&key, &self.issuer).unwrap(), key)
    }

    /// Writes the root certificate to a PEM file in `dir`.
    fn root_file(&self, dir: &Path) -> PathBuf {
        let path = dir.join("extra-root.pem");
        std::fs::write(&path, &self.root_pem).unwrap();
        path
    }
}

/// A TLS server configuration with `cert` offering only `versions`.
fn server_tls(
    cert: &rcgen::Certificate,
    key: &KeyPair,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der());
    Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], key.into())
            .unwrap(),
    )
}

/// Servers of a test, on their own runtime (stopped when dropped).
struct Net {
    rt: tokio::runtime::Runtime,
}

impl Net {
    fn new() -> Net {
        Net {
            rt: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap(),
        }
    }

    fn listen(&self) -> (TcpListener, SocketAddr) {
        let l = self.rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let a = l.local_addr().unwrap();
        (l, a)
    }

    /// Serves `upstream` (the emulator) over TLS with `tls`.
    fn tls_front(&self, tls: Arc<rustls::ServerConfig>, upstream: SocketAddr) -> SocketAddr {
        let (listener, addr) = self.listen();
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        self.rt.spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    if let Ok(mut up) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                    }
                });
            }
        });
        addr
    }

    /// A CONNECT proxy: records each request head it gets, and tunnels to the named host
    /// (or answers 407 to everything when `refuse`).
    fn connect_proxy(&self, refuse: bool) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
        let (listener, addr) = self.listen();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let heads = seen.clone();
        self.rt.spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let heads = heads.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match client.read(&mut byte).await {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    heads.lock().unwrap().push(head.clone());
                    let target = head
                        .strip_prefix("CONNECT ")
                        .and_then(|r| r.split(' ').next())
                        .map(|t| t.replace("localhost", "127.0.0.1"));
                    let (Some(target), false) = (target, refuse) else {
                        let _ = client
                            .write_all(
                                b"HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n",
                            )
                            .await;
                        return;
                    };
                    let Ok(mut up) = TcpStream::connect(target).await else {
                        return;
                    };
                    if client
                        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        .await
                        .is_ok()
                    {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
                    }
                });
            }
        });
        (addr, seen)
    }

    /// A server that speaks only TLS 1.1: it keeps the first ClientHello record it gets and
    /// answers with a TLS 1.1 ServerHello.
    fn tls11_server(&self) -> (SocketAddr, Arc<Mutex<Option<Vec<u8>>>>) {
        let (listener, addr) = self.listen();
        let hello = Arc::new(Mutex::new(None));
        let kept = hello.clone();
        self.rt.spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                let mut header = [0u8; 5];
                if tcp.read_exact(&mut header).await.is_err() {
                    continue;
                }
                let mut body = vec![0u8; u16::from_be_bytes([header[3], header[4]]) as usize];
                if tcp.read_exact(&mut body).await.is_err() {
                    continue;
                }
                kept.lock()
                    .unwrap()
                    .get_or_insert([&header[..], &body[..]].concat());
                // ServerHello: version 3.2 (TLS 1.1), a zero random, no session id,
                // TLS_RSA_WITH_AES_128_CBC_SHA, no compression, no extensions.
                let mut hs = vec![0x03, 0x02];
                hs.extend_from_slice(&[0u8; 32]);
                hs.extend_from_slice(&[0x00, 0x00, 0x2f, 0x00]);
                let mut msg = vec![0x02, 0x00, 0x00, hs.len() as u8];
                msg.extend_from_slice(&hs);
                let mut record = vec![0x16, 0x03, 0x02, 0x00, msg.len() as u8];
                record.extend_from_slice(&msg);
                let _ = tcp.write_all(&record).await;
                let mut rest = Vec::new();
                let _ = tcp.read_to_end(&mut rest).await;
            }
        });
        (addr, hello)
    }
}

/// The protocol versions a ClientHello record offers: its legacy version and the list of its
/// supported_versions extension.
fn offered_versions(record: &[u8]) -> (u16, Vec<u16>) {
    let u16_at = |i: usize| u16::from_be_bytes([record[i], record[i + 1]]);
    assert_eq!(record[0], 0x16, "a handshake record");
    assert_eq!(record[5], 0x01, "a ClientHello");
    let legacy = u16_at(9);
    let mut i = 11 + 32; // version, random
    i += 1 + record[i] as usize; // session id
    i += 2 + u16_at(i) as usize; // cipher suites
    i += 1 + record[i] as usize; // compression methods
    let end = i + 2 + u16_at(i) as usize;
    i += 2;
    let mut supported = Vec::new();
    while i + 4 <= end {
        let (kind, len) = (u16_at(i), u16_at(i + 2) as usize);
        if kind == 0x002b {
            let list = &record[i + 5..i + 5 + record[i + 4] as usize];
            supported = list
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
        }
        i += 4 + len;
    }
    (legacy, supported)
}

/// A configuration for the demo seller at `https://HOST:PORT` (the emulator behind TLS), with
/// `http` members added to the http section and `extra` at the top level.
fn config(dir: &Path, host: &str, port: u16, http: &str, extra: &str) -> String {
    let s = Seller::demo();
    format!(
        r#"{{"store_path": {:?}, "seller_id": "{}", "marketplace_ids": ["ATVPDKIKX0DER"],
            "endpoint": "https://{host}:{port}",
            "credentials": {{"client_id": "{}", "client_secret": "{}", "refresh_token": "{}"}},
            "http": {{"timeout_ms": 5000, "max_attempts": 2, "backoff_initial_ms": 1, "backoff_max_ms": 5{http}}}{extra}}}"#,
        dir.join("store.sqlite"),
        s.seller_id,
        s.client_id,
        s.client_secret,
        s.refresh_token
    )
}

fn open_with(config: &str) -> Engine {
    Engine::open(Config::from_json(config).expect("config")).expect("engine opens")
}

/// One orders sync: Ok, or the status name and message of its error.
fn sync(engine: &Engine) -> Result<(), (String, String)> {
    engine
        .sync_now(1, SYNC)
        .map(|_| ())
        .map_err(|e| (sellsync::status_name(&e).to_string(), e.to_string()))
}

/// An emulator with one paid order.
fn shop() -> Emulator {
    let emu = emulator(1000.0);
    seed_listings(&emu, 1, 10);
    place_orders(&emu, 1, false, None);
    emu
}

#[test]
fn an_unknown_root_is_refused_naming_the_certificate_and_the_extra_root_lets_it_through() {
    let emu = shop();
    let net = Net::new();
    let pki = Pki::new();
    let (cert, key) = pki.leaf(&["localhost", "127.0.0.1"]);
    let front = net.tls_front(server_tls(&cert, &key, rustls::ALL_VERSIONS), emu.addr());
    let dir = tempdir();
    let root = pki.root_file(dir.path());

    let plain = open_with(&config(dir.path(), "localhost", front.port(), "", ""));
    let (status, message) = sync(&plain).unwrap_err();
    assert_eq!(status, "NETWORK", "{message}");
    assert!(
        message.contains("certificate") && message.contains("UnknownIssuer"),
        "the message says the certificate was refused, and why: {message}"
    );
    assert!(
        message.contains("http.extra_root_cert_pem"),
        "and what to do: {message}"
    );
    assert_eq!(emu.control().count("lwaToken", 200), 0);
    drop(plain);

    let trusting = open_with(&config(
        dir.path(),
        "localhost",
        front.port(),
        &format!(r#", "extra_root_cert_pem": {root:?}"#),
        "",
    ));
    sync(&trusting).expect("the extra root is trusted");
    assert_eq!(drain(&trusting).len(), 1);
    // The built-in roots stay: the extra one is added, not the only one (checked by reqwest's
    // configuration, not here: no public server is reached from tests).
}

#[test]
fn a_certificate_for_another_host_is_refused() {
    let emu = shop();
    let net = Net::new();
    let pki = Pki::new();
    let (cert, key) = pki.leaf(&["sellingpartnerapi-na.amazon.com"]);
    let front = net.tls_front(server_tls(&cert, &key, rustls::ALL_VERSIONS), emu.addr());
    let dir = tempdir();
    let root = pki.root_file(dir.path());
    let engine = open_with(&config(
        dir.path(),
        "localhost",
        front.port(),
        &format!(r#", "extra_root_cert_pem": {root:?}"#),
        "",
    ));
    let (status, message) = sync(&engine).unwrap_err();
    assert_eq!(status, "NETWORK", "{message}");
    assert!(
        message.contains("certificate not valid for name"),
        "{message}"
    );
    assert_eq!(emu.control().count("lwaToken", 200), 0);
}

#[test]
fn tls_1_2_is_the_oldest_version_offered_and_accepted() {
    let emu = shop();
    let net = Net::new();
    let pki = Pki::new();
    let (cert, key) = pki.leaf(&["localhost"]);
    let dir = tempdir();
    let root = pki.root_file(dir.path());
    let http = format!(r#", "extra_root_cert_pem": {root:?}"#);

    // A server that offers TLS 1.2 only is reached.
    let tls12 = net.tls_front(
        server_tls(&cert, &key, &[&rustls::version::TLS12]),
        emu.addr(),
    );
    let engine = open_with(&config(dir.path(), "localhost", tls12.port(), &http, ""));
    sync(&engine).expect("TLS 1.2 is accepted");
    drop(engine);

    // A server that speaks TLS 1.1 is not.
    let (old, hello) = net.tls11_server();
    let engine = open_with(&config(dir.path(), "localhost", old.port(), &http, ""));
    let (status, message) = sync(&engine).unwrap_err();
    assert_eq!(status, "NETWORK", "{message}");
    let hello = hello
        .lock()
        .unwrap()
        .clone()
        .expect("a ClientHello arrived");
    let (legacy, supported) = offered_versions(&hello);
    assert_eq!(legacy, 0x0303, "the ClientHello says TLS 1.2");
    assert!(
        !supported.is_empty() && supported.iter().all(|v| *v >= 0x0303),
        "nothing older than TLS 1.2 is offered: {supported:04x?}"
    );
}

#[test]
fn a_configured_proxy_carries_the_connections_and_its_password_is_never_shown() {
    let emu = shop();
    let net = Net::new();
    let pki = Pki::new();
    let (cert, key) = pki.leaf(&["localhost"]);
    let front = net.tls_front(server_tls(&cert, &key, rustls::ALL_VERSIONS), emu.addr());
    let dir = tempdir();
    let root = pki.root_file(dir.path());
    let (proxy, seen) = net.connect_proxy(false);
    let http = |proxy: SocketAddr| {
        format!(
            r#", "extra_root_cert_pem": {root:?}, "proxy": "http://shop-proxy-user:pr0xy-passw0rd@127.0.0.1:{}""#,
            proxy.port()
        )
    };
    let text = config(dir.path(), "localhost", front.port(), &http(proxy), "");
    let parsed = Config::from_json(&text).unwrap();
    assert!(!format!("{parsed:?}").contains("pr0xy-passw0rd"));
    let engine = Engine::open(parsed).unwrap();
    let logs = Arc::new(Mutex::new(Vec::new()));
    let sink = logs.clone();
    engine
        .set_log_callback(
            4,
            Some(Box::new(move |_, l: &str| {
                sink.lock().unwrap().push(l.to_string())
            })),
        )
        .unwrap();
    sync(&engine).expect("the sync goes through the proxy");
    assert_eq!(drain(&engine).len(), 1);
    let heads = seen.lock().unwrap().clone();
    assert!(!heads.is_empty());
    let expected_auth = "Basic c2hvcC1wcm94eS11c2VyOnByMHh5LXBhc3N3MHJk"; // user:password
    for head in &heads {
        assert!(
            head.starts_with(&format!("CONNECT localhost:{} HTTP/1.1\r\n", front.port())),
            "{head}"
        );
        assert!(
            head.to_ascii_lowercase().contains(&format!(
                "proxy-authorization: {}",
                expected_auth.to_ascii_lowercase()
            )),
            "{head}"
        );
    }
    drop(engine);

    // A proxy that refuses, and one that is not there: the errors never show the password.
    let (refusing, _) = net.connect_proxy(true);
    let (gone, gone_addr) = net.listen();
    drop(gone);
    for proxy in [refusing, gone_addr] {
        let text = config(dir.path(), "localhost", front.port(), &http(proxy), "");
        let engine = open_with(&text);
        let sink = logs.clone();
        engine
            .set_log_callback(
                4,
                Some(Box::new(move |_, l: &str| {
                    sink.lock().unwrap().push(l.to_string())
                })),
            )
            .unwrap();
        let (status, message) = sync(&engine).unwrap_err();
        assert_eq!(status, "NETWORK", "{message}");
        for e in events(&engine) {
            assert!(!e.to_string().contains("pr0xy-passw0rd"), "{e}");
            assert!(!e.to_string().contains("shop-proxy-user"), "{e}");
        }
        assert!(!message.contains("pr0xy-passw0rd"), "{message}");
        assert!(!message.contains("shop-proxy-user"), "{message}");
    }
    let logs = logs.lock().unwrap();
    assert!(!logs.is_empty());
    for line in logs.iter() {
        assert!(
            !line.contains("pr0xy-passw0rd") && !line.contains("shop-proxy-user"),
            "{line}"
        );
    }
}

#[test]
fn the_environment_proxy_is_used_only_when_asked_for() {
    let emu = shop();
    let net = Net::new();
    let pki = Pki::new();
    let (cert, key) = pki.leaf(&["localhost"]);
    let front = net.tls_front(server_tls(&cert, &key, rustls::ALL_VERSIONS), emu.addr());
    let dir = tempdir();
    let root = pki.root_file(dir.path());
    let (proxy, seen) = net.connect_proxy(false);
    // Only this test reads the environment's proxy; the others in this file ignore it.
    std::env::set_var("HTTPS_PROXY", format!("http://127.0.0.1:{}", proxy.port()));
    let http = format!(r#", "extra_root_cert_pem": {root:?}"#);

    let engine = open_with(&config(dir.path(), "localhost", front.port(), &http, ""));
    sync(&engine).unwrap();
    assert!(
        seen.lock().unwrap().is_empty(),
        "by default the environment does not choose the proxy"
    );
    drop(engine);

    let engine = open_with(&config(
        dir.path(),
        "localhost",
        front.port(),
        &format!(r#"{http}, "use_env_proxy": true"#),
        "",
    ));
    sync(&engine).unwrap();
    std::env::remove_var("HTTPS_PROXY");
    let heads = seen.lock().unwrap().clone();
    assert!(
        heads
            .iter()
            .any(|h| h.starts_with(&format!("CONNECT localhost:{}", front.port()))),
        "{heads:?}"
    );
}

#[test]
fn proxy_and_root_settings_are_checked_without_showing_the_proxy() {
    let dir = tempdir();
    let bad = |http: &str| match Config::from_json(&config(dir.path(), "localhost", 443, http, ""))
    {
        Err(Error::Config(m)) => m,
        other => panic!("{http}: expected a configuration error, got {other:?}"),
    };
    for proxy in [
        "socks5://user:pr0xy-passw0rd@proxy.local:1080",
        "pr0xy-passw0rd",
        "http://user:pr0xy-passw0rd@",
    ] {
        let m = bad(&format!(r#", "proxy": "{proxy}""#));
        assert!(m.contains("http.proxy"), "{m}");
        assert!(!m.contains("pr0xy-passw0rd") && !m.contains("user"), "{m}");
    }
    let m = bad(r#", "proxy": "http://127.0.0.1:3128", "use_env_proxy": true"#);
    assert!(m.contains("not both"), "{m}");
    let m = bad(r#", "extra_root_cert_pem": "/nonexistent/root.pem""#);
    assert!(
        m.contains("http.extra_root_cert_pem") && m.contains("cannot be read"),
        "{m}"
    );
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let m = bad(&format!(r#", "extra_root_cert_pem": {junk:?}"#));
    assert!(m.contains("http.extra_root_cert_pem"), "{m}");
    // A PEM block that parses, but whose content is no certificate TLS accepts: refused here,
    // naming the file, rather than when the handle opens.
    let hollow = dir.path().join("hollow.pem");
    std::fs::write(
        &hollow,
        "-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let m = bad(&format!(r#", "extra_root_cert_pem": {hollow:?}"#));
    assert!(
        m.contains("http.extra_root_cert_pem")
            && m.contains("hollow.pem")
            && m.contains("certificate 1"),
        "{m}"
    );
    // Plain HTTP stays refused, also through a proxy.
    let text = config(
        dir.path(),
        "localhost",
        443,
        r#", "proxy": "http://127.0.0.1:3128""#,
        "",
    )
    .replace("https://localhost", "http://localhost");
    assert!(matches!(Config::from_json(&text), Err(Error::Config(_))));
}
