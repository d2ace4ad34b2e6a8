//! Fixed-size, zero-padded text fields (zero_copy accounts cannot hold `String`).

/// Printable ASCII only: labels and URLs are shown to operators and must not carry
/// control characters or look-alike Unicode.
pub fn is_printable_ascii(s: &str) -> bool {
    s.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// A network name: 1–32 bytes of printable ASCII (it is a PDA seed).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= crate::constants::MAX_NAME_LEN && is_printable_ascii(name)
}

/// A region or provider label: at most 16 bytes of printable ASCII (may be empty).
pub fn valid_label(label: &str) -> bool {
    label.len() <= crate::constants::MAX_LABEL_LEN && is_printable_ascii(label)
}

/// The URL schemes an endpoint may use.
pub const URL_SCHEMES: [&str; 4] = ["http://", "https://", "ws://", "wss://"];

/// An endpoint URL: at most 128 bytes of printable ASCII, an http(s) or ws(s) scheme and
/// something after it.
pub fn valid_url(url: &str) -> bool {
    let scheme_ok = URL_SCHEMES
        .iter()
        .any(|s| url.len() > s.len() && url.starts_with(s));
    url.len() <= crate::constants::MAX_URL_LEN && scheme_ok && is_printable_ascii(url)
}

/// Copies `s` into a zero-padded array; the caller has checked the length.
pub fn to_fixed<const N: usize>(s: &str) -> [u8; N] {
    let mut out = [0u8; N];
    let n = s.len().min(N);
    out[..n].copy_from_slice(&s.as_bytes()[..n]);
    out
}

/// Reads a zero-padded array back as text (lossy: invalid UTF-8 cannot be stored by the
/// program, but decoding must never fail on foreign data).
pub fn from_fixed(bytes: &[u8]) -> &str {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    core::str::from_utf8(&bytes[..end]).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_pads() {
        let f: [u8; 8] = to_fixed("eu-west");
        assert_eq!(from_fixed(&f), "eu-west");
        assert_eq!(f[7], 0);
        let full: [u8; 4] = to_fixed("abcd");
        assert_eq!(from_fixed(&full), "abcd");
    }

    #[test]
    fn printable_ascii_rejects_controls_spaces_and_unicode() {
        assert!(is_printable_ascii("https://a.b/c?x=1"));
        assert!(!is_printable_ascii("a b"));
        assert!(!is_printable_ascii("a\nb"));
        assert!(!is_printable_ascii("é"));
    }
}
