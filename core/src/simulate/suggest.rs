//! Corrections the planner can offer with confidence: the pool an annotation entry most likely
//! meant, and a static address one keystroke away from a usable one.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::ipam::Pool;

/// The canonical value of a list annotation: a single-quoted YAML scalar holding JSON.
pub fn list_value(entries: &[String]) -> String {
    let quoted: Vec<String> = entries.iter().map(|e| format!("\"{e}\"")).collect();
    format!("'[{}]'", quoted.join(", "))
}

/// Whether `entry` already names an enabled pool the way `ResolvePools` and AutoAssign accept:
/// its resource name, or exactly its CIDR.
fn resolves(entry: &str, pools: &[Pool]) -> bool {
    match entry.parse::<IpNet>() {
        Ok(net) => pools
            .iter()
            .any(|p| p.is_enabled() && p.cidr == net.trunc()),
        Err(_) => pools.iter().any(|p| p.is_enabled() && p.name == entry),
    }
}

/// The enabled pool an unresolvable entry most likely means: the one pool containing a CIDR
/// that is a subset of it, or a name within two edits of the entry.
pub fn pool_entry(entry: &str, pools: &[Pool]) -> Option<String> {
    if resolves(entry, pools) {
        return None;
    }
    let enabled = pools.iter().filter(|p| p.is_enabled());
    match entry.parse::<IpNet>() {
        Ok(net) => {
            let mut containing = enabled.filter(|p| p.cidr.contains(&net));
            let first = containing.next()?;
            containing.next().is_none().then(|| first.name.clone())
        }
        Err(_) => enabled
            .map(|p| (edit_distance(entry, &p.name), &p.name))
            .filter(|(d, _)| *d <= 2)
            .min_by_key(|(d, _)| *d)
            .map(|(_, name)| name.clone()),
    }
}

/// An address one character away from `ip` (a digit changed, added or removed) that an enabled
/// pool allowing workloads contains, for a static address that is in no pool.
pub fn typo_fix(ip: IpAddr, pools: &[Pool]) -> Option<IpAddr> {
    let text = ip.to_string();
    let usable = |candidate: &IpAddr| {
        pools.iter().any(|p| {
            p.is_enabled()
                && p.allows(crate::net::AllowedUse::Workload)
                && p.cidr.contains(candidate)
        })
    };
    let digits = b"0123456789";
    let mut candidates: Vec<String> = Vec::new();
    for i in 0..text.len() {
        if !text.as_bytes()[i].is_ascii_digit() {
            continue;
        }
        for d in digits {
            let mut changed = text.clone();
            changed.replace_range(i..=i, char::from(*d).encode_utf8(&mut [0; 4]));
            candidates.push(changed);
        }
        let mut removed = text.clone();
        removed.remove(i);
        candidates.push(removed);
    }
    for i in 0..=text.len() {
        for d in digits {
            let mut inserted = text.clone();
            inserted.insert(i, char::from(*d));
            candidates.push(inserted);
        }
    }
    candidates
        .iter()
        .filter_map(|c| crate::net::parse_ip(c))
        .find(|candidate| *candidate != ip && usable(candidate))
}

/// Levenshtein distance, for pool names (short strings).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pools() -> Vec<Pool> {
        vec![
            Pool::new("default-ipv4-ippool", "10.244.0.0/16").unwrap(),
            Pool::new("static", "10.245.0.0/24").unwrap(),
        ]
    }

    #[test]
    fn resolves_subsets_and_near_names() {
        let pools = pools();
        assert_eq!(
            pool_entry("10.244.1.0/24", &pools).as_deref(),
            Some("default-ipv4-ippool")
        );
        assert_eq!(pool_entry("statc", &pools).as_deref(), Some("static"));
        assert_eq!(pool_entry("static", &pools), None);
        assert_eq!(pool_entry("elsewhere", &pools), None);
    }

    #[test]
    fn finds_one_digit_typos() {
        let pools = pools();
        // calico#5820: 10.224.200.20 was meant for the 10.244.0.0/16 pool.
        assert_eq!(
            typo_fix("10.224.200.20".parse().unwrap(), &pools),
            "10.244.200.20".parse().ok()
        );
        assert_eq!(typo_fix("192.168.1.1".parse().unwrap(), &pools), None);
    }
}
