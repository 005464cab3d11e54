//! The block-affinity records of the state, grouped by host.

use ipnet::IpNet;
use rustc_hash::FxHashMap;

use super::affinity_key;
use crate::ipam::types::BlockAffinity;

/// The affinity records, keyed by their datastore name `<host>-<cidr dashed>`. Every request
/// reads one host's records, so they are grouped by host in a hash map, each host's sorted by
/// name (a host has a few); the whole set in datastore order, which only listings want, is
/// sorted on demand. This does what an ordered map of every record did, with less code in the
/// site, and a request's look-up hashes the host instead of comparing names down a tree.
#[derive(Clone, Debug, Default)]
pub(super) struct AffinityRecords {
    by_host: FxHashMap<String, Vec<(String, BlockAffinity)>>,
}

impl AffinityRecords {
    /// The host's records with their names, in datastore order.
    pub fn of_host(&self, host: &str) -> &[(String, BlockAffinity)] {
        self.by_host.get(host).map_or(&[], Vec::as_slice)
    }

    /// Stores `record` under its name, replacing the record of that name; returns it.
    pub fn insert(&mut self, record: BlockAffinity) -> &mut BlockAffinity {
        let name = affinity_key(&record.host, &record.cidr);
        let records = self.by_host.entry(record.host.clone()).or_default();
        let at = match records.binary_search_by(|(other, _)| other.as_str().cmp(&name)) {
            Ok(at) => {
                records[at].1 = record;
                at
            }
            Err(at) => {
                records.insert(at, (name, record));
                at
            }
        };
        &mut records[at].1
    }

    /// The record of `host` for the block `cidr`.
    pub fn get_mut(&mut self, host: &str, cidr: &IpNet) -> Option<&mut BlockAffinity> {
        let name = affinity_key(host, cidr);
        let records = self.by_host.get_mut(host)?;
        let at = records
            .binary_search_by(|(other, _)| other.as_str().cmp(&name))
            .ok()?;
        records.get_mut(at).map(|(_, record)| record)
    }

    /// Removes the record of `host` for the block `cidr`, if there is one.
    pub fn remove(&mut self, host: &str, cidr: &IpNet) {
        let name = affinity_key(host, cidr);
        let Some(records) = self.by_host.get_mut(host) else {
            return;
        };
        if let Ok(at) = records.binary_search_by(|(other, _)| other.as_str().cmp(&name)) {
            records.remove(at);
        }
        if records.is_empty() {
            self.by_host.remove(host);
        }
    }

    /// Every record, in no particular order, for work whose outcome does not depend on it.
    pub fn unordered(&self) -> impl Iterator<Item = &BlockAffinity> + '_ {
        self.by_host
            .values()
            .flat_map(|records| records.iter().map(|(_, record)| record))
    }

    /// Every record, in datastore order (by name).
    pub fn in_order(&self) -> Vec<&BlockAffinity> {
        let mut named: Vec<&(String, BlockAffinity)> = self.by_host.values().flatten().collect();
        // Keyed by a copy of the name: the sort is then the one the block listing already has.
        named.sort_by_cached_key(|(name, _)| name.clone());
        named.into_iter().map(|(_, record)| record).collect()
    }
}
