//! Generated inputs: a /8 pool with /26 blocks and pods from Deployments pinned to nodes.

use std::fmt::Write;

pub struct ClusterShape {
    pub nodes: usize,
    pub pods: usize,
    pub pool_prefix: u8,
    pub block_size: u8,
}

impl ClusterShape {
    pub fn new(nodes: usize, pods: usize) -> ClusterShape {
        ClusterShape {
            nodes,
            pods,
            pool_prefix: 8,
            block_size: 26,
        }
    }

    /// A /22 pool (16 blocks of /26) asked for far more pods than it holds.
    pub fn exhausting() -> ClusterShape {
        ClusterShape {
            nodes: 20,
            pods: 2_000,
            pool_prefix: 22,
            block_size: 26,
        }
    }

    pub fn pods_on(&self, node: usize) -> usize {
        self.pods / self.nodes + usize::from(node < self.pods % self.nodes)
    }

    pub fn manifest(&self) -> String {
        self.manifest_with_replicas(|node| self.pods_on(node))
    }

    /// The same documents with `replicas: 0`: what the planner does before the first pod
    /// (reading, validating, starting the nodes), which no allocator can avoid.
    pub fn manifest_without_pods(&self) -> String {
        self.manifest_with_replicas(|_| 0)
    }

    fn manifest_with_replicas(&self, replicas: impl Fn(usize) -> usize) -> String {
        let mut out = String::with_capacity(self.nodes * 400);
        let _ = write!(
            out,
            "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: bench\nspec:\n  cidr: 10.0.0.0/{}\n  blockSize: {}\n",
            self.pool_prefix, self.block_size
        );
        for node in 0..self.nodes {
            let _ = write!(
                out,
                "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: node-{node}\n"
            );
        }
        for node in 0..self.nodes {
            let _ = write!(
                out,
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{node}\n  namespace: default\nspec:\n  replicas: {}\n  template:\n    spec:\n      nodeName: node-{node}\n      containers:\n        - name: app\n          image: app\n",
                replicas(node)
            );
        }
        out
    }
}

/// About `lines` lines of typical manifests: pools, reservations, namespaces and pods.
pub fn manifest_lines(lines: usize) -> String {
    let mut out = String::new();
    let mut i = 0usize;
    // Each iteration writes 22 lines.
    while i * 22 < lines {
        let _ = write!(
            out,
            "---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: pool-{i}\nspec:\n  cidr: 10.{}.{}.0/24\n  blockSize: 28\n  nodeSelector: rack == \"r{}\" && !has(edge)\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-{i}\n  namespace: ns-{}\n  annotations:\n    cni.projectcalico.org/ipAddrs: '[\"10.{}.{}.5\"]'\nspec:\n  nodeName: node-{}\n  containers:\n    - name: c\n      image: busybox\n",
            (i / 256) % 256,
            i % 256,
            i % 7,
            i % 13,
            (i / 256) % 256,
            i % 256,
            i % 50
        );
        i += 1;
    }
    out
}
