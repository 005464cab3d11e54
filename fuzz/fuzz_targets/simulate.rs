//! The cluster run, fed structured clusters: the fuzz bytes choose pools (prefixes, block sizes,
//! selectors, uses, modes), reservations, the IPAM configuration, nodes, namespaces and pods with
//! static IPs and pool annotations. The cluster is rendered as YAML and run through the whole
//! pipeline; the run must not panic, and what it hands out must respect Calico's invariants:
//! no address held twice, and every IPAM address inside an enabled pool and one of its blocks.
#![no_main]

use std::collections::HashSet;
use std::fmt::Write as _;
use std::net::IpAddr;

use ipam_core::simulate::AddressSource;
use ipam_core::{SimulationReport, Source};
use ipnet::IpNet;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

/// One generated pool, kept to check the run against.
struct PoolSpec {
    name: String,
    cidr: String,
    disabled: bool,
}

const SELECTORS: &[&str] = &[
    "all()",
    "",
    "zone == 'a'",
    "zone != 'a'",
    "!has(zone)",
    "zone in {'a', 'b'}",
    "has(kubernetes.io/os) && kubernetes.io/os == 'windows'",
    "((",
    "team == \"x\" || all()",
];
const USES: &[&str] = &["Workload", "Tunnel", "LoadBalancer", "Bogus"];
const MODES: &[&str] = &["Always", "CrossSubnet", "Never", "Sometimes"];

/// A pool CIDR near one of a few bases, so pools overlap, nest and collide often.
fn pool_cidr(u: &mut Unstructured<'_>, v6: bool) -> Result<(String, u8)> {
    if v6 {
        let prefix = match u.int_in_range(0u8..=9)? {
            0 => u.int_in_range(0u8..=128)?,
            _ => u.int_in_range(104u8..=128)?,
        };
        let group = u.int_in_range(0u16..=3)?;
        let low = u.int_in_range(0u16..=0x1ff)?;
        Ok((format!("fd00:{group}::{low:x}/{prefix}"), prefix))
    } else {
        let prefix = match u.int_in_range(0u8..=9)? {
            0 => u.int_in_range(0u8..=32)?,
            _ => u.int_in_range(20u8..=32)?,
        };
        let third = u.int_in_range(0u8..=3)?;
        let fourth = u.int_in_range(0u8..=255)?;
        Ok((format!("10.0.{third}.{fourth}/{prefix}"), prefix))
    }
}

/// An address likely to fall inside the generated pools (or just outside them).
fn address(u: &mut Unstructured<'_>, v6: bool) -> Result<String> {
    if v6 {
        let group = u.int_in_range(0u16..=3)?;
        let low = u.int_in_range(0u16..=0x3ff)?;
        Ok(format!("fd00:{group}::{low:x}"))
    } else {
        let third = u.int_in_range(0u8..=4)?;
        let fourth = u.int_in_range(0u8..=255)?;
        Ok(format!("10.0.{third}.{fourth}"))
    }
}

/// Writes `text` as a single-quoted YAML scalar.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn cluster(u: &mut Unstructured<'_>) -> Result<(String, Vec<PoolSpec>)> {
    let mut yaml = String::new();
    let mut pools = Vec::new();
    if u.arbitrary()? {
        let strict: bool = u.arbitrary()?;
        let auto: bool = u.arbitrary()?;
        let max = u.int_in_range(0u8..=4)?;
        let _ = write!(
            yaml,
            "---\napiVersion: projectcalico.org/v3\nkind: IPAMConfiguration\nmetadata: {{name: default}}\nspec: {{strictAffinity: {strict}, autoAllocateBlocks: {auto}, maxBlocksPerHost: {max}}}\n"
        );
    }
    if u.arbitrary()? {
        // The CNI configuration decides whether pods get IPv6 (and IPv4) at all.
        let v4: bool = u.arbitrary()?;
        let v6: bool = u.arbitrary()?;
        let _ = write!(
            yaml,
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: calico-config, namespace: kube-system}}\ndata:\n  cni_network_config: '{{\"name\": \"k8s-pod-network\", \"cniVersion\": \"0.3.1\", \"plugins\": [{{\"type\": \"calico\", \"ipam\": {{\"type\": \"calico-ipam\", \"assign_ipv4\": \"{v4}\", \"assign_ipv6\": \"{v6}\"}}}}]}}'\n"
        );
    }
    for i in 0..u.int_in_range(1u8..=4)? {
        let v6 = u.ratio(1u8, 3)?;
        let (cidr, prefix) = pool_cidr(u, v6)?;
        let max = if v6 { 128 } else { 32 };
        let block = match u.int_in_range(0u8..=7)? {
            0 => u.int_in_range(0u8..=130)?,
            _ => u.int_in_range(prefix.max(max - 6)..=max)?,
        };
        let name = format!("pool-{i}");
        let disabled: bool = u.ratio(1u8, 5)?;
        let _ = write!(
            yaml,
            "---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {{name: {name}}}\nspec:\n  cidr: {cidr}\n  blockSize: {block}\n  disabled: {disabled}\n  nodeSelector: {}\n  ipipMode: {}\n  vxlanMode: {}\n",
            quoted(u.choose(SELECTORS)?),
            u.choose(MODES)?,
            u.choose(MODES)?,
        );
        if u.arbitrary()? {
            let _ = writeln!(
                yaml,
                "  namespaceSelector: {}",
                quoted(u.choose(SELECTORS)?)
            );
        }
        if u.arbitrary()? {
            let uses: Vec<&str> = (0..u.int_in_range(0u8..=2)?)
                .map(|_| u.choose(USES).copied())
                .collect::<Result<_>>()?;
            let _ = writeln!(yaml, "  allowedUses: [{}]", uses.join(", "));
        }
        if u.ratio(1u8, 4)? {
            let _ = writeln!(yaml, "  assignmentMode: Manual");
        }
        pools.push(PoolSpec {
            name,
            cidr,
            disabled,
        });
    }
    for i in 0..u.int_in_range(0u8..=2)? {
        let _ = write!(
            yaml,
            "---\napiVersion: projectcalico.org/v3\nkind: IPReservation\nmetadata: {{name: r{i}}}\nspec:\n  reservedCIDRs:\n"
        );
        for _ in 0..u.int_in_range(1u8..=3)? {
            let v6: bool = u.arbitrary()?;
            let ip = address(u, v6)?;
            let prefix = if v6 {
                u.int_in_range(112u8..=128)?
            } else {
                u.int_in_range(24u8..=32)?
            };
            let _ = writeln!(yaml, "    - {ip}/{prefix}");
        }
    }
    let nodes = u.int_in_range(0u8..=4)?;
    for i in 0..nodes {
        let zone = u.choose(&["a", "b"])?;
        let os = if u.ratio(1u8, 6)? { "windows" } else { "linux" };
        let _ = write!(
            yaml,
            "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: node-{i}\n  labels: {{zone: {zone}, kubernetes.io/os: {os}}}\n"
        );
    }
    for i in 0..u.int_in_range(0u8..=2)? {
        let _ = write!(
            yaml,
            "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-{i}\n  labels: {{team: x}}\n"
        );
        if u.arbitrary()? {
            let pool = u.choose(&pools)?;
            let _ = write!(
                yaml,
                "  annotations:\n    cni.projectcalico.org/ipv4pools: '[\"{}\"]'\n",
                pool.name
            );
        }
    }
    for i in 0..u.int_in_range(0u8..=12)? {
        let workload = u.ratio(1u8, 5)?;
        let namespace = u.choose(&["default", "ns-0", "ns-1"])?;
        let mut annotations = Vec::new();
        if u.ratio(1u8, 3)? {
            let mut ips = vec![format!("\"{}\"", address(u, false)?)];
            if u.arbitrary()? {
                ips.push(format!("\"{}\"", address(u, true)?));
            }
            let key = if u.ratio(1u8, 5)? {
                "ipAddrsNoIpam"
            } else {
                "ipAddrs"
            };
            annotations.push(format!(
                "cni.projectcalico.org/{key}: '[{}]'",
                ips.join(", ")
            ));
        }
        if u.ratio(1u8, 3)? {
            let pool = u.choose(&pools)?;
            let entry = if u.arbitrary()? {
                &pool.name
            } else {
                &pool.cidr
            };
            let key = if u.arbitrary()? {
                "ipv4pools"
            } else {
                "ipv6pools"
            };
            annotations.push(format!("cni.projectcalico.org/{key}: '[\"{entry}\"]'"));
        }
        if u.ratio(1u8, 6)? {
            let families = u.choose(&["[\"IPv4\"]", "[\"IPv6\"]", "[\"IPv4\", \"IPv6\"]", "[]"])?;
            annotations.push(format!("cni.projectcalico.org/ipFamilies: '{families}'"));
        }
        let node = if nodes > 0 && u.arbitrary()? {
            format!("\n  nodeName: node-{}", u.int_in_range(0..=nodes - 1)?)
        } else if u.ratio(1u8, 8)? {
            "\n  nodeName: elsewhere".to_owned()
        } else {
            String::new()
        };
        let host_network = if u.ratio(1u8, 10)? {
            "\n  hostNetwork: true"
        } else {
            ""
        };
        let annotations = if annotations.is_empty() {
            String::new()
        } else {
            format!("\n  annotations:\n    {}", annotations.join("\n    "))
        };
        if workload {
            let replicas = u.int_in_range(0u8..=8)?;
            let kind = u.choose(&["Deployment", "StatefulSet", "DaemonSet"])?;
            let indented_annotations = annotations.replace('\n', "\n    ");
            let indented_spec = format!("{node}{host_network}").replace('\n', "\n    ");
            let _ = write!(
                yaml,
                "---\napiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: w{i}, namespace: {namespace}}}\nspec:\n  replicas: {replicas}\n  template:\n    metadata:\n      labels: {{app: w{i}}}{indented_annotations}\n    spec:{indented_spec}\n      containers: [{{name: c, image: i}}]\n"
            );
        } else {
            let _ = write!(
                yaml,
                "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\n  namespace: {namespace}{annotations}\nspec:{node}{host_network}\n  containers: [{{name: c, image: i}}]\n"
            );
        }
    }
    Ok((yaml, pools))
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok((yaml, pools)) = cluster(&mut u) else {
        return;
    };
    let (_, simulation) = ipam_core::plan(&[Source::new(Some("fuzz.yaml"), &yaml)]);
    let report = SimulationReport::from(&simulation);
    assert_eq!(report.pods.len(), simulation.pods.len());

    let enabled: Vec<IpNet> = pools
        .iter()
        .filter(|p| !p.disabled)
        .filter_map(|p| p.cidr.parse::<IpNet>().ok())
        .map(|net| net.trunc())
        .collect();
    let blocks: Vec<IpNet> = simulation
        .blocks
        .iter()
        .map(|b| b.cidr.parse::<IpNet>().expect("block CIDRs print as CIDRs"))
        .collect();
    let unique_blocks: HashSet<&IpNet> = blocks.iter().collect();
    assert_eq!(
        unique_blocks.len(),
        blocks.len(),
        "a block listed twice\n{yaml}"
    );

    // Every address IPAM handed out: pods' (except ipAddrsNoIpam, used verbatim) and tunnels'.
    let mut handed_out: Vec<(IpAddr, String)> = Vec::new();
    for pod in &simulation.pods {
        if matches!(pod.source, AddressSource::Static | AddressSource::Auto) {
            for ip in &pod.ips {
                handed_out.push((*ip, format!("pod {}/{}", pod.namespace, pod.name)));
            }
        }
    }
    for tunnel in &simulation.tunnels {
        handed_out.push((
            tunnel.ip,
            format!("{} tunnel of {}", tunnel.kind.as_str(), tunnel.node),
        ));
    }
    let mut seen: HashSet<IpAddr> = HashSet::new();
    for (ip, holder) in &handed_out {
        assert!(
            seen.insert(*ip),
            "{ip} handed out twice (again to {holder})\n{yaml}"
        );
        assert!(
            enabled.iter().any(|pool| pool.contains(ip)),
            "{ip} of {holder} is in no enabled pool\n{yaml}"
        );
        assert!(
            blocks.iter().any(|block| block.contains(ip)),
            "{ip} of {holder} is in no block\n{yaml}"
        );
    }
});
