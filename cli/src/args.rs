//! Command-line parsing, by hand: three subcommands and three flags do not need a framework.

use std::path::PathBuf;

pub const USAGE: &str = "\
usage:
  ipam-planner check       [--format text|json|sarif] [--cluster-cidr CIDR]... [--against LIVE]... PATH...
  ipam-planner simulate    [--format text|json]       [--cluster-cidr CIDR]... PATH...
  ipam-planner conformance [--format text|json] PATH...

--against LIVE names the current state (e.g. `kubectl get ippools,ipreservations,nodes,pods -A
-o yaml`, status included); the PATHs are then the change, reviewed on top of it.
PATH is a file, a directory (read recursively: *.yaml, *.yml, *.json; for conformance, *.jsonl),
or - for standard input.
Exit status: 0 no error, 1 at least one error (or failed case), 2 the command could not run.
";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

#[derive(Debug)]
pub enum Command {
    Check {
        format: Format,
        cluster_cidrs: Vec<String>,
        /// The live state the change is reviewed against (`--against`); empty for a plain check.
        against: Vec<PathBuf>,
        paths: Vec<PathBuf>,
    },
    Simulate {
        format: Format,
        cluster_cidrs: Vec<String>,
        paths: Vec<PathBuf>,
    },
    Conformance {
        format: Format,
        paths: Vec<PathBuf>,
    },
}

pub enum Exit {
    Help(String),
    Usage(String),
}

pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Command, Exit> {
    let sub = args
        .next()
        .ok_or_else(|| Exit::Usage("a command is required".into()))?;
    if matches!(sub.as_str(), "-h" | "--help" | "help") {
        return Err(Exit::Help(USAGE.into()));
    }
    let allowed: &[Format] = match sub.as_str() {
        "check" => &[Format::Text, Format::Json, Format::Sarif],
        "simulate" | "conformance" => &[Format::Text, Format::Json],
        other => return Err(Exit::Usage(format!("unknown command `{other}`"))),
    };
    let mut format = Format::Text;
    let mut cluster_cidrs = Vec::new();
    let mut against = Vec::new();
    let mut paths = Vec::new();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| Exit::Usage(format!("{name} needs a value")))
        };
        match flag.as_str() {
            "-h" | "--help" => return Err(Exit::Help(USAGE.into())),
            "--format" => {
                format = match value("--format")?.as_str() {
                    "text" => Format::Text,
                    "json" => Format::Json,
                    "sarif" => Format::Sarif,
                    other => return Err(Exit::Usage(format!("unknown format `{other}`"))),
                };
                if !allowed.contains(&format) {
                    return Err(Exit::Usage(format!(
                        "`{sub}` does not support this --format"
                    )));
                }
            }
            "--cluster-cidr" if sub != "conformance" => {
                cluster_cidrs.push(value("--cluster-cidr")?)
            }
            "--against" if sub == "check" => against.push(PathBuf::from(value("--against")?)),
            f if f.starts_with("--") => return Err(Exit::Usage(format!("unknown flag `{f}`"))),
            _ => paths.push(PathBuf::from(arg)),
        }
    }
    if paths.is_empty() {
        return Err(Exit::Usage("at least one PATH is required".into()));
    }
    Ok(match sub.as_str() {
        "check" => Command::Check {
            format,
            cluster_cidrs,
            against,
            paths,
        },
        "simulate" => Command::Simulate {
            format,
            cluster_cidrs,
            paths,
        },
        _ => Command::Conformance { format, paths },
    })
}
