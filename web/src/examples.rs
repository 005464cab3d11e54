//! The example gallery: a healthy cluster and the mistakes users of Calico static IPs hit most
//! (`shared/spec/peers-and-user-pains.md` §3), each a complete, real manifest set.

/// One example: what the gallery shows and the text it loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Example {
    /// Stable identifier, the file name without `.yaml`; used by `?embed&example=<id>`.
    pub id: &'static str,
    pub title: &'static str,
    /// What the example shows, in one sentence.
    pub summary: &'static str,
    pub text: &'static str,
    /// The existing cluster the text is reviewed against; empty for a plain example.
    pub existing: &'static str,
}

macro_rules! example {
    ($id:literal, $title:literal, $summary:literal) => {
        Example {
            id: $id,
            title: $title,
            summary: $summary,
            text: include_str!(concat!("../../static/examples/", $id, ".yaml")),
            existing: "",
        }
    };
}

/// A review example: `static/examples/<prefix>-change.yaml` reviewed against
/// `static/examples/<prefix>-live.yaml`.
macro_rules! review_example {
    ($id:literal, $prefix:literal, $title:literal, $summary:literal) => {
        Example {
            id: $id,
            title: $title,
            summary: $summary,
            text: include_str!(concat!("../../static/examples/", $prefix, "-change.yaml")),
            existing: include_str!(concat!("../../static/examples/", $prefix, "-live.yaml")),
        }
    };
}

pub const EXAMPLES: &[Example] = &[
    example!(
        "healthy-cluster",
        "Healthy cluster",
        "Two nodes, an IPIP pool, a manual pool for static IPs and a reservation."
    ),
    example!(
        "unmasked-pool-cidr",
        "Pool CIDR not masked",
        "10.244.1.0/16 has host bits set; Calico wants 10.244.0.0/16."
    ),
    example!(
        "static-ip-outside-pools",
        "Static IP outside every pool",
        "A typo puts the requested address outside the only pool."
    ),
    example!(
        "duplicate-static-ip",
        "Two pods, one static IP",
        "Both LDAP pods ask for 10.245.0.10; the second cannot start."
    ),
    example!(
        "static-ip-on-deployment",
        "Static IP on a 3-replica Deployment",
        "Every replica asks for the same address."
    ),
    example!(
        "namespace-selector-default-uses",
        "namespaceSelector with default allowedUses",
        "The default uses include Tunnel, which a namespaceSelector forbids."
    ),
    example!(
        "small-pool-many-nodes",
        "/21 pool, /26 blocks, 40 nodes",
        "Room for 32 blocks; the last 8 nodes find none."
    ),
    example!(
        "strict-affinity-wrong-node",
        "Strict affinity, static IP on the wrong node",
        "The address lies in a block another node owns."
    ),
    example!(
        "node-without-pool",
        "A node no pool selects",
        "Pools select zones a and b; node-c is in zone c."
    ),
];

/// Changes reviewed against a live cluster (the "Existing cluster" input filled in).
pub const REVIEW_EXAMPLES: &[Example] = &[review_example!(
    "review-pool-changes",
    "review",
    "Review: pool changes on a live cluster",
    "A blockSize change Calico refuses, a pool disabled in use, a running pod's address changed."
)];

/// The example shown on a first visit.
pub fn default_example() -> &'static Example {
    &EXAMPLES[0]
}

pub fn find(id: &str) -> Option<&'static Example> {
    EXAMPLES.iter().chain(REVIEW_EXAMPLES).find(|e| e.id == id)
}
