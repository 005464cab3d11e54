//! Per-resource validation: every rule Calico applies when an `IPPool`, `IPReservation` or
//! `IPAMConfiguration` is written (spec §1), each with its own code, Calico's exact text, the
//! offending YAML node and, where one exists, a corrected manifest text.
//!
//! Calico validates in layers, and which layers run depends on how the object is written
//! (spec §1.0): calicoctl and the Calico API server run clientv3's defaulting and checks, then the
//! Go struct validator, then the CRD schema and CEL rules; `kubectl` writing the CRDs directly runs
//! only the last. Every [`Finding`] therefore names the [`Layer`] that produced it, and callers
//! choose the layers to run ([`Options`]): the conformance runner replays one write path, the
//! planner's default view ([`check`]) runs every path and says in each message which paths
//! enforce the rule.

mod cluster;
pub mod codes;
mod ipam_config;
mod k8s;
mod metadata;
mod pool;
mod reservation;

use std::fmt::Write as _;

use ipnet::IpNet;

use crate::diagnostic::{quoted, Diagnostic, Severity};
use crate::model::{ApiGroup, Model, Origin, Resource, Spanned};
use crate::yaml::Pos;

/// A stage of Calico's validation (spec §1.0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// clientv3 `validateAndSetDefaults` (calicoctl, the Calico API server): defaults, masking,
    /// overlap and name checks. Stops at its first error.
    ClientV3,
    /// The Go struct validator (`validator.Validate`): field tags and struct rules.
    GoValidator,
    /// The CRD: OpenAPI schema with its defaults, then the CEL (`x-kubernetes-validations`) rules.
    Crd,
    /// `calicoctl ipam configure` (`SetIPAMConfig`), the only writer of the cross-field
    /// IPAMConfiguration rules.
    IpamConfigure,
    /// Not Calico: the planner's own advice about values Calico accepts but that rarely mean what
    /// the author intended.
    Planner,
}

/// A set of layers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Layers(u8);

impl Layers {
    pub const NONE: Layers = Layers(0);

    pub const fn of(layers: &[Layer]) -> Layers {
        let mut bits = 0u8;
        let mut i = 0;
        while i < layers.len() {
            bits |= 1 << layers[i] as u8;
            i += 1;
        }
        Layers(bits)
    }

    pub fn with(self, layer: Layer) -> Layers {
        Layers(self.0 | 1 << layer as u8)
    }

    pub fn contains(self, layer: Layer) -> bool {
        self.0 & (1 << layer as u8) != 0
    }
}

/// How an object reaches the datastore.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WritePath {
    /// calicoctl or the Calico API server (`projectcalico.org/v3`): clientv3, the Go validator
    /// and the CRD rules.
    Calicoctl,
    /// `kubectl` straight to the CRDs (`crd.projectcalico.org/v1`, or the v3 CRDs in v3.32+
    /// "v3 CRD" mode): the CRD rules only.
    Kubectl,
    /// `calicoctl ipam configure`.
    IpamConfigure,
}

impl WritePath {
    /// The path a document of this API group is normally written through: the v1 CRDs with
    /// `kubectl`, everything else through calicoctl or the Calico API server.
    pub fn usual_for(api: ApiGroup) -> WritePath {
        match api {
            ApiGroup::CrdV1 => WritePath::Kubectl,
            _ => WritePath::Calicoctl,
        }
    }

    pub fn layers(self) -> Layers {
        match self {
            WritePath::Calicoctl => Layers::of(&[Layer::ClientV3, Layer::GoValidator, Layer::Crd]),
            WritePath::Kubectl => Layers::of(&[Layer::Crd]),
            WritePath::IpamConfigure => Layers::of(&[Layer::IpamConfigure]),
        }
    }
}

/// Who runs the CRD rules, which decides how their errors read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CrdRunner {
    /// kube-apiserver: one `StatusError` listing every field error.
    #[default]
    ApiServer,
    /// Calico's `validator.Validate(&obj)` (etcd mode, calicoctl validate): the field errors join
    /// the Go validator's errors in one `ErrorValidation`.
    InProcess,
}

/// What to validate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    pub layers: Layers,
    /// Whether `metadata` is validated (false when validating a bare spec, as Calico's
    /// `validator.Validate(spec)` does).
    pub check_metadata: bool,
    pub crd_runner: CrdRunner,
}

impl Options {
    pub fn new(layers: Layers) -> Options {
        Options {
            layers,
            check_metadata: true,
            crd_runner: CrdRunner::ApiServer,
        }
    }

    pub fn path(path: WritePath) -> Options {
        Options::new(path.layers())
    }
}

/// How Calico itself reports one problem, in the shape of the layer that finds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CalicoError {
    /// A Go `ErrorValidation` field: `error with field <name> = '<value>' (<reason>)`.
    Field {
        name: String,
        value: String,
        reason: String,
    },
    /// A Kubernetes field error (`k8s.io/apimachinery` `field.Error`): kube-apiserver prints it as
    /// `<path>: <kind>: <detail>`; Calico's in-process CRD check turns it into a Go field with the
    /// path as name and the detail as reason.
    Api {
        path: String,
        /// The error type with the bad value where Kubernetes shows it, e.g. `Forbidden`,
        /// `Invalid value: "object"`, `Unsupported value: "BadMode"`.
        kind: String,
        detail: String,
    },
    /// Any other error text, verbatim.
    Text(String),
    /// Calico reports nothing: the planner's own finding.
    NotCalico,
}

impl CalicoError {
    fn field(name: &str, value: impl Into<String>, reason: impl Into<String>) -> CalicoError {
        CalicoError::Field {
            name: name.to_owned(),
            value: value.into(),
            reason: reason.into(),
        }
    }

    /// A failed Go field tag, whose reason Calico renders generically (spec §1.0).
    fn tag(name: &str, value: impl Into<String>, tag: &str) -> CalicoError {
        CalicoError::field(
            name,
            value,
            format!("Reason: failed to validate Field: {name} because of Tag: {tag} "),
        )
    }

    fn api(path: &str, kind: impl Into<String>, detail: impl Into<String>) -> CalicoError {
        CalicoError::Api {
            path: path.to_owned(),
            kind: kind.into(),
            detail: detail.into(),
        }
    }

    /// The CEL rule message as kube-apiserver prints it: `Invalid value: "object"` or
    /// `Forbidden`, by the rule's declared reason.
    fn cel(message: &str, forbidden: bool) -> CalicoError {
        let kind = if forbidden {
            "Forbidden"
        } else {
            "Invalid value: \"object\""
        };
        CalicoError::api("spec", kind, message)
    }

    /// The Go field Calico's in-process CRD check (`validator.Validate(&obj)`) reports for a
    /// Kubernetes field error; other errors are returned unchanged.
    fn in_process(&self) -> CalicoError {
        match self {
            CalicoError::Api { path, detail, .. } => {
                CalicoError::field(path, "<nil>", detail.clone())
            }
            other => other.clone(),
        }
    }

    /// This error on its own, as the layer prints it for `origin`.
    pub fn render(&self, origin: &Origin) -> String {
        match self {
            CalicoError::Field { .. } => render_go(std::slice::from_ref(self)),
            CalicoError::Api { .. } => render_api(origin, std::slice::from_ref(self)),
            CalicoError::Text(text) => text.clone(),
            CalicoError::NotCalico => String::new(),
        }
    }

    fn go_line(&self) -> String {
        match self {
            CalicoError::Field {
                name,
                value,
                reason,
            } if reason.is_empty() => format!("{name} = '{value}'"),
            CalicoError::Field {
                name,
                value,
                reason,
            } => format!("{name} = '{value}' ({reason})"),
            CalicoError::Api { path, kind, detail } if detail.is_empty() => {
                format!("{path}: {kind}")
            }
            CalicoError::Api { path, kind, detail } => format!("{path}: {kind}: {detail}"),
            CalicoError::Text(text) => text.clone(),
            CalicoError::NotCalico => String::new(),
        }
    }
}

/// Go's `ErrorValidation.Error()` for several errored fields (one field renders as
/// `error with field …`, more as `error with the following fields:` and a line each).
pub fn render_validation(errors: &[CalicoError]) -> String {
    render_go(errors)
}

/// kube-apiserver's `StatusError` text for an invalid object, for errors found outside this
/// module (the CRD's transition rules, which need the stored object).
pub fn render_api_error(origin: &Origin, errors: &[CalicoError]) -> String {
    render_api(origin, errors)
}

/// clientv3's create-time defaults and its P1–P3 findings for an IPPool (spec §1.1.3): the spec
/// as clientv3 hands it on to the validator, and what it refused.
pub fn clientv3_pool_defaults(pool: &crate::model::IpPool) -> (crate::model::IpPool, Vec<Finding>) {
    let (spec, findings) = pool::clientv3_normalised(&pool.spec);
    (
        crate::model::IpPool {
            spec,
            ..pool.clone()
        },
        findings,
    )
}

/// The IPPool CRD's schema defaults (`nodeSelector: all()`, `assignmentMode: Automatic`), as
/// kube-apiserver stores them.
pub fn crd_pool_defaults(pool: &crate::model::IpPool) -> crate::model::IpPool {
    crate::model::IpPool {
        spec: pool::crd_defaulted(&pool.spec),
        ..pool.clone()
    }
}

/// Go's `ErrorValidation.Error()`.
fn render_go(errors: &[CalicoError]) -> String {
    match errors {
        [] => "unknown validation error".to_owned(),
        [one] => format!("error with field {}", one.go_line()),
        many => {
            let mut out = String::from("error with the following fields:\n");
            for e in many {
                let _ = writeln!(out, "-  {}", e.go_line());
            }
            out
        }
    }
}

/// kube-apiserver's `StatusError` text for an invalid object.
fn render_api(origin: &Origin, errors: &[CalicoError]) -> String {
    let group = origin.group();
    let kind = if group.is_empty() {
        origin.kind.clone()
    } else {
        format!("{}.{group}", origin.kind)
    };
    let lines: Vec<String> = errors.iter().map(CalicoError::go_line).collect();
    let joined = match lines.as_slice() {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    };
    format!("{kind} \"{}\" is invalid: {joined}", origin.resource.name)
}

/// The span a fix replaces: only a node written on one line. A block list's (or block scalar's)
/// span runs up to the next token, so replacing it would swallow the line break before the next
/// field; such fixes carry their text without an edit.
fn span<T>(field: &Spanned<T>) -> Option<(Pos, Pos)> {
    (field.pos.line == field.end.line).then_some((field.pos, field.end))
}

/// A corrected manifest text for the offending node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    pub description: String,
    /// The text that replaces the node (or the field to add).
    pub replacement: String,
    /// The exact span to replace, when the node is in the input (not for a field to add).
    pub span: Option<(Pos, Pos)>,
}

/// One problem one layer finds with one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub layer: Layer,
    pub code: &'static str,
    pub severity: Severity,
    /// What is wrong and how to fix it, for a reader who does not know Calico's internals.
    pub message: String,
    /// How Calico reports it.
    pub error: CalicoError,
    /// The offending node.
    pub pos: Pos,
    pub fix: Option<Suggestion>,
}

impl Finding {
    fn new(
        layer: Layer,
        code: &'static str,
        pos: Pos,
        message: impl Into<String>,
        error: CalicoError,
    ) -> Finding {
        let severity = match layer {
            Layer::IpamConfigure | Layer::Planner => Severity::Warning,
            _ => Severity::Error,
        };
        Finding {
            layer,
            code,
            severity,
            message: message.into(),
            error,
            pos,
            fix: None,
        }
    }

    fn with_severity(mut self, severity: Severity) -> Finding {
        self.severity = severity;
        self
    }

    fn with_fix(
        mut self,
        description: impl Into<String>,
        replacement: impl Into<String>,
        span: Option<(Pos, Pos)>,
    ) -> Finding {
        self.fix = Some(Suggestion {
            description: description.into(),
            replacement: replacement.into(),
            span,
        });
        self
    }

    /// The diagnostic for this finding alone, with Calico's text as this layer prints it.
    pub fn diagnostic(&self, origin: &Origin) -> Diagnostic {
        let mut diagnostic = Diagnostic::new(self.code, self.severity, self.message.clone());
        if self.error != CalicoError::NotCalico {
            diagnostic = diagnostic.calico(self.error.render(origin));
        }
        let mut diagnostic = origin.locate(diagnostic, self.pos);
        if let Some(fix) = &self.fix {
            diagnostic = diagnostic.with_fix(fix.description.clone(), fix.replacement.clone());
            if let Some((start, end)) = fix.span {
                diagnostic = diagnostic.with_edit(start, end, fix.replacement.clone());
            }
        }
        diagnostic
    }
}

/// Validates one resource with the chosen layers. Kinds without admission rules give nothing.
pub fn resource(resource: &Resource, options: &Options) -> Vec<Finding> {
    let mut findings = Vec::new();
    match resource {
        Resource::IpPool(pool) => pool::check(pool, options, &mut findings),
        Resource::IpReservation(reservation) => {
            reservation::check(reservation, options, &mut findings)
        }
        Resource::IpamConfiguration(config) => ipam_config::check(config, options, &mut findings),
        Resource::BlockAffinity(affinity) => {
            ipam_config::check_block_affinity(affinity, options, &mut findings)
        }
        _ => {}
    }
    findings.retain(|f| options.layers.contains(f.layer));
    findings
}

/// Whether Calico stores the resource when it is written the usual way for its apiVersion
/// (see [`WritePath::usual_for`]): what a simulator should check before it lets a pool or a
/// reservation take part.
pub fn accepted(resource: &Resource) -> bool {
    let api = ApiGroup::of(&resource.origin().api_version);
    self::resource(resource, &Options::path(WritePath::usual_for(api)))
        .iter()
        .all(|f| f.severity != Severity::Error)
}

/// The stages of a write of the resource at `origin`, in order; each stage reports all its
/// layers' errors together and stops the write. clientv3 normalises and checks an IPPool before
/// the validator sees it, but validates an IPAMConfiguration before checking its name; run in
/// process, the CRD rules are part of the validator's stage.
fn stages(origin: &Origin, crd_runner: CrdRunner) -> Vec<Vec<Layer>> {
    let (validator, crd) = match crd_runner {
        CrdRunner::InProcess => (vec![Layer::GoValidator, Layer::Crd], vec![]),
        CrdRunner::ApiServer => (vec![Layer::GoValidator], vec![Layer::Crd]),
    };
    let client = vec![Layer::ClientV3];
    let configure = vec![Layer::IpamConfigure];
    match origin.kind.as_str() {
        "IPAMConfiguration" | "IPAMConfig" => vec![validator, client, crd, configure],
        _ => vec![client, validator, crd, configure],
    }
}

/// The error Calico returns for the write, when the findings reject it: that of the first stage
/// with an error, rendered as that stage renders all its errors together (clientv3 stops at its
/// first error; the Go validator and kube-apiserver report every error they find).
pub fn rejection(origin: &Origin, findings: &[Finding], options: &Options) -> Option<String> {
    for stage in stages(origin, options.crd_runner) {
        let mut errors: Vec<CalicoError> = Vec::new();
        for layer in &stage {
            for finding in findings
                .iter()
                .filter(|f| f.layer == *layer && f.severity == Severity::Error)
            {
                let error = if stage.len() > 1 {
                    finding.error.in_process()
                } else {
                    finding.error.clone()
                };
                if !errors.contains(&error) {
                    errors.push(error);
                }
            }
        }
        let Some(first) = errors.first() else {
            continue;
        };
        return Some(match stage.first() {
            Some(Layer::ClientV3) => first.render(origin),
            Some(Layer::Crd) => render_api(origin, &errors),
            Some(Layer::GoValidator) => render_go(&errors),
            _ => errors
                .iter()
                .map(|e| e.render(origin))
                .collect::<Vec<_>>()
                .join("; "),
        });
    }
    None
}

/// The planner's default view: every rule any write path enforces, for every resource of the
/// model, plus the rules between resources (pool overlap, pools outside the cluster CIDR,
/// reservations outside every pool, Windows nodes without strict affinity). A rule several layers
/// enforce is reported once, at its node, with the text of the first layer a calicoctl write
/// would hit, and its message says which write paths reject it.
pub fn check(model: &Model) -> Vec<Diagnostic> {
    check_with(model, &[])
}

/// [`check`], with cluster pod CIDRs known from outside the input (the CLI's `--cluster-cidr`)
/// added to those of the input's kubeadm `ClusterConfiguration`s.
pub fn check_with(model: &Model, cluster_cidrs: &[IpNet]) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let resources = model
        .pools
        .iter()
        .map(|p| (&p.origin, Resource::IpPool(p.clone())))
        .chain(
            model
                .reservations
                .iter()
                .map(|r| (&r.origin, Resource::IpReservation(r.clone()))),
        )
        .chain(
            model
                .ipam_configs
                .iter()
                .map(|c| (&c.origin, Resource::IpamConfiguration(c.clone()))),
        )
        .chain(
            model
                .block_affinities
                .iter()
                .map(|a| (&a.origin, Resource::BlockAffinity(a.clone()))),
        );
    for (origin, resource) in resources {
        diagnostics.extend(merge(origin, every_path(&resource)));
    }
    for (origin, finding) in cluster::check(model, cluster_cidrs) {
        diagnostics.push(finding.diagnostic(origin));
    }
    diagnostics
}

/// Where a finding of the default view comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Path(WritePath),
    Planner,
}

/// The findings of every write path, and the planner's advice, for one resource.
fn every_path(resource: &Resource) -> Vec<(Source, Finding)> {
    let mut findings = Vec::new();
    for (source, options) in [
        (
            Source::Path(WritePath::Calicoctl),
            Options::path(WritePath::Calicoctl),
        ),
        (
            Source::Path(WritePath::Kubectl),
            Options::path(WritePath::Kubectl),
        ),
        (
            Source::Path(WritePath::IpamConfigure),
            Options::path(WritePath::IpamConfigure),
        ),
        (Source::Planner, Options::new(Layers::of(&[Layer::Planner]))),
    ] {
        findings.extend(
            self::resource(resource, &options)
                .into_iter()
                .map(|f| (source, f)),
        );
    }
    findings
}

/// The diagnostics of every pod's, pod template's and namespace's IPAM annotations
/// (spec §2.2–§2.7): values the CNI plugin cannot parse, `ipAddrs` with `ipAddrsNoIpam`, and more
/// than one static address per family. A namespace's annotations are reported once, on the
/// namespace, not on each of its pods.
pub fn annotations(model: &Model) -> Vec<Diagnostic> {
    use crate::model::annotations::read;
    let mut diagnostics = Vec::new();
    for namespace in &model.namespaces {
        let (_, problems) = read(&crate::model::Meta::default(), Some(&namespace.meta));
        diagnostics.extend(
            problems
                .iter()
                .map(|p| p.error.diagnostic(&namespace.origin)),
        );
    }
    let pods = model.pods.iter().map(|p| (&p.origin, &p.meta));
    let templates = model
        .workloads
        .iter()
        .map(|w| (&w.origin, &w.template.meta));
    for (origin, meta) in pods.chain(templates) {
        let (_, problems) = read(meta, None);
        diagnostics.extend(problems.iter().map(|p| p.error.diagnostic(origin)));
    }
    diagnostics
}

/// One diagnostic per (code, node): the text of the first layer a calicoctl write hits, and a
/// note naming the write paths that reject it.
fn merge(origin: &Origin, findings: Vec<(Source, Finding)>) -> Vec<Diagnostic> {
    let mut groups: Vec<Vec<(Source, Finding)>> = Vec::new();
    for (source, finding) in findings {
        match groups.iter_mut().find(|g| {
            g.first()
                .is_some_and(|(_, f)| f.code == finding.code && f.pos == finding.pos)
        }) {
            Some(group) => group.push((source, finding)),
            None => groups.push(vec![(source, finding)]),
        }
    }
    groups
        .into_iter()
        .filter_map(|mut group| {
            group.sort_by_key(|(_, f)| (f.layer, f.severity));
            let sources: Vec<Source> = group.iter().map(|(s, _)| *s).collect();
            let (_, first) = group.first()?;
            let mut diagnostic = first.diagnostic(origin);
            diagnostic.message = format!("{} {}", first.message, path_note(origin, &sources));
            Some(diagnostic)
        })
        .collect()
}

/// Says which write paths reject what `sources` found.
fn path_note(origin: &Origin, sources: &[Source]) -> String {
    let by = |path| sources.contains(&Source::Path(path));
    if by(WritePath::Calicoctl) && by(WritePath::Kubectl) {
        "(Rejected on every write path.)".to_owned()
    } else if by(WritePath::Calicoctl) {
        if crate::model::ApiGroup::of(&origin.api_version) == crate::model::ApiGroup::CrdV1 {
            "(Only calicoctl and the Calico API server reject this; written as \
             `crd.projectcalico.org/v1` straight to the CRD it is accepted and takes effect as written.)"
                .to_owned()
        } else {
            "(Rejected by calicoctl and the Calico API server; a direct CRD write with `kubectl` \
             (`crd.projectcalico.org/v1`, or the v3 CRDs) accepts it.)"
                .to_owned()
        }
    } else if by(WritePath::Kubectl) {
        "(Rejected when written straight to the CRD; calicoctl normalises it first.)".to_owned()
    } else if by(WritePath::IpamConfigure) {
        "(Only `calicoctl ipam configure` rejects this; writing the resource directly accepts it.)"
            .to_owned()
    } else {
        "(Calico accepts this; the planner flags it.)".to_owned()
    }
}

#[cfg(test)]
mod tests;
