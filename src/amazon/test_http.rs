//! A tiny HTTP/1.1 side for the client's unit tests: reads one request, writes one answer.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads one request: its head (request line and headers) and its body (`content-length`
/// bytes). None when the connection closes first.
pub async fn read_request(s: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let k = s.read(&mut buf).await.unwrap_or(0);
        got.extend_from_slice(&buf[..k]);
        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..i]).to_string();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap_or(0))
                })
                .unwrap_or(0);
            if got.len() >= i + 4 + len {
                return Some((head, got[i + 4..i + 4 + len].to_vec()));
            }
        }
        if k == 0 {
            return None;
        }
    }
}

/// Writes an answer of `status` with `body` of `content_type`, and closes the connection.
pub async fn answer(s: &mut TcpStream, status: u16, content_type: &str, body: &str) {
    let reply = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = s.write_all(reply.as_bytes()).await;
}
