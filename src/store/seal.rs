//! Buyer data sealed at rest: the key (from the configuration, a key file, or made at first
//! open into a key file beside the store), and sealing and opening one order's recipient with
//! XChaCha20-Poly1305 (a random 24-byte nonce per seal; the order id is associated data, so a
//! sealed blob moved to another order does not open). A key never shows itself in `Debug`,
//! logs, errors or events, and its bytes are wiped when dropped.

use crate::error::{quote, Error, Result};
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

/// Bytes of a key.
pub const KEY_LEN: usize = 32;
/// The first byte of every sealed blob: the format (XChaCha20-Poly1305, nonce, ciphertext).
const FORMAT: u8 = 1;
/// Bytes of the nonce.
const NONCE_LEN: usize = 24;
/// Associated data of a recipient: this prefix, then the order id.
const RECIPIENT_AD: &[u8] = b"sellsync/recipient/v1\0";
/// Associated data and plain text of the key check value.
const CHECK_AD: &[u8] = b"sellsync/key-check/v1";
const CHECK_TEXT: &[u8] = b"sellsync buyer data key";

/// A 256-bit key.
#[derive(Clone)]
pub struct Key(Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(***)")
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        // Constant time is not needed: keys are never compared with an attacker's guess.
        *self.0 == *other.0
    }
}

impl Key {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Key {
        let k = XChaCha20Poly1305::generate_key(&mut OsRng);
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        bytes.copy_from_slice(&k);
        Key(bytes)
    }

    /// Reads a key written as 64 hexadecimal digits or as base64 (standard alphabet, 44
    /// characters with padding) of 32 bytes; surrounding white space is ignored. `what` names
    /// the key in the error, which never repeats the text.
    pub fn parse(text: &str, what: &str) -> Result<Key> {
        let t = text.trim();
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        let ok = if t.len() == 2 * KEY_LEN && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            for (i, pair) in t.as_bytes().chunks(2).enumerate() {
                let hex = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
                bytes[i] = (hex(pair[0]) << 4) | hex(pair[1]);
            }
            true
        } else {
            let decoded = Zeroizing::new(
                base64::engine::general_purpose::STANDARD
                    .decode(t)
                    .unwrap_or_default(),
            );
            let fits = decoded.len() == KEY_LEN;
            if fits {
                bytes.copy_from_slice(&decoded);
            }
            fits
        };
        if ok {
            Ok(Key(bytes))
        } else {
            Err(Error::Config(format!(
                "{what} must be 32 bytes written as 64 hexadecimal digits or in base64"
            )))
        }
    }

    /// The key in base64, as a key file holds it.
    pub fn encode(&self) -> Zeroizing<String> {
        Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(*self.0))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&*self.0).into())
    }

    fn seal_with(&self, ad: &[u8], plain: &[u8]) -> Result<Vec<u8>> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: plain,
                    aad: ad,
                },
            )
            .map_err(|_| Error::Internal("buyer data could not be sealed".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(FORMAT);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn open_with(&self, ad: &[u8], blob: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if blob.len() < 1 + NONCE_LEN || blob[0] != FORMAT {
            return None;
        }
        let nonce = XNonce::from_slice(&blob[1..1 + NONCE_LEN]);
        self.cipher()
            .decrypt(
                nonce,
                Payload {
                    msg: &blob[1 + NONCE_LEN..],
                    aad: ad,
                },
            )
            .ok()
            .map(Zeroizing::new)
    }

    /// Seals an order's buyer data (a JSON document) bound to its order id.
    pub fn seal(&self, order_id: &str, plain: &[u8]) -> Result<Vec<u8>> {
        self.seal_with(&recipient_ad(order_id), plain)
    }

    /// Opens what `seal` sealed for the same order id with the same key; None otherwise (or
    /// when the blob was changed).
    pub fn open(&self, order_id: &str, blob: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        self.open_with(&recipient_ad(order_id), blob)
    }

    /// The key check value the store keeps: a known text sealed with this key.
    pub fn check_value(&self) -> Result<Vec<u8>> {
        self.seal_with(CHECK_AD, CHECK_TEXT)
    }

    /// Whether `check` was made by `check_value` of this key.
    pub fn opens_check(&self, check: &[u8]) -> bool {
        self.open_with(CHECK_AD, check)
            .is_some_and(|t| t.as_slice() == CHECK_TEXT)
    }
}

fn recipient_ad(order_id: &str) -> Vec<u8> {
    let mut ad = RECIPIENT_AD.to_vec();
    ad.extend_from_slice(order_id.as_bytes());
    ad
}

/// The key file made beside a store when the configuration names no key.
pub fn default_key_file(store_path: &str) -> String {
    format!("{store_path}.key")
}

/// Reads a key file (the key in base64 or hex); None when the file does not exist.
pub fn read_key_file(path: &str) -> Result<Option<Key>> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let bytes = Zeroizing::new(bytes);
            let text = std::str::from_utf8(&bytes).map_err(|_| bad_file(path))?;
            Key::parse(text, "the key file")
                .map(Some)
                .map_err(|_| bad_file(path))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Config(format!(
            "cannot read the key file {}: {e}",
            quote(path)
        ))),
    }
}

fn bad_file(path: &str) -> Error {
    Error::Config(format!(
        "the key file {} does not hold a key (32 bytes in base64 or as 64 hexadecimal digits)",
        quote(path)
    ))
}

/// Writes `key` into a new key file, readable and writable by its owner only (mode 0600
/// whatever the umask), synced to disk. An existing file is never overwritten.
pub fn create_key_file(path: &str, key: &Key) -> Result<()> {
    let fail = |e: std::io::Error| {
        Error::Config(format!("cannot create the key file {}: {e}", quote(path)))
    };
    let mut file = super::files::create_private(path).map_err(fail)?;
    use std::io::Write as _;
    let text = key.encode();
    file.write_all(text.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(fail)?;
    // The file's name is durable too.
    if let Some(dir) = std::path::Path::new(path).parent() {
        let dir = if dir.as_os_str().is_empty() {
            std::path::Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_data_opens_only_for_its_order_with_its_key() {
        let k = Key::generate();
        let blob = k.seal("111-1", b"{\"name\":\"Jane\"}").unwrap();
        assert!(!blob.windows(4).any(|w| w == b"Jane"));
        assert_eq!(
            k.open("111-1", &blob).unwrap().as_slice(),
            b"{\"name\":\"Jane\"}"
        );
        assert!(k.open("111-2", &blob).is_none(), "moved to another order");
        assert!(
            Key::generate().open("111-1", &blob).is_none(),
            "another key"
        );
        let mut changed = blob.clone();
        *changed.last_mut().unwrap() ^= 1;
        assert!(k.open("111-1", &changed).is_none(), "changed");
        // A fresh nonce per seal.
        assert_ne!(
            k.seal("111-1", b"x").unwrap(),
            k.seal("111-1", b"x").unwrap()
        );
        assert!(k.opens_check(&k.check_value().unwrap()));
        assert!(!Key::generate().opens_check(&k.check_value().unwrap()));
    }

    #[test]
    fn keys_parse_from_hex_and_base64_and_never_print() {
        let k = Key::generate();
        let b64 = k.encode();
        assert_eq!(Key::parse(&b64, "privacy.key").unwrap(), k);
        let hex: String = k.0.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(Key::parse(&format!(" {hex}\n"), "privacy.key").unwrap(), k);
        for bad in [
            "",
            "abcd",
            &hex[..62],
            "not base64 at all!!!!!!!!!!!!!!!!!!!!!!!!!",
        ] {
            let e = Key::parse(bad, "privacy.key").unwrap_err().to_string();
            assert!(
                e.contains("privacy.key") && (bad.is_empty() || !e.contains(bad)),
                "{e}"
            );
        }
        assert_eq!(format!("{k:?}"), "Key(***)");
    }
}
