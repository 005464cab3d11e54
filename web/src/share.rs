//! Share links: the page's state travels in the URL fragment, which browsers never send to a
//! server. Format `v1:` + base64url (no padding) of the raw-DEFLATE-compressed UTF-8 text. The
//! version prefix lets a later format (say, text plus a selected block) be told apart; `decode`
//! must keep reading every version it ever wrote.

const V1: &str = "v1:";

/// Decoded texts larger than this are refused, so a crafted link cannot exhaust memory.
const MAX_TEXT: usize = 4 << 20;

/// The fragment (without `#`) that restores `text`.
pub fn encode(text: &str) -> String {
    let packed = miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 9);
    let mut out = String::with_capacity(V1.len() + packed.len() * 4 / 3 + 4);
    out.push_str(V1);
    base64url_encode(&packed, &mut out);
    out
}

/// The text a fragment (with or without its `#`) carries, or `None` when it is not a share
/// fragment or is damaged.
pub fn decode(fragment: &str) -> Option<String> {
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    let payload = fragment.strip_prefix(V1)?;
    let packed = base64url_decode(payload)?;
    let bytes = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, MAX_TEXT).ok()?;
    String::from_utf8(bytes).ok()
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url_encode(bytes: &[u8], out: &mut String) {
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
}

fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    // Links pasted from elsewhere may have gained padding or standard-alphabet characters.
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_text() {
        for text in [
            "",
            "a",
            "ab",
            "abc",
            "kind: IPPool\n# é 😀\n",
            &"x: 1\n".repeat(500),
        ] {
            let fragment = encode(text);
            assert!(fragment.starts_with("v1:"));
            assert!(
                fragment[3..].bytes().all(|b| ALPHABET.contains(&b)),
                "{fragment}"
            );
            assert_eq!(decode(&format!("#{fragment}")).as_deref(), Some(text));
        }
    }

    #[test]
    fn base64url_matches_the_rfc_vectors() {
        for (raw, coded) in [
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
        ] {
            let mut out = String::new();
            base64url_encode(raw.as_bytes(), &mut out);
            assert_eq!(out, coded);
            assert_eq!(base64url_decode(coded).unwrap(), raw.as_bytes());
        }
    }

    #[test]
    fn rejects_other_fragments() {
        assert_eq!(decode("#embed"), None);
        assert_eq!(decode("v2:abc"), None);
        assert_eq!(decode("v1:not base64!"), None);
        assert_eq!(decode("v1:AAAA"), None);
    }
}
