//! What a host's requests learnt about its blocks, kept between requests.
//!
//! Every `AutoAssign` walks the host's affine blocks in datastore order, and, when none has room,
//! its pools' blocks in rotation order, as Calico does. On a node with thousands of full blocks
//! (small blocks and a raised `maxBlocksPerHost`) each request would walk all of them again, and
//! a plan would take time quadratic in its pods. A full block stays full, and a claimed block
//! stays claimed, until some write frees an address or changes who owns which block: Calico's
//! walk would pass over them in exactly the same way. So each host keeps the blocks not yet found
//! full, and how far along each pool's rotation every block is known to be unusable, stamped
//! with [`Ipam::reshapes`](super::Ipam) and thrown away once that count moves.

use ipnet::IpNet;

use crate::net::Family;
use crate::sorted_chunks::SortedChunks;

/// One host's walks, for requests of one kind, family and set of pools.
#[derive(Clone, Debug)]
pub(super) struct HostWalk {
    /// `Ipam::reshapes` when this was built: it is stale once that count has moved.
    pub epoch: u64,
    /// The affinity type of the requests (`host` or `virtual`).
    pub kind: &'static str,
    pub family: Family,
    /// The pools that select the host (`determinePools`), as indices into `Ipam::pools`.
    pub selecting: Vec<usize>,
    /// The pools the requests may use: those of `selecting` that allow the use.
    pub pools: Vec<usize>,
    /// How many of the host's affinity records lie in `pools`: the block cap counts these.
    pub affine_count: usize,
    /// Affine blocks whose record still needs confirming.
    pub unconfirmed: Vec<IpNet>,
    /// The affine blocks not found full (or wholly reserved), in datastore order (by record
    /// name, whose `<host>-` prefix they all share, so by the dashed CIDR). A request takes
    /// them from the front; the full ones it meets are dropped.
    pub live: SortedChunks<(String, IpNet)>,
    /// Blocks claimed for the host since the current request began. Calico's request does not
    /// walk the blocks it claims itself, so they join `live` when the next request starts.
    pub claimed: Vec<IpNet>,
    /// Per pool of `pools`: how many steps of the host's rotation order pass only over blocks
    /// that are wholly reserved or claimed and unusable for the host.
    pub pool_dead_prefix: Vec<u128>,
    /// How many of the host's records outside its pools failed to be released when this was
    /// built. Calico tries again on every request and fails the same way while nothing changes,
    /// which still counts as a write.
    pub failed_releases: u64,
}

impl HostWalk {
    /// Whether a request of this kind, family and pools can use this walk at `epoch`.
    pub fn fits(
        &self,
        epoch: u64,
        kind: &str,
        family: Family,
        selecting: &[usize],
        pools: &[usize],
    ) -> bool {
        self.kind == kind
            && self.family == family
            && self.selecting == selecting
            && self.is_current(epoch, pools)
    }

    /// Whether nothing has reshaped the state since this was built (at `epoch`) and it walks
    /// `pools`: what a request that already chose this walk checks again before using it.
    pub fn is_current(&self, epoch: u64, pools: &[usize]) -> bool {
        self.epoch == epoch && self.pools == pools
    }
}
