//! The block-affinity records of the state, grouped by host.

use std::cmp::Ordering;

use ipnet::IpNet;
use rustc_hash::FxHashMap;

use super::affinity_key;
use crate::ipam::addr::dashed;
use crate::ipam::types::BlockAffinity;
use crate::sorted_chunks::SortedChunks;

/// The affinity records, keyed by their datastore name `<host>-<cidr dashed>`. Every request
/// reads one host's records, so they are grouped by host in a hash map, each host's in name
/// order; the whole set in datastore order, which only listings want, is sorted on demand. A
/// request's look-up hashes the host instead of comparing names down a tree. A host's records
/// are sorted chunks rather than one sorted vector: a node given a hundred thousand small
/// blocks would otherwise move half its records on every claim.
#[derive(Clone, Debug, Default)]
pub(super) struct AffinityRecords {
    by_host: FxHashMap<String, SortedChunks<Named>>,
}

/// A record under its datastore name, ordered by the name alone. Every name of one host's
/// records starts with `<host>-`, so only the rest, the block's dashed CIDR, is kept and
/// compared: the order is the same, and the strings shorter.
#[derive(Clone, Debug)]
struct Named {
    dashed_cidr: String,
    record: BlockAffinity,
}

impl PartialEq for Named {
    fn eq(&self, other: &Self) -> bool {
        self.dashed_cidr == other.dashed_cidr
    }
}

impl Eq for Named {}

impl PartialOrd for Named {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Named {
    fn cmp(&self, other: &Self) -> Ordering {
        self.dashed_cidr.cmp(&other.dashed_cidr)
    }
}

impl AffinityRecords {
    /// The host's records, in datastore order.
    pub fn of_host(&self, host: &str) -> impl Iterator<Item = &BlockAffinity> + '_ {
        self.by_host
            .get(host)
            .into_iter()
            .flat_map(|records| records.iter().map(|named| &named.record))
    }

    /// Stores `record` under its name, replacing the record of that name; returns whether the
    /// name is new.
    pub fn insert(&mut self, record: BlockAffinity) -> bool {
        let dashed_cidr = dashed(&record.cidr);
        let Some(records) = self.by_host.get_mut(&record.host) else {
            // The host's first record: only now is its name copied for the key.
            let mut records = SortedChunks::default();
            let host = record.host.clone();
            records.insert(Named {
                dashed_cidr,
                record,
            });
            self.by_host.insert(host, records);
            return true;
        };
        match records.get_mut_by(|other| other.dashed_cidr.cmp(&dashed_cidr)) {
            Some(named) => {
                named.record = record;
                false
            }
            None => records.insert(Named {
                dashed_cidr,
                record,
            }),
        }
    }

    /// The record of `host` for the block `cidr`.
    pub fn get_mut(&mut self, host: &str, cidr: &IpNet) -> Option<&mut BlockAffinity> {
        let name = dashed(cidr);
        let records = self.by_host.get_mut(host)?;
        records
            .get_mut_by(|other| other.dashed_cidr.cmp(&name))
            .map(|named| &mut named.record)
    }

    /// Removes the record of `host` for the block `cidr`, if there is one.
    pub fn remove(&mut self, host: &str, cidr: &IpNet) {
        let name = dashed(cidr);
        let Some(records) = self.by_host.get_mut(host) else {
            return;
        };
        records.remove_by(|other| other.dashed_cidr.cmp(&name));
        if records.is_empty() {
            self.by_host.remove(host);
        }
    }

    /// Every record, in no particular order, for work whose outcome does not depend on it.
    pub fn unordered(&self) -> impl Iterator<Item = &BlockAffinity> + '_ {
        self.by_host
            .values()
            .flat_map(|records| records.iter().map(|named| &named.record))
    }

    /// Every record, in datastore order (by name).
    pub fn in_order(&self) -> Vec<&BlockAffinity> {
        let mut records: Vec<&BlockAffinity> = self.unordered().collect();
        records.sort_by_cached_key(|record| affinity_key(&record.host, &record.cidr));
        records
    }
}
