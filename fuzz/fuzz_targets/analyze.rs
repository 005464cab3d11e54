//! YAML/JSON ingestion and validation: any bytes must give diagnostics, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = ipam_core::check(&[ipam_core::Source::new(Some("fuzz.yaml"), &text)]);
});
