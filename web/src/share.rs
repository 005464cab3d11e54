//! Share links: the page's state travels in the URL fragment, which browsers never send to a
//! server. The version prefix tells the formats apart; `decode` must keep reading every version
//! it ever wrote.
//!
//! - `v1:` + base64url (no padding) of the raw-DEFLATE-compressed UTF-8 manifests. Written
//!   whenever there is no existing-cluster text, so such links stay as they always were.
//! - `v2:` + base64url of the raw-DEFLATE-compressed payload `<n>:<existing><manifests>`, where
//!   `<n>` is the byte length (decimal) of the existing-cluster text that follows the colon.

const V1: &str = "v1:";
const V2: &str = "v2:";

/// What a share link carries: the manifests (the change, in a review) and the existing
/// cluster's state (empty when there is none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shared {
    pub text: String,
    pub existing: String,
}

/// Decoded texts larger than this are refused, so a crafted link cannot exhaust memory.
const MAX_TEXT: usize = 4 << 20;

/// The fragment (without `#`) that restores `text` and `existing`.
pub fn encode(text: &str, existing: &str) -> String {
    if existing.is_empty() {
        return pack(V1, text.as_bytes());
    }
    let mut payload = format!("{}:", existing.len()).into_bytes();
    payload.extend_from_slice(existing.as_bytes());
    payload.extend_from_slice(text.as_bytes());
    pack(V2, &payload)
}

fn pack(version: &str, payload: &[u8]) -> String {
    let packed = miniz_oxide::deflate::compress_to_vec(payload, 9);
    let mut out = String::with_capacity(version.len() + packed.len() * 4 / 3 + 4);
    out.push_str(version);
    base64url_encode(&packed, &mut out);
    out
}

/// What a fragment (with or without its `#`) carries, or `None` when it is not a share fragment
/// or is damaged.
pub fn decode(fragment: &str) -> Option<Shared> {
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    if let Some(payload) = fragment.strip_prefix(V1) {
        let text = String::from_utf8(unpack(payload)?).ok()?;
        return Some(Shared {
            text,
            existing: String::new(),
        });
    }
    let payload = unpack(fragment.strip_prefix(V2)?)?;
    let colon = payload.iter().position(|&b| b == b':')?;
    let digits = std::str::from_utf8(&payload[..colon]).ok()?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let len: usize = digits.parse().ok()?;
    let rest = &payload[colon + 1..];
    if len > rest.len() {
        return None;
    }
    let (existing, text) = rest.split_at(len);
    Some(Shared {
        text: String::from_utf8(text.to_vec()).ok()?,
        existing: String::from_utf8(existing.to_vec()).ok()?,
    })
}

fn unpack(payload: &str) -> Option<Vec<u8>> {
    let packed = base64url_decode(payload)?;
    miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, MAX_TEXT).ok()
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
            let fragment = encode(text, "");
            assert!(fragment.starts_with("v1:"));
            assert!(
                fragment[3..].bytes().all(|b| ALPHABET.contains(&b)),
                "{fragment}"
            );
            assert_eq!(
                decode(&format!("#{fragment}")),
                Some(Shared {
                    text: text.to_owned(),
                    existing: String::new()
                })
            );
        }
    }

    #[test]
    fn round_trips_text_with_existing_state() {
        for (text, existing) in [
            ("", "kind: List\n"),
            ("kind: IPPool\n", "12:34\n# é 😀\n"),
            ("a:b", "x"),
        ] {
            let fragment = encode(text, existing);
            assert!(fragment.starts_with("v2:"), "{fragment}");
            let shared = decode(&format!("#{fragment}")).unwrap();
            assert_eq!(shared.text, text);
            assert_eq!(shared.existing, existing);
        }
    }

    #[test]
    fn reads_links_written_before_existing_state() {
        // A `v1:` link as the first format wrote it: "kind: Mine\n".
        let v1 = pack(V1, b"kind: Mine\n");
        let shared = decode(&v1).unwrap();
        assert_eq!(shared.text, "kind: Mine\n");
        assert_eq!(shared.existing, "");
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
        assert_eq!(decode(&pack(V2, b"no length")), None);
        assert_eq!(decode(&pack(V2, b"99:short")), None);
    }
}
