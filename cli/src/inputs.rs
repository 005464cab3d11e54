//! Reading the paths named on the command line.

use std::io::Read;
use std::path::{Path, PathBuf};

use ipam_core::Source;

/// One input text and the name diagnostics give it.
pub struct InputFile {
    pub name: String,
    pub text: String,
    /// Where the file stopped being UTF-8 (see [`ipam_core::text_from_bytes`]).
    pub invalid_utf8_at: Option<usize>,
}

impl InputFile {
    fn new(name: String, bytes: Vec<u8>) -> InputFile {
        let (text, invalid_utf8_at) = ipam_core::text_from_bytes(bytes);
        InputFile {
            name,
            text,
            invalid_utf8_at,
        }
    }
}

pub fn read_manifests(paths: &[PathBuf]) -> Result<Vec<InputFile>, String> {
    read(paths, &["yaml", "yml", "json"])
}

pub fn read_corpus(paths: &[PathBuf]) -> Result<Vec<InputFile>, String> {
    read(paths, &["jsonl"])
}

pub fn sources(files: &[InputFile]) -> Vec<Source<'_>> {
    files
        .iter()
        .map(|f| Source::new(Some(&f.name), &f.text).with_invalid_utf8_at(f.invalid_utf8_at))
        .collect()
}

fn read(paths: &[PathBuf], extensions: &[&str]) -> Result<Vec<InputFile>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            files.push(InputFile::new("-".into(), bytes));
        } else if path.is_dir() {
            let mut found = Vec::new();
            walk(path, extensions, &mut found)?;
            found.sort();
            for file in found {
                files.push(read_file(&file)?);
            }
        } else {
            files.push(read_file(path)?);
        }
    }
    Ok(files)
}

fn walk(dir: &Path, extensions: &[&str], found: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .path();
        if path.is_dir() {
            walk(&path, extensions, found)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| extensions.contains(&e))
        {
            found.push(path);
        }
    }
    Ok(())
}

fn read_file(path: &Path) -> Result<InputFile, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(InputFile::new(path.display().to_string(), bytes))
}
