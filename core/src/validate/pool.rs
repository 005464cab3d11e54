//! `IPPool` rules (spec §1.1.2): clientv3's P1–P3 with its defaults, the Go validator's field tags
//! and struct rule (P1–P3, P9, P10), and the CRD's schema and CEL rules C1–C14.
//!
//! The CEL rules are a table ([`CEL_RULES`]): each row is Calico's message, the rule's declared
//! reason, and a check over the defaulted spec that returns the finding (its code, the offending
//! node and a fix) when the rule is violated.

use ipnet::IpNet;

use crate::model::{IpPool, IpPoolSpec, Spanned};
use crate::net::{parse_cidr_or_ip, BlockSize, Family};
use crate::selector::Selector;
use crate::yaml::Pos;

use super::{metadata, quoted, span, CalicoError, Finding, Layer, Options};

const WORKLOAD: &str = "Workload";
const TUNNEL: &str = "Tunnel";
const LOAD_BALANCER: &str = "LoadBalancer";
const KNOWN_USES: [&str; 3] = [WORKLOAD, TUNNEL, LOAD_BALANCER];
const ENCAP_MODES: [&str; 3] = ["Never", "Always", "CrossSubnet"];
const ASSIGNMENT_MODES: [&str; 2] = ["Automatic", "Manual"];
const CIDR_MAX_LENGTH: usize = 48;
const SELECTOR_MAX_LENGTH: usize = 1024;
const ALLOWED_USES_MAX_ITEMS: usize = 10;

pub(super) fn check(pool: &IpPool, options: &Options, out: &mut Vec<Finding>) {
    let layers = options.layers;
    if options.check_metadata
        && (layers.contains(Layer::GoValidator) || layers.contains(Layer::Crd))
    {
        metadata::check(&pool.origin, &pool.meta, out);
    }
    // clientv3 normalises the spec before the validator and the CRD rules see it.
    let spec = if layers.contains(Layer::ClientV3) {
        clientv3(&pool.spec, out)
    } else {
        pool.spec.clone()
    };
    if layers.contains(Layer::GoValidator) {
        go_validator(&spec, out);
    }
    if layers.contains(Layer::Crd) {
        crd(&crd_defaults(spec), out);
    }
}

/// clientv3's create-time normalisation and P1–P3 (spec §1.1.3), for the lifecycle engine, which
/// adds the checks that need the stored pools (immutability, overlap, existing blocks).
pub(crate) fn clientv3_normalised(spec: &IpPoolSpec) -> (IpPoolSpec, Vec<Finding>) {
    let mut findings = Vec::new();
    let stored = clientv3(spec, &mut findings);
    (stored, findings)
}

/// The CRD's schema defaults, for the lifecycle engine's API server path.
pub(crate) fn crd_defaulted(spec: &IpPoolSpec) -> IpPoolSpec {
    crd_defaults(spec.clone())
}

/// Go's `net.ParseCIDR` (a bare address is not a CIDR).
fn parse_cidr(text: &str) -> Option<IpNet> {
    text.parse().ok()
}

/// clientv3 `validateAndSetDefaults` on create (spec §1.1.2 P1–P3, §1.1.3): stops at its first
/// error; returns the spec as clientv3 hands it on.
fn clientv3(spec: &IpPoolSpec, out: &mut Vec<Finding>) -> IpPoolSpec {
    let mut stored = spec.clone();
    let Some(cidr) = spec.cidr.as_ref().filter(|c| !c.value.is_empty()) else {
        out.push(cidr_missing(
            Layer::ClientV3,
            spec.pos,
            CalicoError::field("IPPool.Spec.CIDR", "", "IPPool CIDR must be specified"),
        ));
        return stored;
    };
    let Some(net) = parse_cidr(&cidr.value) else {
        out.push(cidr_invalid(
            Layer::ClientV3,
            cidr,
            CalicoError::field(
                "IPPool.Spec.CIDR",
                cidr.value.clone(),
                "IPPool CIDR must be a valid subnet",
            ),
        ));
        return stored;
    };
    let masked = net.trunc();
    stored.cidr = Some(Spanned {
        value: masked.to_string(),
        ..cidr.clone()
    });
    let default_at = |value: String| Some(Spanned::new(value, spec.pos));
    if spec
        .node_selector
        .as_ref()
        .is_none_or(|s| s.value.is_empty())
    {
        stored.node_selector = default_at("all()".to_owned());
    }
    if spec.block_size.as_ref().is_none_or(|b| b.value == 0) {
        let default = BlockSize::default_for(Family::of_net(&net));
        stored.block_size = Some(Spanned::new(i64::from(default.prefix_len()), spec.pos));
    }
    if spec.allowed_use_texts().is_empty() {
        stored.allowed_uses = Some(Spanned::new(
            [WORKLOAD, TUNNEL]
                .map(|u| Spanned::new(u.to_owned(), spec.pos))
                .to_vec(),
            spec.pos,
        ));
    }
    if spec.assignment_mode.is_none() {
        stored.assignment_mode = default_at("Automatic".to_owned());
    }
    if spec.ipip_mode.as_ref().is_none_or(|m| m.value.is_empty()) {
        stored.ipip_mode = default_at("Never".to_owned());
    }
    if spec.vxlan_mode.as_ref().is_none_or(|m| m.value.is_empty()) {
        stored.vxlan_mode = default_at("Never".to_owned());
    }
    if masked != net {
        // Calico shows the already-masked CIDR as the field's value (spec §7.35).
        out.push(not_masked(
            Layer::ClientV3,
            cidr,
            masked,
            CalicoError::field(
                "IPPool.Spec.CIDR",
                masked.to_string(),
                "IPPool CIDR is not strictly masked",
            ),
        ));
    }
    stored
}

fn cidr_missing(layer: Layer, pos: Pos, error: CalicoError) -> Finding {
    Finding::new(
        layer,
        "pool-cidr-missing",
        pos,
        "the pool has no `spec.cidr`; every IP pool needs the CIDR it hands addresses out of",
        error,
    )
}

fn cidr_invalid(layer: Layer, cidr: &Spanned<String>, error: CalicoError) -> Finding {
    let mut finding = Finding::new(
        layer,
        "pool-cidr-invalid",
        cidr.pos,
        format!(
            "`{}` is not a CIDR; write a network with its prefix length, such as 10.244.0.0/16",
            cidr.value
        ),
        error,
    );
    if let Some(ip) = crate::net::parse_ip(cidr.value.trim()) {
        let net = IpNet::from(ip);
        finding = finding.with_fix(
            format!("write the address as a one-address CIDR, `{net}`"),
            quoted(&net.to_string()),
            span(cidr),
        );
    }
    finding
}

fn not_masked(layer: Layer, cidr: &Spanned<String>, masked: IpNet, error: CalicoError) -> Finding {
    Finding::new(
        layer,
        "pool-cidr-not-masked",
        cidr.pos,
        format!(
            "`{}` has host bits set; a pool CIDR must be the network address itself, `{masked}`",
            cidr.value
        ),
        error,
    )
    .with_fix(
        format!("use the network address `{masked}`"),
        quoted(&masked.to_string()),
        span(cidr),
    )
}

/// The Go struct validator: field tags, then `validateIPPoolSpec`.
fn go_validator(spec: &IpPoolSpec, out: &mut Vec<Finding>) {
    for (field, name, tag) in [
        (&spec.ipip_mode, "IPIPMode", "ipIpMode"),
        (&spec.vxlan_mode, "VXLANMode", "vxlanMode"),
    ] {
        // `omitempty`: an empty mode is not checked.
        if let Some(mode) = field.as_ref().filter(|m| !m.value.is_empty()) {
            if !ENCAP_MODES.contains(&mode.value.as_str()) {
                out.push(unknown_mode(
                    Layer::GoValidator,
                    mode,
                    &ENCAP_MODES,
                    CalicoError::tag(name, mode.value.clone(), tag),
                ));
            }
        }
    }
    if let Some(mode) = &spec.assignment_mode {
        if !ASSIGNMENT_MODES.contains(&mode.value.as_str()) {
            out.push(unknown_mode(
                Layer::GoValidator,
                mode,
                &ASSIGNMENT_MODES,
                CalicoError::tag("AssignmentMode", mode.value.clone(), "assignmentMode"),
            ));
        }
    }
    for (field, key, name) in [
        (&spec.node_selector, "nodeSelector", "NodeSelector"),
        (
            &spec.namespace_selector,
            "namespaceSelector",
            "NamespaceSelector",
        ),
    ] {
        if let Some(selector) = field.as_ref().filter(|s| !s.value.is_empty()) {
            if let Err(error) = Selector::parse(&selector.value) {
                out.push(Finding::new(
                    Layer::GoValidator,
                    "pool-selector-syntax",
                    selector.pos,
                    format!(
                        "`{key}` is not a valid Calico selector ({} at offset {}); a pool with a selector that does not parse stops automatic assignment on every node",
                        error.message, error.offset
                    ),
                    CalicoError::tag(name, selector.value.clone(), "selector"),
                ));
            }
        }
    }
    if let Some(pos) = spec.legacy_ipip {
        out.push(Finding::new(
            Layer::GoValidator,
            "pool-legacy-field",
            pos,
            "`spec.ipip` is a read-only APIv1 field and may not be set; use `ipipMode` instead",
            CalicoError::tag("IPIP", "{…}", "mustBeNil"),
        ));
    }
    if let Some(flag) = spec.legacy_nat_outgoing.as_ref().filter(|f| f.value) {
        out.push(Finding::new(
            Layer::GoValidator,
            "pool-legacy-field",
            flag.pos,
            "`spec.nat-outgoing` is a read-only APIv1 field and may not be true; use `natOutgoing` instead",
            CalicoError::tag("NATOutgoingV1", "true", "mustBeFalse"),
        ));
    }
    // validateIPPoolSpec.
    let text = spec.cidr.as_ref().map_or("", |c| c.value.as_str());
    let Some(cidr) = spec.cidr.as_ref().filter(|c| !c.value.is_empty()) else {
        out.push(cidr_missing(
            Layer::GoValidator,
            spec.pos,
            CalicoError::field("IPpool.CIDR", "", "IPPool CIDR must be specified"),
        ));
        return;
    };
    let Some(net) = parse_cidr_or_ip(text) else {
        out.push(cidr_invalid(
            Layer::GoValidator,
            cidr,
            CalicoError::field("IPpool.CIDR", text, "IPPool CIDR must be a valid subnet"),
        ));
        return;
    };
    if net.trunc() != net {
        out.push(not_masked(
            Layer::GoValidator,
            cidr,
            net.trunc(),
            CalicoError::field("IPpool.CIDR", text, "IP pool CIDR is not strictly masked"),
        ));
    }
    if let Some(uses) = &spec.allowed_uses {
        let list = format!(
            "[{}]",
            uses.value
                .iter()
                .map(Spanned::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        );
        for item in uses
            .value
            .iter()
            .filter(|u| !KNOWN_USES.contains(&u.as_str()))
        {
            out.push(unknown_use(
                Layer::GoValidator,
                item,
                CalicoError::field(
                    "IPpool.AllowedUses",
                    list.clone(),
                    format!("unknown use: {}", item.value),
                ),
            ));
        }
    }
}

fn unknown_mode(
    layer: Layer,
    mode: &Spanned<String>,
    allowed: &[&str],
    error: CalicoError,
) -> Finding {
    let finding = Finding::new(
        layer,
        "pool-mode-invalid",
        mode.pos,
        format!(
            "`{}` is not a valid mode; use one of {} (case matters)",
            mode.value,
            allowed.join(", ")
        ),
        error,
    );
    match allowed.iter().find(|a| a.eq_ignore_ascii_case(&mode.value)) {
        Some(intended) => {
            finding.with_fix(format!("write `{intended}`"), quoted(intended), span(mode))
        }
        None => finding,
    }
}

fn unknown_use(layer: Layer, item: &Spanned<String>, error: CalicoError) -> Finding {
    let finding = Finding::new(
        layer,
        "pool-unknown-use",
        item.pos,
        format!(
            "`{}` is not an allowed use; use Workload, Tunnel or LoadBalancer (case matters)",
            item.value
        ),
        error,
    );
    match KNOWN_USES
        .iter()
        .find(|u| u.eq_ignore_ascii_case(&item.value))
    {
        Some(intended) => {
            finding.with_fix(format!("write `{intended}`"), quoted(intended), span(item))
        }
        None => finding,
    }
}

/// The CRD's defaults (spec §1.1.1): `nodeSelector` `all()` and `assignmentMode` Automatic
/// when absent. `blockSize` and `allowedUses` are not defaulted by the CRD.
fn crd_defaults(mut spec: IpPoolSpec) -> IpPoolSpec {
    if spec.node_selector.is_none() {
        spec.node_selector = Some(Spanned::new("all()".to_owned(), spec.pos));
    }
    if spec.assignment_mode.is_none() {
        spec.assignment_mode = Some(Spanned::new("Automatic".to_owned(), spec.pos));
    }
    spec
}

fn enum_error(path: &str, value: &str, allowed: &[&str]) -> CalicoError {
    let supported = allowed
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(", ");
    CalicoError::api(
        path,
        format!("Unsupported value: \"{value}\""),
        format!("supported values: {supported}"),
    )
}

/// The CRD: OpenAPI schema, then the CEL rules.
fn crd(spec: &IpPoolSpec, out: &mut Vec<Finding>) {
    match &spec.cidr {
        None => out.push(cidr_missing(
            Layer::Crd,
            spec.pos,
            CalicoError::api("spec.cidr", "Required value", ""),
        )),
        Some(cidr) => {
            if parse_cidr(&cidr.value).is_none() {
                out.push(cidr_invalid(
                    Layer::Crd,
                    cidr,
                    CalicoError::api(
                        "spec.cidr",
                        format!("Invalid value: \"{}\"", cidr.value),
                        format!("spec.cidr in body must be of type cidr: \"{}\"", cidr.value),
                    ),
                ));
            }
            if cidr.value.len() > CIDR_MAX_LENGTH {
                out.push(too_long(cidr, "spec.cidr", CIDR_MAX_LENGTH));
            }
        }
    }
    if let Some(size) = &spec.block_size {
        let bound = if size.value < 0 {
            Some("greater than or equal to 0")
        } else if size.value > 128 {
            Some("less than or equal to 128")
        } else {
            None
        };
        if let Some(bound) = bound {
            out.push(block_size_range(
                Layer::Crd,
                size,
                spec,
                CalicoError::api(
                    "spec.blockSize",
                    format!("Invalid value: {}", size.value),
                    format!("spec.blockSize in body should be {bound}"),
                ),
            ));
        }
    }
    for (field, path) in [
        (&spec.ipip_mode, "spec.ipipMode"),
        (&spec.vxlan_mode, "spec.vxlanMode"),
    ] {
        // The CRD enum has no empty value, so an explicit "" fails here (calicoctl turns it
        // into Never before the CRD sees it).
        if let Some(mode) = field {
            if !ENCAP_MODES.contains(&mode.value.as_str()) {
                out.push(unknown_mode(
                    Layer::Crd,
                    mode,
                    &ENCAP_MODES,
                    enum_error(path, &mode.value, &ENCAP_MODES),
                ));
            }
        }
    }
    if let Some(mode) = &spec.assignment_mode {
        if !ASSIGNMENT_MODES.contains(&mode.value.as_str()) {
            out.push(unknown_mode(
                Layer::Crd,
                mode,
                &ASSIGNMENT_MODES,
                enum_error("spec.assignmentMode", &mode.value, &ASSIGNMENT_MODES),
            ));
        }
    }
    if let Some(uses) = &spec.allowed_uses {
        let mut seen = std::collections::HashSet::new();
        for (index, item) in uses.value.iter().enumerate() {
            let path = format!("spec.allowedUses[{index}]");
            if !KNOWN_USES.contains(&item.as_str()) {
                out.push(unknown_use(
                    Layer::Crd,
                    item,
                    enum_error(&path, &item.value, &KNOWN_USES),
                ));
            }
            if !seen.insert(item.as_str()) {
                out.push(Finding::new(
                    Layer::Crd,
                    "schema",
                    item.pos,
                    format!("`{}` is listed twice in `allowedUses`", item.value),
                    CalicoError::api(&path, format!("Duplicate value: \"{}\"", item.value), ""),
                ));
            }
        }
        if uses.value.len() > ALLOWED_USES_MAX_ITEMS {
            out.push(Finding::new(
                Layer::Crd,
                "schema",
                uses.pos,
                format!("`allowedUses` may list at most {ALLOWED_USES_MAX_ITEMS} uses"),
                CalicoError::api(
                    "spec.allowedUses",
                    format!("Too many: {}", uses.value.len()),
                    format!("must have at most {ALLOWED_USES_MAX_ITEMS} items"),
                ),
            ));
        }
    }
    for (field, path) in [
        (&spec.node_selector, "spec.nodeSelector"),
        (&spec.namespace_selector, "spec.namespaceSelector"),
    ] {
        if let Some(selector) = field
            .as_ref()
            .filter(|s| s.value.len() > SELECTOR_MAX_LENGTH)
        {
            out.push(too_long(selector, path, SELECTOR_MAX_LENGTH));
        }
    }
    let view = CelView::new(spec);
    for rule in CEL_RULES {
        if let Some(finding) = (rule.check)(&view) {
            out.push(Finding {
                error: CalicoError::cel(rule.message, rule.forbidden),
                ..finding
            });
        }
    }
}

fn too_long(field: &Spanned<String>, path: &str, max: usize) -> Finding {
    Finding::new(
        Layer::Crd,
        "schema",
        field.pos,
        format!("`{path}` may be at most {max} characters long"),
        CalicoError::api(
            path,
            "Too long",
            format!("may not be more than {max} bytes"),
        ),
    )
}

fn block_size_range(
    layer: Layer,
    size: &Spanned<i64>,
    spec: &IpPoolSpec,
    error: CalicoError,
) -> Finding {
    let family = spec
        .cidr
        .as_ref()
        .and_then(|c| parse_cidr(&c.value))
        .map(|net| Family::of_net(&net));
    let (low, high) = match family {
        Some(Family::V6) => (116, 128),
        _ => (20, 32),
    };
    let nearest = size.value.clamp(low, high);
    Finding::new(
        layer,
        "pool-block-size-range",
        size.pos,
        format!(
            "`blockSize: {}` is out of range; blocks are /20 to /32 for IPv4 pools and /116 to /128 for IPv6 pools",
            size.value
        ),
        error,
    )
    .with_fix(format!("use `blockSize: {nearest}`"), nearest.to_string(), span(size))
}

/// The defaulted spec as the CEL rules see it.
struct CelView<'a> {
    spec: &'a IpPoolSpec,
    /// `cidr(self.cidr)`, when the CIDR parses (a rule that needs it is skipped otherwise; the
    /// schema has already rejected the CIDR).
    net: Option<IpNet>,
    uses: Vec<&'a str>,
}

impl<'a> CelView<'a> {
    fn new(spec: &'a IpPoolSpec) -> CelView<'a> {
        CelView {
            spec,
            net: spec.cidr.as_ref().and_then(|c| parse_cidr(&c.value)),
            uses: spec.allowed_use_texts(),
        }
    }

    fn has_use(&self, name: &str) -> bool {
        self.uses.contains(&name)
    }

    fn spec_pos(&self) -> Pos {
        self.spec.pos
    }

    /// The mode's node when the mode is enabled (set, not empty, not `Never`).
    fn enabled(mode: &'a Option<Spanned<String>>) -> Option<&'a Spanned<String>> {
        mode.as_ref()
            .filter(|m| !m.value.is_empty() && m.value != "Never")
    }

    fn cidr(&self) -> Option<&'a Spanned<String>> {
        self.spec.cidr.as_ref()
    }

    fn finding(&self, code: &'static str, pos: Pos, message: String) -> Finding {
        // The error is filled in from the rule's row.
        Finding::new(Layer::Crd, code, pos, message, CalicoError::NotCalico)
    }
}

/// One CEL rule of the IPPool CRD (spec §1.1.2 C1–C14).
struct CelRule {
    /// Calico's message, verbatim.
    message: &'static str,
    /// The rule's declared reason: `FieldValueForbidden` (true) or `FieldValueInvalid`.
    forbidden: bool,
    /// The finding when the rule is violated.
    check: fn(&CelView<'_>) -> Option<Finding>,
}

const CEL_RULES: &[CelRule] = &[
    CelRule {
        message: "ipipMode and vxlanMode cannot both be enabled",
        forbidden: true,
        check: |v| {
            CelView::enabled(&v.spec.ipip_mode)?;
            let vxlan = CelView::enabled(&v.spec.vxlan_mode)?;
            Some(
                v.finding(
                    "pool-ipip-vxlan",
                    vxlan.pos,
                    "IPIP and VXLAN cannot both be enabled on one pool; keep one encapsulation and set the other mode to Never".to_owned(),
                )
                .with_fix("set `vxlanMode` to Never", quoted("Never"), span(vxlan)),
            )
        },
    },
    CelRule {
        message: "LoadBalancer IP pool cannot have IPIP or VXLAN enabled",
        forbidden: true,
        check: |v| {
            if !v.has_use(LOAD_BALANCER) {
                return None;
            }
            let mode = CelView::enabled(&v.spec.ipip_mode).or(CelView::enabled(&v.spec.vxlan_mode))?;
            Some(
                v.finding(
                    "pool-lb-encap",
                    mode.pos,
                    "a LoadBalancer pool cannot use IPIP or VXLAN encapsulation; set the mode to Never".to_owned(),
                )
                .with_fix("set the mode to Never", quoted("Never"), span(mode)),
            )
        },
    },
    CelRule {
        message: "LoadBalancer cannot be combined with Workload or Tunnel allowed uses",
        forbidden: true,
        check: |v| {
            if !(v.has_use(LOAD_BALANCER) && (v.has_use(WORKLOAD) || v.has_use(TUNNEL))) {
                return None;
            }
            let uses = v.spec.allowed_uses.as_ref()?;
            Some(
                v.finding(
                    "pool-lb-mixed-uses",
                    uses.pos,
                    "a LoadBalancer pool cannot also serve Workload or Tunnel addresses; use a separate pool for them".to_owned(),
                )
                .with_fix("allow only LoadBalancer", "[\"LoadBalancer\"]", span(uses)),
            )
        },
    },
    CelRule {
        message: "IPIP is not supported on IPv6 pools",
        forbidden: true,
        check: |v| {
            let ipip = CelView::enabled(&v.spec.ipip_mode)?;
            if v.net.map(|n| Family::of_net(&n)) != Some(Family::V6) {
                return None;
            }
            Some(
                v.finding(
                    "pool-ipip-ipv6",
                    ipip.pos,
                    "IPIP does not carry IPv6; set `ipipMode: Never` (use `vxlanMode` for encapsulated IPv6)".to_owned(),
                )
                .with_fix("set `ipipMode` to Never", quoted("Never"), span(ipip)),
            )
        },
    },
    CelRule {
        message: "LoadBalancer IP pools cannot disable BGP export",
        forbidden: true,
        check: |v| {
            let flag = v.spec.disable_bgp_export.as_ref().filter(|f| f.value)?;
            if !v.has_use(LOAD_BALANCER) {
                return None;
            }
            Some(
                v.finding(
                    "pool-lb-bgp-export",
                    flag.pos,
                    "a LoadBalancer pool must be exported over BGP; set `disableBGPExport: false`".to_owned(),
                )
                .with_fix("export the pool over BGP", "false", span(flag)),
            )
        },
    },
    CelRule {
        message: "IP Pool with AllowedUse LoadBalancer must have nodeSelector set to all()",
        forbidden: false,
        check: |v| {
            let selector = v.spec.node_selector.as_ref()?;
            if !v.has_use(LOAD_BALANCER) || selector.value == "all()" {
                return None;
            }
            Some(
                v.finding(
                    "pool-lb-node-selector",
                    selector.pos,
                    format!(
                        "a LoadBalancer pool serves every node, so its `nodeSelector` must be exactly `all()`, not `{}`",
                        selector.value
                    ),
                )
                .with_fix("select every node", quoted("all()"), span(selector).filter(|_| selector.pos != v.spec_pos())),
            )
        },
    },
    CelRule {
        message: "IP Pool with AllowedUse Tunnel cannot have namespaceSelector",
        forbidden: true,
        check: |v| {
            let selector = v.spec.namespace_selector.as_ref().filter(|s| !s.value.is_empty())?;
            if !v.has_use(TUNNEL) {
                return None;
            }
            let finding = v.finding(
                "pool-tunnel-namespace-selector",
                selector.pos,
                "tunnel addresses belong to no namespace, so a pool with a `namespaceSelector` must not allow Tunnel; set `allowedUses: [Workload]` (an empty `allowedUses` means Workload and Tunnel)".to_owned(),
            );
            Some(match v.spec.allowed_uses.as_ref().filter(|u| u.pos != v.spec_pos()) {
                Some(uses) => finding.with_fix("allow only Workload", "[\"Workload\"]", span(uses)),
                None => finding.with_fix("add `allowedUses: [Workload]` to the spec", "allowedUses: [\"Workload\"]", None),
            })
        },
    },
    CelRule {
        message: "global() selector is not valid for IPPool nodeSelector",
        forbidden: false,
        check: |v| global_selector(v, &v.spec.node_selector, "nodeSelector"),
    },
    CelRule {
        message: "global() selector is not valid for IPPool namespaceSelector",
        forbidden: false,
        check: |v| global_selector(v, &v.spec.namespace_selector, "namespaceSelector"),
    },
    CelRule {
        message: "IPPool CIDR must be strictly masked",
        forbidden: false,
        check: |v| {
            let net = v.net?;
            let cidr = v.cidr()?;
            (net.trunc() != net)
                .then(|| not_masked(Layer::Crd, cidr, net.trunc(), CalicoError::NotCalico))
        },
    },
    CelRule {
        message: "IPPool CIDR overlaps with IPv4 link local range 169.254.0.0/16",
        forbidden: false,
        check: |v| link_local(v, "169.254.0.0/16"),
    },
    CelRule {
        message: "IPPool CIDR overlaps with IPv6 link local range fe80::/10",
        forbidden: false,
        check: |v| link_local(v, "fe80::/10"),
    },
    CelRule {
        message: "blockSize must be between 20 and 32 for IPv4 pools, and between 116 and 128 for IPv6 pools",
        forbidden: false,
        check: |v| {
            let size = v.spec.block_size.as_ref().filter(|s| s.value != 0)?;
            let family = Family::of_net(&v.net?);
            let in_range = u8::try_from(size.value)
                .ok()
                .and_then(|prefix| BlockSize::new(family, prefix))
                .is_some();
            (!in_range).then(|| block_size_range(Layer::Crd, size, v.spec, CalicoError::NotCalico))
        },
    },
    CelRule {
        message: "IP pool size is too small for use with Calico IPAM. It must be equal to or greater than the block size.",
        forbidden: false,
        check: |v| {
            if v.spec.is_disabled() {
                return None;
            }
            let net = v.net?;
            let family = Family::of_net(&net);
            let block = match v.spec.block_size.as_ref().filter(|s| s.value != 0) {
                Some(size) => size.value,
                None => i64::from(BlockSize::default_for(family).prefix_len()),
            };
            let prefix = i64::from(net.prefix_len());
            if prefix <= block {
                return None;
            }
            let cidr = v.cidr()?;
            let finding = v.finding(
                "pool-too-small",
                cidr.pos,
                format!(
                    "the pool (/{prefix}) is smaller than one /{block} block; use a larger CIDR, a block size of at least /{prefix}, or disable the pool"
                ),
            );
            let fits = u8::try_from(prefix).ok().and_then(|p| BlockSize::new(family, p)).is_some();
            Some(match (&v.spec.block_size, fits) {
                (Some(size), true) if size.pos != v.spec_pos() => {
                    finding.with_fix(format!("use `blockSize: {prefix}`"), prefix.to_string(), span(size))
                }
                (_, true) => finding.with_fix(format!("add `blockSize: {prefix}` to the spec"), format!("blockSize: {prefix}"), None),
                (_, false) => finding,
            })
        },
    },
];

fn global_selector(v: &CelView<'_>, field: &Option<Spanned<String>>, key: &str) -> Option<Finding> {
    let selector = field.as_ref().filter(|s| s.value.contains("global("))?;
    let finding = v.finding(
        "pool-global-selector",
        selector.pos,
        format!("`global()` is only meaningful in network policy; an IP pool's `{key}` cannot use it (`all()` selects everything)"),
    );
    Some(if selector.value.trim() == "global()" {
        finding.with_fix("use `all()`", quoted("all()"), span(selector))
    } else {
        finding
    })
}

fn link_local(v: &CelView<'_>, range: &str) -> Option<Finding> {
    let range: IpNet = range.parse().ok()?;
    let net = v.net?;
    let overlaps = range.contains(&net.addr()) || net.contains(&range.network());
    let cidr = v.cidr()?;
    overlaps.then(|| {
        v.finding(
            "pool-link-local",
            cidr.pos,
            format!("`{}` overlaps the link-local range {range}, which hosts use for themselves; choose another range", cidr.value),
        )
    })
}
