//! The diagnostic codes validation emits, documented in the shape of [`crate::codes::CodeDoc`]
//! (so the project's catalogue can include them).

use crate::codes::{doc, CodeDoc};
use crate::diagnostic::Severity::{Error, Warning};

pub const CODES: &[CodeDoc] = &[
    doc("resource-name", Error, "The resource's `metadata.name` is missing, longer than 253 characters, or not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.').", "kind: IPPool\nmetadata:\n  name: My_Pool", "Rename it; the fix suggests a valid name."),
    doc("metadata-labels", Error, "A label key is not a qualified name, or a label value is longer than 63 characters or has characters Kubernetes refuses.", "metadata:\n  labels:\n    team: \"a b\"", "Use letters, digits, '-', '_' and '.', starting and ending with a letter or digit."),
    doc("metadata-annotations", Error, "An annotation key is not a qualified name, or all annotations together exceed 256 KiB.", "metadata:\n  annotations:\n    projectcalico.org$label: x", "Fix the key, or move large data out of annotations."),
    doc("pool-cidr-missing", Error, "An IPPool has no `spec.cidr` (P1).", "kind: IPPool\nspec:\n  blockSize: 26", "Add the pool's CIDR."),
    doc("pool-cidr-invalid", Error, "An IPPool's `spec.cidr` is not a CIDR (P2); the CRD also refuses a bare address.", "spec:\n  cidr: 10.0.0.0/33", "Write a network with its prefix length, such as 10.244.0.0/16."),
    doc("pool-cidr-not-masked", Error, "An IPPool's CIDR has host bits set (P3, C10).", "spec:\n  cidr: 10.0.0.1/24", "Use the network address; the fix gives it."),
    doc("pool-block-size-range", Error, "`blockSize` is outside 20–32 (IPv4) or 116–128 (IPv6) (C13), or outside the CRD's 0–128.", "spec:\n  cidr: 10.0.0.0/16\n  blockSize: 19", "Pick a block size in range (0 means the default 26/122)."),
    doc("pool-too-small", Error, "An enabled pool is smaller than one block (C14); `blockSize` defaults to 26 (IPv4) or 122 (IPv6).", "spec:\n  cidr: 10.0.0.0/27", "Use a larger CIDR, a block size at least the pool's prefix length, or `disabled: true`."),
    doc("pool-ipip-vxlan", Error, "`ipipMode` and `vxlanMode` are both enabled (C1).", "spec:\n  ipipMode: Always\n  vxlanMode: Always", "Keep one encapsulation; set the other to Never."),
    doc("pool-ipip-ipv6", Error, "IPIP is enabled on an IPv6 pool (C4).", "spec:\n  cidr: fd00::/48\n  ipipMode: Always", "Set `ipipMode: Never`; use VXLAN for encapsulated IPv6."),
    doc("pool-link-local", Error, "The pool overlaps 169.254.0.0/16 or fe80::/10 (C11, C12).", "spec:\n  cidr: 169.254.0.0/15", "Choose a range outside the link-local ranges."),
    doc("pool-lb-encap", Error, "A LoadBalancer pool enables IPIP or VXLAN (C2).", "spec:\n  allowedUses: [LoadBalancer]\n  vxlanMode: Always", "Set the modes to Never."),
    doc("pool-lb-mixed-uses", Error, "LoadBalancer is combined with Workload or Tunnel in `allowedUses` (C3).", "spec:\n  allowedUses: [LoadBalancer, Workload]", "Use separate pools."),
    doc("pool-lb-bgp-export", Error, "A LoadBalancer pool sets `disableBGPExport: true` (C5).", "spec:\n  allowedUses: [LoadBalancer]\n  disableBGPExport: true", "Set `disableBGPExport: false`."),
    doc("pool-lb-node-selector", Error, "A LoadBalancer pool's `nodeSelector` is not exactly `all()` (C6).", "spec:\n  allowedUses: [LoadBalancer]\n  nodeSelector: has(edge)", "Set `nodeSelector: all()`."),
    doc("pool-tunnel-namespace-selector", Error, "A pool that allows Tunnel (the default when `allowedUses` is empty) has a `namespaceSelector` (C7).", "spec:\n  namespaceSelector: team == \"a\"", "Set `allowedUses: [Workload]`."),
    doc("pool-global-selector", Error, "A pool selector contains `global(` (C8, C9).", "spec:\n  nodeSelector: global()", "Use `all()` or a label selector."),
    doc("pool-unknown-use", Error, "`allowedUses` lists something other than Workload, Tunnel or LoadBalancer (P9).", "spec:\n  allowedUses: [Garbage]", "Use the exact names (case matters)."),
    doc("pool-mode-invalid", Error, "`ipipMode`/`vxlanMode` is not Never, Always or CrossSubnet, or `assignmentMode` is not Automatic or Manual.", "spec:\n  ipipMode: never", "Use the exact names (case matters)."),
    doc("pool-selector-syntax", Error, "`nodeSelector`/`namespaceSelector` is not valid selector syntax (P10); only calicoctl and the Calico API server check this.", "spec:\n  nodeSelector: this is not a selector", "Fix the selector; see Calico's selector syntax."),
    doc("pool-legacy-field", Error, "The read-only APIv1 fields `ipip` or `nat-outgoing` are set.", "spec:\n  nat-outgoing: true", "Use `ipipMode` / `natOutgoing`."),
    doc("pool-overlap", Error, "Two IP pools' CIDRs overlap (P6).", "spec:\n  cidr: 10.0.0.0/16   # and another pool 10.0.0.0/8", "Give each pool its own range."),
    doc("pool-outside-cluster-cidr", Error, "A pool is not inside the cluster pod CIDR of the kubeadm ClusterConfiguration.", "networking:\n  podSubnet: 10.244.0.0/16   # pool 10.96.0.0/16", "Move the pool inside the pod CIDR."),
    doc("reservation-cidr-invalid", Error, "An IPReservation entry is not a CIDR (the Go validator also takes a bare address; the CRD does not).", "spec:\n  reservedCIDRs: [garbage]", "Write CIDRs; one address is a /32 or /128."),
    doc("reservation-cidr-not-masked", Warning, "A reservation entry has host bits; Calico reserves its whole network.", "spec:\n  reservedCIDRs: [10.0.0.5/24]", "Write the network you mean to reserve (or a /32)."),
    doc("reservation-outside-pools", Warning, "An IPReservation CIDR intersects no pool, so it reserves nothing.", "spec:\n  reservedCIDRs: [192.168.0.0/24]", "Reserve addresses inside a pool, or remove the entry."),
    doc("ipam-config-name", Error, "An IPAMConfiguration/IPAMConfig is not named `default`; Calico refuses it (clientv3) and IPAM never reads it.", "kind: IPAMConfiguration\nmetadata:\n  name: mine", "Name it `default`."),
    doc("ipam-config-range", Error, "`maxBlocksPerHost` is negative or above the CRD's maximum, `ipCooldownSeconds` is outside 0–1200, or `kubeVirtVMAddressPersistence` is not Enabled/Disabled.", "spec:\n  maxBlocksPerHost: -1", "Use a value in range."),
    doc("ipam-config-strict-auto", Warning, "`strictAffinity` and `autoAllocateBlocks` are both false; `calicoctl ipam configure` refuses this, direct writes accept it.", "spec:\n  strictAffinity: false\n  autoAllocateBlocks: false", "Enable one of them."),
    doc("ipam-config-max-blocks-strict", Warning, "`maxBlocksPerHost` is set without `strictAffinity: true`; `calicoctl ipam configure` refuses this, direct writes accept it.", "spec:\n  maxBlocksPerHost: 4", "Set `strictAffinity: true`."),
    doc(
        "ipam-config-auto-allocate-unset",
        Warning,
        "A `projectcalico.org/v3` IPAMConfiguration leaves `autoAllocateBlocks` unset: kubectl stores the CRD default true, calicoctl very likely stores false.",
        "kind: IPAMConfiguration\nspec:\n  strictAffinity: true",
        "Write `autoAllocateBlocks: true` (or false) explicitly.",
    ),
    doc("ipam-config-windows-strict", Error, "A Windows node exists but strict affinity is off; Calico IPAM on Windows refuses to run.", "kind: Node\nmetadata:\n  labels:\n    kubernetes.io/os: windows", "Set `strictAffinity: true` in the `default` IPAMConfiguration."),
    doc("block-affinity-deleted", Error, "A BlockAffinity is written with `deleted: true`.", "kind: BlockAffinity\nspec:\n  deleted: true", "Do not write internal IPAM objects by hand."),
    doc("annotation-malformed", Error, "An `ipAddrs`/`ipAddrsNoIpam`/`ipv4pools`/`ipv6pools`/`ipFamilies`/`floatingIPs` value Calico cannot parse (not a JSON list of strings, empty, not an IP, …).", "cni.projectcalico.org/ipAddrs: 10.0.0.5", "Write a JSON list: '[\"10.0.0.5\"]'."),
    doc("annotation-conflict", Error, "`ipAddrs` and `ipAddrsNoIpam` on the same pod.", "cni.projectcalico.org/ipAddrs: '[\"10.0.0.5\"]'\ncni.projectcalico.org/ipAddrsNoIpam: '[\"10.0.0.6\"]'", "Keep one."),
    doc("static-ip-multiple-per-family", Error, "More than one IPv4 (or IPv6) address in `ipAddrs`.", "cni.projectcalico.org/ipAddrs: '[\"10.0.0.5\", \"10.0.0.6\"]'", "List at most one address per family."),
];

/// Looks up one of validation's codes.
pub fn find(code: &str) -> Option<&'static CodeDoc> {
    CODES.iter().find(|c| c.code == code)
}
