//! `ipam-bench`: times the planner on generated clusters beside a bare bitmap allocator that
//! does the same block claims and allocations in the same run, so results are ratios that do
//! not depend on the machine. `make bench` runs it and writes BENCHMARKS.md.
//!
//! Usage: `ipam-bench [--quick] [--planner PATH]` (PATH: the `ipam-planner` binary, for the
//! end-to-end runs that include process start).

mod bitmap;
mod workload;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use workload::ClusterShape;

struct Row {
    name: String,
    planner: Duration,
    baseline: Duration,
    note: String,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let planner_bin = args
        .iter()
        .position(|a| a == "--planner")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/release/ipam-planner"));

    let mut rows = Vec::new();
    for lines in [1_000, 10_000] {
        rows.push(parse_and_validate(lines));
    }
    let shapes: &[ClusterShape] = if quick {
        &[ClusterShape::new(100, 10_000)]
    } else {
        &[
            ClusterShape::new(1_000, 100_000),
            ClusterShape::new(5_000, 1_000_000),
        ]
    };
    for shape in shapes {
        rows.push(simulate_in_process(shape));
        rows.push(check_end_to_end(shape, &planner_bin));
    }
    rows.push(exhaustion());

    println!("| benchmark | planner | bitmap baseline | ratio | note |");
    println!("|---|---:|---:|---:|---|");
    for row in &rows {
        let ratio = row.planner.as_secs_f64() / row.baseline.as_secs_f64().max(1e-9);
        println!(
            "| {} | {:.1} ms | {:.2} ms | {:.1}× | {} |",
            row.name,
            row.planner.as_secs_f64() * 1e3,
            row.baseline.as_secs_f64() * 1e3,
            ratio,
            row.note
        );
    }
}

/// Runs `f` `runs` times and keeps the fastest, which is the least disturbed by other load.
fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let value = f();
        best = best.min(start.elapsed());
        last = Some(value);
    }
    (best, last.expect("at least one run"))
}

fn parse_and_validate(lines: usize) -> Row {
    let text = workload::manifest_lines(lines);
    let (planner, report) = best_of(5, || {
        ipam_core::check(&[ipam_core::Source::new(None, &text)])
    });
    // The baseline for parsing is reading the same bytes once: the floor of any parser.
    let (baseline, _) = best_of(5, || text.bytes().filter(|b| *b == b'\n').count());
    Row {
        name: format!("parse + validate, {lines} lines"),
        planner,
        baseline,
        note: format!(
            "{} diagnostics; baseline = one pass over the bytes",
            report.diagnostics.len()
        ),
    }
}

fn simulate_in_process(shape: &ClusterShape) -> Row {
    let text = shape.manifest();
    let (planner, report) = best_of(3, || {
        ipam_core::simulate(&[ipam_core::Source::new(None, &text)])
    });
    let (baseline, allocated) = best_of(3, || bitmap::run(shape));
    Row {
        name: format!(
            "simulate {} pods on {} nodes (in process)",
            shape.pods, shape.nodes
        ),
        planner,
        baseline,
        note: format!(
            "{} pods placed; baseline allocated {allocated}",
            report.pods.len()
        ),
    }
}

fn check_end_to_end(shape: &ClusterShape, planner_bin: &PathBuf) -> Row {
    let path = std::env::temp_dir().join(format!("ipam-bench-{}-{}.yaml", shape.nodes, shape.pods));
    if let Err(e) = std::fs::write(&path, shape.manifest()) {
        panic!("cannot write {}: {e}", path.display());
    }
    let (planner, status) = best_of(3, || {
        Command::new(planner_bin)
            .args(["check", "--format", "json"])
            .arg(&path)
            .output()
            .map(|o| o.status.code())
    });
    let (baseline, _) = best_of(3, || bitmap::run(shape));
    let _ = std::fs::remove_file(&path);
    Row {
        name: format!(
            "`ipam-planner check`, {} pods on {} nodes, process start included",
            shape.pods, shape.nodes
        ),
        planner,
        baseline,
        note: format!("exit status {:?}", status.ok().flatten()),
    }
}

fn exhaustion() -> Row {
    let shape = ClusterShape::exhausting();
    let text = shape.manifest();
    let (planner, report) = best_of(3, || {
        ipam_core::simulate(&[ipam_core::Source::new(None, &text)])
    });
    let (baseline, allocated) = best_of(3, || bitmap::run(&shape));
    Row {
        name: format!(
            "pool exhaustion: /{} pool, {} pods on {} nodes",
            shape.pool_prefix, shape.pods, shape.nodes
        ),
        planner,
        baseline,
        note: format!(
            "{} diagnostics; baseline allocated {allocated}",
            report.diagnostics.len()
        ),
    }
}
