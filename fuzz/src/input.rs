//! How a target's input is cut up: a first line naming what it exercises, then its arguments.

use std::ffi::CString;

/// Splits `data` at its first newline into a selector among `names` and the rest. A first
/// line that is no name still selects one (by its bytes), so every input exercises something.
pub fn select<'a>(data: &'a [u8], names: &[&str]) -> (usize, &'a [u8]) {
    let (head, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &data[data.len()..]),
    };
    let by_name = names.iter().position(|n| n.as_bytes() == head);
    let index = by_name
        .unwrap_or_else(|| head.iter().map(|&b| usize::from(b)).sum::<usize>() % names.len());
    (index, if by_name.is_some() { rest } else { data })
}

/// Splits `data` at its first newline: the first line as text (lossy) and the rest.
pub fn first_line(data: &[u8]) -> (String, &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (
            String::from_utf8_lossy(&data[..i]).into_owned(),
            &data[i + 1..],
        ),
        None => (
            String::from_utf8_lossy(data).into_owned(),
            &data[data.len()..],
        ),
    }
}

/// The bytes a C caller would pass: everything up to the first NUL.
pub fn until_nul(data: &[u8]) -> &[u8] {
    data.split(|&b| b == 0).next().unwrap_or(data)
}

/// Cuts `data` at NUL bytes into `n` C strings; the ones missing are None (a NULL pointer), and
/// all are when `data` is empty.
pub fn c_args(data: &[u8], n: usize) -> Vec<Option<CString>> {
    let mut parts = data.split(|&b| b == 0).filter(|_| !data.is_empty());
    (0..n)
        .map(|_| parts.next().map(|p| CString::new(p).expect("split at NUL")))
        .collect()
}

/// The pointer of an optional C string (NULL for None).
pub fn ptr(s: &Option<CString>) -> *const std::ffi::c_char {
    s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr())
}
