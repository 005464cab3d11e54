//! The CNI annotation parsers: any value decodes or is refused with a located error, never a
//! panic. The first byte picks which parser sees the rest; the whole `read` path (pod values,
//! namespace inheritance, the ipAddrs/ipAddrsNoIpam conflict) runs on a split of the input.
#![no_main]

use ipam_core::model::annotations::{
    decode_string_list, parse_floating_ips, parse_ip_families, parse_ip_list, parse_pool_list,
    read, FLOATING_IPS, IPV4_POOLS, IPV6_POOLS, IP_ADDRS, IP_ADDRS_NO_IPAM, IP_FAMILIES,
};
use ipam_core::model::{Meta, Spanned};
use ipam_core::Pos;
use libfuzzer_sys::fuzz_target;

/// The annotation keys `read` looks at, in the order the selector bits index them.
const KEYS: [&str; 6] = [
    IPV4_POOLS,
    IPV6_POOLS,
    IP_FAMILIES,
    IP_ADDRS,
    IP_ADDRS_NO_IPAM,
    FLOATING_IPS,
];

fn spanned(text: &str) -> Spanned<String> {
    Spanned::new(text.to_owned(), Pos { line: 1, column: 1 })
}

/// Builds a `Meta` whose annotations are the `\x00`-separated parts of `text`, each keyed by
/// the next selector bit set in `mask` (so every combination of keys is reachable).
fn meta(mask: u8, text: &str) -> Meta {
    let mut parts = text.split('\0');
    let mut annotations = Vec::new();
    for (i, key) in KEYS.iter().enumerate() {
        if mask & (1 << i) != 0 {
            let value = parts.next().unwrap_or("");
            annotations.push((spanned(key), spanned(value)));
        }
    }
    Meta {
        annotations,
        ..Meta::default()
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let value = spanned(&text);
    match selector % 6 {
        0 => {
            // What decodes must be a list of exactly the strings serde_json sees.
            if let Ok(list) = decode_string_list(&text) {
                let again = serde_json::to_string(&list).expect("strings serialise");
                assert_eq!(decode_string_list(&again).as_ref(), Ok(&list));
            }
        }
        1 => {
            if let Ok(ips) = parse_ip_list(IP_ADDRS, &value) {
                // At most one address per family, and never an empty list.
                assert!(!ips.ips.is_empty() && ips.ips.len() <= 2);
                if ips.ips.len() == 2 {
                    assert_ne!(ips.ips[0].is_ipv4(), ips.ips[1].is_ipv4());
                }
            }
        }
        2 => {
            let _ = parse_pool_list(IPV6_POOLS, &value);
        }
        3 => {
            if let Ok(families) = parse_ip_families(&value) {
                assert!(families.ipv4 || families.ipv6);
            }
        }
        4 => {
            let _ = parse_floating_ips(&value);
        }
        _ => {
            // The pod's keys from the low bits, the namespace's from the high bits.
            let (pod_text, ns_text) = text.split_once('\u{1}').unwrap_or((&text, ""));
            let pod = meta(selector >> 2, pod_text);
            let namespace = meta(selector.rotate_left(3), ns_text);
            let with_namespace = selector & 1 == 0;
            let (_, problems) = read(&pod, with_namespace.then_some(&namespace));
            for problem in problems {
                assert!(!problem.error.message.is_empty());
            }
        }
    }
});
