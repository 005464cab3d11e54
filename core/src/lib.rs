//! The Calico IPAM rule engine.
//!
//! Pure: no I/O, no clocks, no web types. Every entry point takes input texts and returns data,
//! a result plus diagnostics, never an error for bad user input, and never panics.
//! `check` and `simulate` return the contract's JSON shapes (`report`), which the CLI prints
//! and the page's JS API hands out unchanged.

pub mod cni;
pub mod codes;
pub mod diagnostic;
pub mod generate;
pub mod gorand;
pub mod ipam;
pub mod lifecycle;
pub mod manifest;
pub mod model;
pub mod net;
mod net_index;
pub mod report;
pub mod review;
pub mod selector;
pub mod simulate;
mod sorted_chunks;
pub mod validate;
pub mod yaml;

pub use diagnostic::{Diagnostic, Fix, ResourceRef, Severity, Summary, TextEdit};
pub use manifest::{text_from_bytes, Document, ResourceSummary, Source};
pub use report::{CheckReport, SimulationReport};
pub use simulate::Simulation;
pub use yaml::Pos;

/// The kinds the planner models, with the API groups they may come from.
const SUPPORTED_KINDS: &[&str] = &[
    "IPPool",
    "IPReservation",
    "IPAMConfiguration",
    "IPAMConfig",
    "BlockAffinity",
    "Pod",
    "Namespace",
    "Node",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "ClusterConfiguration",
];

/// Everything the planner learned from the input: the documents and what is wrong with them.
#[derive(Clone, Debug, Default)]
pub struct Analysis {
    pub documents: Vec<Document>,
    /// The typed resources of the documents.
    pub model: model::Model,
    pub diagnostics: Vec<Diagnostic>,
}

impl Analysis {
    pub fn resources(&self) -> Vec<ResourceSummary> {
        self.documents.iter().map(ResourceSummary::from).collect()
    }
}

/// What the caller knows beyond the input texts.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The cluster's pod CIDRs (`--cluster-cidr`), in addition to any kubeadm
    /// ClusterConfiguration in the input.
    pub cluster_cidrs: Vec<ipnet::IpNet>,
}

/// Parses and checks the input texts.
pub fn analyze(sources: &[Source<'_>]) -> Analysis {
    analyze_with(sources, &Options::default())
}

/// [`analyze`] with options.
pub fn analyze_with(sources: &[Source<'_>], options: &Options) -> Analysis {
    let (documents, diagnostics) = manifest::parse(sources);
    analyze_documents(documents, diagnostics, options)
}

/// Checks documents already read (with the diagnostics found while reading them).
fn analyze_documents(
    documents: Vec<Document>,
    mut diagnostics: Vec<Diagnostic>,
    options: &Options,
) -> Analysis {
    let (model, schema_problems) = model::build(&documents);
    diagnostics.extend(schema_problems);
    for doc in &documents {
        // A ConfigMap carrying the CNI network configuration is modelled (it overrides the
        // assumed CNI settings); other ConfigMaps are not.
        let cni_config_map =
            doc.kind == "ConfigMap" && doc.node.at(&["data", "cni_network_config"]).is_some();
        if !SUPPORTED_KINDS.contains(&doc.kind.as_str()) && !cni_config_map {
            diagnostics.push(doc.locate(
                Diagnostic::info(
                    "unsupported-kind",
                    format!(
                        "kind {} is not modelled by the planner and is ignored",
                        doc.kind
                    ),
                ),
                doc.node.get("kind"),
            ));
        }
    }
    diagnostics.extend(validate::check_with(&model, &options.cluster_cidrs));
    diagnostics.extend(validate::annotations(&model));
    diagnostic::sort(&mut diagnostics);
    Analysis {
        documents,
        model,
        diagnostics,
    }
}

/// `ipam-planner check` and the JS API's `check(text)`: every diagnostic, including what the
/// simulated allocation finds.
pub fn check(sources: &[Source<'_>]) -> CheckReport {
    check_with(sources, &Options::default())
}

/// [`check`] with options.
pub fn check_with(sources: &[Source<'_>], options: &Options) -> CheckReport {
    // The same run as `plan_with`, keeping only what the diagnostics need.
    let analysis = analyze_with(sources, options);
    let mut simulation = simulate::diagnostics_only(&analysis.documents, &analysis.model);
    let mut diagnostics = analysis.diagnostics;
    diagnostics.append(&mut simulation.diagnostics);
    diagnostic::sort(&mut diagnostics);
    CheckReport::new(diagnostics)
}

/// The cluster run: what Calico would allocate for the input. The simulation's diagnostics are
/// the analysis' plus what the run finds, sorted; `check` reports the same list.
pub fn plan(sources: &[Source<'_>]) -> (Analysis, Simulation) {
    plan_with(sources, &Options::default())
}

/// [`plan`] with options.
pub fn plan_with(sources: &[Source<'_>], options: &Options) -> (Analysis, Simulation) {
    let (documents, diagnostics) = manifest::parse(sources);
    plan_documents(documents, diagnostics, options)
}

/// [`plan`] of documents already read (the review plans a state merged from two inputs).
pub(crate) fn plan_documents(
    documents: Vec<Document>,
    diagnostics: Vec<Diagnostic>,
    options: &Options,
) -> (Analysis, Simulation) {
    let analysis = analyze_documents(documents, diagnostics, options);
    let mut simulation = simulate::run(&analysis.documents, &analysis.model);
    let mut diagnostics = analysis.diagnostics.clone();
    diagnostics.append(&mut simulation.diagnostics);
    diagnostic::sort(&mut diagnostics);
    simulation.diagnostics = diagnostics;
    (analysis, simulation)
}

/// `ipam-planner simulate` and the JS API's `simulate(text)`.
pub fn simulate(sources: &[Source<'_>]) -> SimulationReport {
    SimulationReport::from(&plan(sources).1)
}

/// `ipam-planner check --against EXISTING CHANGE`: the change reviewed against live state.
pub fn review_with(
    existing: &[Source<'_>],
    change: &[Source<'_>],
    options: &Options,
) -> CheckReport {
    CheckReport::new(review::review(existing, change, options).1.diagnostics)
}
