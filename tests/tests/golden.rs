//! Golden fixtures: every `fixtures/**/*.yaml` (or `.json`) is checked and simulated, and the
//! results must equal the `.golden.json` beside it. Run with `UPDATE_GOLDEN=1` to rewrite the
//! golden files after an intended change, then review the diff like code.

use std::fs;
use std::path::{Path, PathBuf};

use ipam_core::Source;
use serde_json::json;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The page's example gallery is checked too; its golden files live in `fixtures/examples/`.
fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../static/examples")
}

/// Where the golden file of `fixture` lives.
fn golden_path(fixture: &Path) -> PathBuf {
    match fixture.strip_prefix(examples_dir()) {
        Ok(relative) => fixtures_dir()
            .join("examples")
            .join(relative)
            .with_extension("golden.json"),
        Err(_) => fixture.with_extension("golden.json"),
    }
}

fn collect(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            // A review fixture is a pair of files, checked by `reviews_match_their_golden_files`.
            if !path.join("change.yaml").exists() {
                collect(&path, found);
            }
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) && !path.to_string_lossy().ends_with(".golden.json")
        {
            found.push(path);
        }
    }
}

/// The observed behaviour of one fixture: the check report and the simulation report.
fn observe(path: &Path) -> serde_json::Value {
    let text = fs::read_to_string(path).expect("fixture is UTF-8");
    // Names relative to the repository, so the golden files do not depend on the checkout's path.
    let name = match path.strip_prefix(examples_dir()) {
        Ok(relative) => Path::new("static/examples").join(relative),
        Err(_) => path
            .strip_prefix(fixtures_dir())
            .unwrap_or(path)
            .to_path_buf(),
    };
    let name = name.to_string_lossy().replace('\\', "/");
    let sources = [Source::new(Some(&name), &text)];
    json!({
        "check": ipam_core::check(&sources),
        "simulate": ipam_core::simulate(&sources),
    })
}

#[test]
fn fixtures_match_their_golden_files() {
    let mut fixtures = Vec::new();
    collect(&fixtures_dir(), &mut fixtures);
    collect(&examples_dir(), &mut fixtures);
    fixtures.sort();
    assert!(
        !fixtures.is_empty(),
        "no fixtures found in {}",
        fixtures_dir().display()
    );
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    for fixture in &fixtures {
        let golden_path = golden_path(fixture);
        let observation = observe(fixture);
        // `check` runs the allocation without building the plan; it must find the same.
        if observation["check"]["diagnostics"] != observation["simulate"]["diagnostics"] {
            mismatches.push(format!(
                "{}: check and simulate report different diagnostics",
                fixture.display()
            ));
        }
        for code in emitted_codes(&observation) {
            if ipam_core::codes::find(&code).is_none() {
                mismatches.push(format!(
                    "{}: code `{code}` is not in core/src/codes.rs",
                    fixture.display()
                ));
            }
        }
        let observed = serde_json::to_string_pretty(&observation).unwrap() + "\n";
        if update {
            fs::create_dir_all(golden_path.parent().unwrap()).unwrap();
            fs::write(&golden_path, &observed).unwrap();
            continue;
        }
        match fs::read_to_string(&golden_path) {
            Ok(expected) if expected == observed => {}
            Ok(expected) => mismatches.push(format!(
                "{}: differs from {}\n{}",
                fixture.display(),
                golden_path.display(),
                first_difference(&expected, &observed)
            )),
            Err(_) => mismatches.push(format!(
                "{}: no golden file {} (run with UPDATE_GOLDEN=1)",
                fixture.display(),
                golden_path.display()
            )),
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} fixtures differ:\n{}",
        mismatches.len(),
        fixtures.len(),
        mismatches.join("\n")
    );
}

fn first_difference(expected: &str, observed: &str) -> String {
    let mismatch = expected
        .lines()
        .zip(observed.lines())
        .enumerate()
        .find(|(_, (e, o))| e != o);
    match mismatch {
        Some((index, (e, o))) => format!("  line {}:\n  - {e}\n  + {o}", index + 1),
        None => format!(
            "  lengths differ: {} vs {} lines",
            expected.lines().count(),
            observed.lines().count()
        ),
    }
}

fn emitted_codes(observation: &serde_json::Value) -> Vec<String> {
    ["check", "simulate"]
        .iter()
        .filter_map(|part| observation[part]["diagnostics"].as_array())
        .flatten()
        .filter_map(|d| d["code"].as_str().map(str::to_owned))
        .collect()
}

/// Review fixtures: `fixtures/review/<case>/live.yaml` (the current state) and `change.yaml`,
/// reviewed with `check --against`; the result must equal `review.golden.json` beside them.
#[test]
fn reviews_match_their_golden_files() {
    let dir = fixtures_dir().join("review");
    let mut cases: Vec<PathBuf> = fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    cases.sort();
    assert!(!cases.is_empty(), "no review fixtures in {}", dir.display());
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    for case in &cases {
        let read = |name: &str| fs::read_to_string(case.join(name)).expect("review fixture file");
        let (live, change) = (read("live.yaml"), read("change.yaml"));
        let name = |file: &str| {
            format!(
                "review/{}/{file}",
                case.file_name().unwrap().to_string_lossy()
            )
        };
        let (live_name, change_name) = (name("live.yaml"), name("change.yaml"));
        let report = ipam_core::review_with(
            &[Source::new(Some(&live_name), &live)],
            &[Source::new(Some(&change_name), &change)],
            &ipam_core::Options::default(),
        );
        let observed = serde_json::to_value(&report).unwrap();
        for code in emitted_codes(&json!({ "check": observed.clone() })) {
            if ipam_core::codes::find(&code).is_none() {
                mismatches.push(format!(
                    "{}: code `{code}` is not in the catalogue",
                    case.display()
                ));
            }
        }
        let observed = serde_json::to_string_pretty(&observed).unwrap() + "\n";
        let golden = case.join("review.golden.json");
        if update {
            fs::write(&golden, &observed).unwrap();
            continue;
        }
        match fs::read_to_string(&golden) {
            Ok(expected) if expected == observed => {}
            Ok(expected) => mismatches.push(format!(
                "{}: differs from {}\n{}",
                case.display(),
                golden.display(),
                first_difference(&expected, &observed)
            )),
            Err(_) => mismatches.push(format!(
                "{}: no golden file (run with UPDATE_GOLDEN=1)",
                case.display()
            )),
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Every catalogued code has at least one fixture that shows it (the issue's "golden fixture
/// tests for every code"): a new code needs a fixture before it lands.
#[test]
fn every_code_has_a_fixture() {
    fn goldens(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                goldens(&path, found);
            } else if path.to_string_lossy().ends_with(".golden.json") {
                found.push(path);
            }
        }
    }
    let mut files = Vec::new();
    goldens(&fixtures_dir(), &mut files);
    let mut shown = std::collections::BTreeSet::new();
    for file in files {
        let value: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
        let wrapped = if value.get("check").is_some() {
            value
        } else {
            json!({ "check": value })
        };
        shown.extend(emitted_codes(&wrapped));
    }
    let missing: Vec<&str> = ipam_core::codes::all()
        .map(|c| c.code)
        .filter(|code| !shown.contains(*code))
        .collect();
    assert!(missing.is_empty(), "codes without a fixture: {missing:?}");
}
