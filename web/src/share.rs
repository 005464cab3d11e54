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

/// Calls `done` with the fragment (without `#`) that restores `text` and `existing`, or with
/// `None` where the browser cannot compress (it lacks `CompressionStream`). The browser
/// compresses asynchronously: `done` runs later, from a promise callback.
pub fn encode(text: &str, existing: &str, done: impl FnOnce(Option<String>) + 'static) {
    let (version, payload) = frame(text, existing);
    browser::deflate_raw(
        &payload,
        Box::new(move |packed| done(packed.map(|p| fragment(version, &p)))),
    );
}

/// Calls `done` with what a fragment (with or without its `#`) carries, or with `None` when it
/// is not a share fragment or is damaged. `done` runs at once for a fragment that is not a
/// share link, and later, from a promise callback, for one that is.
pub fn decode(fragment: &str, done: impl FnOnce(Option<Shared>) + 'static) {
    let Some((version, packed)) = split(fragment) else {
        return done(None);
    };
    browser::inflate_raw(
        &packed,
        MAX_TEXT,
        Box::new(move |payload| done(payload.and_then(|p| unframe(version, p)))),
    );
}

/// The version a link is written as and its payload before compression.
fn frame(text: &str, existing: &str) -> (&'static str, Vec<u8>) {
    if existing.is_empty() {
        return (V1, text.as_bytes().to_vec());
    }
    let mut payload = format!("{}:", existing.len()).into_bytes();
    payload.extend_from_slice(existing.as_bytes());
    payload.extend_from_slice(text.as_bytes());
    (V2, payload)
}

/// The fragment for a compressed payload.
fn fragment(version: &str, packed: &[u8]) -> String {
    let mut out = String::with_capacity(version.len() + packed.len() * 4 / 3 + 4);
    out.push_str(version);
    base64url_encode(packed, &mut out);
    out
}

/// A fragment's version and compressed payload, or `None` when it is not a share fragment.
fn split(fragment: &str) -> Option<(&'static str, Vec<u8>)> {
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    let (version, payload) = if let Some(payload) = fragment.strip_prefix(V1) {
        (V1, payload)
    } else {
        (V2, fragment.strip_prefix(V2)?)
    };
    Some((version, base64url_decode(payload)?))
}

/// The texts in a decompressed payload of `version`.
fn unframe(version: &str, payload: Vec<u8>) -> Option<Shared> {
    if version == V1 {
        return Some(Shared {
            text: String::from_utf8(payload).ok()?,
            existing: String::new(),
        });
    }
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

/// Raw DEFLATE by the browser's own `CompressionStream` and `DecompressionStream` (format
/// `deflate-raw`), so the page ships no compressor of its own. The bytes pass through a Blob's
/// stream and are read back chunk by chunk, which lets decompression stop at a size limit.
mod browser {
    use js_sys::{Array, Reflect, Uint8Array};
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    /// Receives the bytes that came out of a stream, or `None`.
    pub type Done = Box<dyn FnOnce(Option<Vec<u8>>)>;

    #[wasm_bindgen]
    extern "C" {
        /// A `ReadableStream` of byte chunks.
        type Stream;
        #[wasm_bindgen(method, js_name = pipeThrough)]
        fn pipe_through(this: &Stream, transform: &JsValue) -> Stream;
        #[wasm_bindgen(method, js_name = getReader)]
        fn get_reader(this: &Stream) -> Reader;

        /// A `ReadableStreamDefaultReader`.
        type Reader;
        #[wasm_bindgen(method)]
        fn read(this: &Reader) -> Chunk;
        #[wasm_bindgen(method)]
        fn cancel(this: &Reader) -> JsValue;

        type Blob;
        #[wasm_bindgen(constructor)]
        fn new(parts: &Array) -> Blob;
        #[wasm_bindgen(method)]
        fn stream(this: &Blob) -> Stream;

        type CompressionStream;
        #[wasm_bindgen(constructor, catch)]
        fn new(format: &str) -> Result<CompressionStream, JsValue>;

        type DecompressionStream;
        #[wasm_bindgen(constructor, catch)]
        fn new(format: &str) -> Result<DecompressionStream, JsValue>;

        /// The promise of the next chunk.
        type Chunk;
        /// `chunk.then(settled, settled)`: one function for both outcomes, so it is called
        /// exactly once and its closure freed.
        #[wasm_bindgen(method, js_name = then)]
        fn settle(this: &Chunk, fulfilled: &JsValue, rejected: &JsValue) -> JsValue;
    }

    pub fn deflate_raw(bytes: &[u8], done: Done) {
        match CompressionStream::new("deflate-raw") {
            Ok(transform) => pipe(bytes, &transform, usize::MAX, done),
            Err(_) => done(None),
        }
    }

    /// Passes the decompressed bytes to `done`, or `None` when they are damaged or longer than
    /// `limit`.
    pub fn inflate_raw(bytes: &[u8], limit: usize, done: Done) {
        match DecompressionStream::new("deflate-raw") {
            Ok(transform) => pipe(bytes, &transform, limit, done),
            Err(_) => done(None),
        }
    }

    /// Passes `bytes` through `transform` to `done`, or `None` when the stream fails or its
    /// output grows past `limit` (the stream is then cancelled, so no more of it is
    /// decompressed).
    fn pipe(bytes: &[u8], transform: &JsValue, limit: usize, done: Done) {
        let parts = Array::of1(&Uint8Array::from(bytes));
        let reader = Blob::new(&parts)
            .stream()
            .pipe_through(transform)
            .get_reader();
        read(reader, Vec::new(), limit, done);
    }

    /// Reads the next chunk into `out`, then the next, until the stream ends or fails.
    fn read(reader: Reader, mut out: Vec<u8>, limit: usize, done: Done) {
        let promise = reader.read();
        let settled = Closure::once_into_js(move |result: JsValue| {
            // A chunk is `{done, value}`; a failure (damaged data) settles with an error,
            // which has no `done`.
            let finished = Reflect::get(&result, &"done".into()).unwrap_or_default();
            if finished.is_undefined() {
                return done(None);
            }
            if finished.is_truthy() {
                return done(Some(out));
            }
            let value: Uint8Array = Reflect::get(&result, &"value".into())
                .unwrap_or_default()
                .unchecked_into();
            let start = out.len();
            let len = value.length() as usize;
            if len > limit - start {
                // The promise only settles the cancellation; there is nothing to wait for.
                let _ = reader.cancel();
                return done(None);
            }
            out.resize(start + len, 0);
            value.copy_to(&mut out[start..]);
            read(reader, out, limit, done);
        });
        let _ = promise.settle(&settled, &settled);
    }
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

    // The browser compresses on the page; natively, miniz_oxide (the compressor the page used
    // before, a dev-dependency only) stands in for it around the same framing and base64url.
    fn encode(text: &str, existing: &str) -> String {
        let (version, payload) = frame(text, existing);
        fragment(version, &miniz_oxide::deflate::compress_to_vec(&payload, 9))
    }

    fn decode(fragment: &str) -> Option<Shared> {
        let (version, packed) = split(fragment)?;
        let payload = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, MAX_TEXT).ok()?;
        unframe(version, payload)
    }

    fn pack(version: &str, payload: &[u8]) -> String {
        fragment(version, &miniz_oxide::deflate::compress_to_vec(payload, 9))
    }

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
    fn reads_links_the_page_wrote_before_the_browser_compressed() {
        // Written by the page when it compressed with miniz_oxide at level 9; the browser's
        // streams must keep opening them (tests/e2e/share.test.mjs opens the same links).
        let v1 = decode(
            "#v1:LcwxCsJAEEDRfk4xYO2aIChsKwh2qezH2VXGbHbCZLXOIaxsrD2HN_EEHsEItg_-n-GGjq8ncroMJRq-\
             xxtqCpgkt_h53EegXvbRBtHssTc9Ry5MSVid2mlxXUIrOXjcNY1qgi4WClTIA2KmLk7NxHNCRBj6yD9nCeax\
             rtzaVa5a1CuA_2RresjCVNTgCw",
        )
        .unwrap();
        assert_eq!(
            v1.text,
            "# Café cluster — old link 🚀\napiVersion: projectcalico.org/v3\nkind: IPPool\n\
             metadata:\n  name: pool-a   \nspec:\n  cidr: 10.7.0.0/16\n\n\nkind: Frobnicator\n"
        );
        assert_eq!(v1.existing, "");
        let v2 = decode(
            "v2:LclBCsIwEAXQ_Zzig_uYgBScGwguunIjLoZk0MEmKU3onTyHFyuFbt-7DCyzPXRpVgtjDfS1khh3a52s\
             a26M54tOmGxV_H9H38ax1omydknShQkokpURP1LeSm3WuGO0tDCCd1fnnT-HgTY",
        )
        .unwrap();
        assert_eq!(
            v2.text,
            "kind: IPPool\nmetadata:\n  name: change\nspec:\n  cidr: 10.9.0.0/16\n"
        );
        assert_eq!(
            v2.existing,
            "apiVersion: v1\nkind: List\nitems: []\n# live é\n"
        );
    }

    #[test]
    fn frames_payloads_by_version() {
        assert_eq!(frame("kind: A\n", ""), (V1, b"kind: A\n".to_vec()));
        assert_eq!(frame("t:1", "é:"), (V2, "3:é:t:1".as_bytes().to_vec()));
        assert_eq!(
            unframe(V2, "3:é:t:1".as_bytes().to_vec()),
            Some(Shared {
                text: "t:1".to_owned(),
                existing: "é:".to_owned()
            })
        );
        // A v1 payload is all text, colons included.
        assert_eq!(
            unframe(V1, b"3:abc".to_vec()).map(|s| s.text),
            Some("3:abc".to_owned())
        );
        assert_eq!(unframe(V1, vec![0xff]), None);
        assert_eq!(unframe(V2, b":abc".to_vec()), None);
        assert_eq!(unframe(V2, b"+1:abc".to_vec()), None);
        assert_eq!(unframe(V2, vec![b'1', b':', 0xff]), None);
        assert_eq!(split("#v1:Zm9v"), Some((V1, b"foo".to_vec())));
        assert_eq!(split("v2:Zm8"), Some((V2, b"fo".to_vec())));
        assert_eq!(split("v3:Zm8"), None);
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
