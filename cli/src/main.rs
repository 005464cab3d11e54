//! `ipam-planner`: pre-deployment review of Calico IP pools and static pod IPs, for CI.
//!
//! A thin shell over `ipam_core`: it reads files, calls the engine and prints. Exit status 0
//! means no error-severity diagnostic (or every conformance case passed), 1 at least one error
//! (or a failed case), 2 the command itself could not run.

mod args;
mod conformance;
mod inputs;
mod output;

use std::io::Write;
use std::process::ExitCode;

use args::{Command, Format};

/// A large plan makes millions of small allocations; mimalloc makes them several times cheaper
/// than the system allocator (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Ask the kernel for transparent huge pages for mimalloc's arenas: a million-pod plan
    // touches gigabytes, and 4 KiB page faults would otherwise cost more than the plan itself.
    // SAFETY: setting an allocator option has no preconditions; mimalloc reads it on each OS
    // allocation.
    unsafe {
        libmimalloc_sys::mi_option_set_enabled(libmimalloc_sys::mi_option_large_os_pages, true)
    };
    let command = match args::parse(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(args::Exit::Help(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(args::Exit::Usage(message)) => {
            eprintln!("ipam-planner: {message}\n\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    match run(command) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("ipam-planner: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> Result<ExitCode, String> {
    let mut stdout = std::io::stdout().lock();
    let (text, failed) = match command {
        Command::Check {
            format,
            paths,
            cluster_cidrs,
            against,
        } => {
            let mut files = inputs::read_manifests(&paths)?;
            let options = options(&cluster_cidrs)?;
            let report = if against.is_empty() {
                ipam_core::check_with(&inputs::sources(&files), &options)
            } else {
                let live = inputs::read_manifests(&against)?;
                let report = ipam_core::review_with(
                    &inputs::sources(&live),
                    &inputs::sources(&files),
                    &options,
                );
                // Diagnostics may point into the live files too; keep them for the snippets.
                files.extend(live);
                report
            };
            let text = match format {
                Format::Text => output::check_text(&report, &files),
                Format::Json => output::json(&report),
                Format::Sarif => output::sarif(&report),
            };
            (text, report.has_errors())
        }
        Command::Simulate {
            format,
            paths,
            cluster_cidrs,
        } => {
            let files = inputs::read_manifests(&paths)?;
            let sources = inputs::sources(&files);
            let (_, simulation) = ipam_core::plan_with(&sources, &options(&cluster_cidrs)?);
            let report = ipam_core::SimulationReport::from(&simulation);
            let text = match format {
                Format::Json => output::json(&report),
                _ => output::simulate_text(&simulation, &files),
            };
            let failed = report
                .diagnostics
                .iter()
                .any(|d| d.severity == ipam_core::Severity::Error);
            (text, failed)
        }
        Command::Conformance { format, paths } => {
            let files = inputs::read_corpus(&paths)?;
            let results = conformance::run_files(&files);
            let text = match format {
                Format::Json => output::json(&results),
                _ => conformance::text(&results),
            };
            (text, results.summary.failed > 0)
        }
    };
    // A closed pipe (`| head`) is not an error of ours.
    let _ = stdout.write_all(text.as_bytes());
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The engine options from the flags; a `--cluster-cidr` that is not a CIDR stops the command.
fn options(cluster_cidrs: &[String]) -> Result<ipam_core::Options, String> {
    let cluster_cidrs = cluster_cidrs
        .iter()
        .map(|text| {
            text.parse()
                .map_err(|_| format!("--cluster-cidr {text:?} is not a CIDR such as 10.244.0.0/16"))
        })
        .collect::<Result<_, _>>()?;
    Ok(ipam_core::Options { cluster_cidrs })
}
