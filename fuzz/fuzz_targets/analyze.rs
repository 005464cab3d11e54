//! YAML/JSON ingestion and validation: any bytes must give diagnostics, never a panic or a hang.
//! The bytes are read as the CLI reads a file, so text that is not UTF-8 is reported where it
//! breaks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (text, invalid_utf8_at) = ipam_core::text_from_bytes(data.to_vec());
    let source = ipam_core::Source::new(Some("fuzz.yaml"), &text).with_invalid_utf8_at(invalid_utf8_at);
    let _ = ipam_core::check(&[source]);
});
