//! The selector parser: any text parses or fails cleanly, and what parses prints a canonical
//! form that parses again to the same selector.
#![no_main]

use ipam_core::selector::Selector;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(selector) = Selector::parse(&text) {
        let canonical = selector.canonical();
        let again = Selector::parse(&canonical).expect("the canonical form parses");
        assert_eq!(again.canonical(), canonical);
    }
});
