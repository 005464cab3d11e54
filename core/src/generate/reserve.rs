//! Keeping a range for manual use (spec §1.2, §3.1, user pains 11, 12): an IPReservation of a
//! CIDR inside a pool, or a new pool that automatic assignment never uses (`!all()`, Manual,
//! Workload only) for a CIDR outside every pool.

use std::net::IpAddr;

use ipnet::IpNet;

use super::{new_problems, problems, resource_name, GenerateError, Generated};
use crate::model::Model;
use crate::net::{BlockSize, PoolCidr};
use crate::simulate::{AddressUse, Simulation};
use crate::Source;

/// How many in-use addresses a note lists by name before it only counts.
const LISTED_IN_USE: usize = 8;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReserveRangeRequest {
    /// The range, strictly masked (`10.244.10.0/28`).
    pub cidr: String,
    /// The resource name; derived from the CIDR when empty.
    pub name: String,
    /// A new Manual `!all()` pool for a CIDR outside every pool, instead of an IPReservation of
    /// a CIDR inside one.
    pub as_manual_pool: bool,
}

pub(super) fn generate(
    input: &str,
    request: &ReserveRangeRequest,
) -> Result<Generated, GenerateError> {
    let (analysis, simulation) = crate::plan(&[Source::new(None, input)]);
    let model = &analysis.model;
    // `check` reports exactly the plan's diagnostics, so the input's own problems are known.
    let baseline = problems(&simulation.diagnostics);
    if request.as_manual_pool {
        let cidr = new_pool_cidr(model, &request.cidr)?;
        let taken: Vec<&str> = model.pools.iter().map(|p| p.name()).collect();
        let name = pick_name(&request.name, "manual", &cidr.to_string(), &taken, "pool")?;
        let block_size = block_size_for(cidr);
        let mut generated = Generated {
            title: format!("Manual pool {name} for {cidr}"),
            text: manual_pool_manifest(&name, cidr, block_size),
            edit: None,
            notes: vec![
                format!(
                    "Automatic assignment never takes an address of {cidr}: the pool is `assignmentMode: Manual` and selects no node (`!all()`). Pods get its addresses only through the ipAddrs annotation or by naming the pool in ipv4pools/ipv6pools."
                ),
                format!(
                    "allowedUses is [Workload], so no node takes a tunnel address from it; blockSize {} {}.",
                    block_size.prefix_len(),
                    if block_size == BlockSize::default_for(cidr.family()) {
                        "is Calico's default"
                    } else {
                        "makes one block cover the whole pool (a pool may not be smaller than its block)"
                    }
                ),
            ],
            diagnostics: Vec::new(),
        };
        generated.diagnostics = new_problems(&baseline, &generated.apply_to(input));
        return Ok(generated);
    }
    let net = masked(&request.cidr)?;
    let pools = model.effective_pools();
    let pool = pools
        .iter()
        .find(|p| p.net().contains(&net))
        .ok_or_else(|| {
            match pools.iter().find(|p| {
                PoolCidr::masked(net).overlaps(&p.cidr)
            }) {
                Some(p) => GenerateError::new(format!(
                    "{net} reaches beyond pool {} ({}); reserve a range inside one pool",
                    p.name, p.cidr
                )),
                None => GenerateError::new(format!(
                    "{net} is inside no IP pool of the input, so reserving it changes nothing; to keep a range outside the pools for manual use, generate a Manual pool instead"
                )),
            }
        })?;
    let taken: Vec<&str> = model.reservations.iter().map(|r| r.name()).collect();
    let name = pick_name(
        &request.name,
        "reserved",
        &net.to_string(),
        &taken,
        "IPReservation",
    )?;
    let mut notes = vec![format!(
        "Automatic assignment skips every address of {net} (in pool {}); pods can still get one through the ipAddrs annotation, which ignores reservations.",
        pool.name
    )];
    let in_use = in_use(&simulation, net);
    if !in_use.is_empty() {
        let listed: Vec<&str> = in_use
            .iter()
            .take(LISTED_IN_USE)
            .map(String::as_str)
            .collect();
        let more = in_use.len().saturating_sub(listed.len());
        notes.push(format!(
            "{} address{} of {net} {} in use in the simulation: {}{}. Creating the reservation does not release them; they stay allocated until their pods (or nodes) go. (In this plan the reservation exists from the start, so automatic assignment places those pods elsewhere.)",
            in_use.len(),
            if in_use.len() == 1 { "" } else { "es" },
            if in_use.len() == 1 { "is" } else { "are" },
            listed.join(", "),
            if more > 0 { format!(" and {more} more") } else { String::new() }
        ));
    }
    let size = crate::ipam::net_size(&net);
    let pool_size = crate::ipam::net_size(&pool.net());
    if size.saturating_mul(10) > pool_size {
        notes.push(format!(
            "The range is more than 10% of pool {}: Calico skips reserved addresses one by one on every allocation, so large reservations slow it down; a separate Manual pool is the lighter way to keep that much.",
            pool.name
        ));
    }
    let mut generated = Generated {
        title: format!("IPReservation {name} for {net}"),
        text: format!(
            "apiVersion: projectcalico.org/v3\nkind: IPReservation\nmetadata:\n  name: {name}\nspec:\n  reservedCIDRs:\n    - {net}\n"
        ),
        edit: None,
        notes,
        diagnostics: Vec::new(),
    };
    generated.diagnostics = new_problems(&baseline, &generated.apply_to(input));
    Ok(generated)
}

/// The addresses of `net` the simulation allocated, each with its holder.
fn in_use(simulation: &Simulation, net: IpNet) -> Vec<String> {
    let mut found: Vec<(IpAddr, String)> = simulation
        .blocks
        .iter()
        .flat_map(|b| b.used.iter())
        .filter(|(ip, _)| net.contains(ip))
        .map(|(ip, usage)| {
            let who = match usage {
                AddressUse::Pod {
                    namespace, name, ..
                } => format!("pod {namespace}/{name}"),
                AddressUse::Tunnel { node, kind } => format!("{} tunnel of {node}", kind.as_str()),
                AddressUse::Cooldown => "in cooldown".to_owned(),
                AddressUse::WindowsReserved => "Windows-reserved".to_owned(),
            };
            (*ip, who)
        })
        .collect();
    found.sort();
    found
        .into_iter()
        .map(|(ip, who)| format!("{ip} ({who})"))
        .collect()
}

fn masked(text: &str) -> Result<IpNet, GenerateError> {
    let text = text.trim();
    let net: IpNet = text.parse().map_err(|_| {
        GenerateError::new(format!(
            "`{text}` is not a CIDR; write a network with its prefix length, such as 10.244.10.0/28"
        ))
    })?;
    if net.trunc() != net {
        return Err(GenerateError::new(format!(
            "`{text}` has host bits set; did you mean {}?",
            net.trunc()
        )));
    }
    Ok(net)
}

/// The CIDR of a new pool: masked, and overlapping no pool of the input (disabled ones
/// included, as Calico's create check does).
pub(super) fn new_pool_cidr(model: &Model, text: &str) -> Result<PoolCidr, GenerateError> {
    let cidr = PoolCidr::masked(masked(text)?);
    for pool in &model.pools {
        let Some(other) = pool
            .spec
            .cidr
            .as_ref()
            .and_then(|c| c.value.trim().parse::<IpNet>().ok())
        else {
            continue;
        };
        if cidr.overlaps(&PoolCidr::masked(other)) {
            return Err(GenerateError::new(format!(
                "{cidr} overlaps pool {} ({}); a new pool needs a range of its own",
                pool.name(),
                other.trunc()
            )));
        }
    }
    Ok(cidr)
}

/// The family's default block size, or the pool's own prefix when the pool is smaller than a
/// default block (a pool may not be smaller than its block).
pub(super) fn block_size_for(cidr: PoolCidr) -> BlockSize {
    let default = BlockSize::default_for(cidr.family());
    if cidr.prefix_len() > default.prefix_len() {
        BlockSize::new(cidr.family(), cidr.prefix_len()).unwrap_or(default)
    } else {
        default
    }
}

pub(super) fn manual_pool_manifest(name: &str, cidr: PoolCidr, block_size: BlockSize) -> String {
    format!(
        "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: {name}\nspec:\n  cidr: {cidr}\n  blockSize: {}\n  nodeSelector: '!all()'\n  assignmentMode: Manual\n  allowedUses:\n    - Workload\n",
        block_size.prefix_len()
    )
}

fn pick_name(
    wanted: &str,
    prefix: &str,
    cidr: &str,
    taken: &[&str],
    kind: &str,
) -> Result<String, GenerateError> {
    let wanted = wanted.trim();
    if wanted.is_empty() {
        return Ok(resource_name(prefix, cidr, taken));
    }
    if taken.contains(&wanted) {
        return Err(GenerateError::new(format!(
            "the input already has an {kind} named {wanted}"
        )));
    }
    Ok(wanted.to_owned())
}
