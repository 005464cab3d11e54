//! `metadata` rules shared by every Calico resource: the name must be a DNS-1123 subdomain of at
//! most 253 characters (spec §1.0), label keys and values and annotation keys must be Kubernetes
//! qualified names, and annotations may take at most 256 KiB. Calico's Go validator and
//! kube-apiserver both enforce them.

use crate::model::{Meta, Origin};

use super::k8s;
use super::{CalicoError, Finding, Layer};

/// Checks `meta` of the resource at `origin`.
pub(super) fn check(origin: &Origin, meta: &Meta, out: &mut Vec<Finding>) {
    check_name(origin, meta, out);
    check_labels(meta, out);
    check_annotations(origin, meta, out);
}

fn check_name(origin: &Origin, meta: &Meta, out: &mut Vec<Finding>) {
    let (name, pos, span) = match &meta.name {
        Some(name) => (name.value.as_str(), name.pos, super::span(name)),
        None => ("", meta.pos.unwrap_or(origin.pos), None),
    };
    let suggestion = suggested_name(name);
    let fix = |finding: Finding| match &suggestion {
        Some(s) => finding.with_fix(
            format!("rename the {} to `{s}`", origin.kind),
            s.clone(),
            span,
        ),
        None => finding,
    };
    if name.is_empty() {
        out.push(fix(Finding::new(
            Layer::GoValidator,
            "resource-name",
            pos,
            format!("the {} has no `metadata.name`", origin.kind),
            CalicoError::field("Metadata.Name", "", name_regex_reason()),
        )));
        out.push(Finding::new(
            Layer::Crd,
            "resource-name",
            pos,
            format!("the {} has no `metadata.name`", origin.kind),
            CalicoError::api(
                "metadata.name",
                "Required value",
                "name or generateName is required",
            ),
        ));
        return;
    }
    if name.len() > k8s::DNS1123_SUBDOMAIN_MAX_LENGTH {
        let over = name.len() - k8s::DNS1123_SUBDOMAIN_MAX_LENGTH;
        out.push(fix(Finding::new(
            Layer::GoValidator,
            "resource-name",
            pos,
            format!(
                "the name is {} characters long; resource names may have at most {}",
                name.len(),
                k8s::DNS1123_SUBDOMAIN_MAX_LENGTH
            ),
            CalicoError::field(
                "Metadata.Name",
                name,
                format!("name is too long by {over} bytes"),
            ),
        )));
    }
    if !k8s::is_dns1123_subdomain_text(name) {
        out.push(fix(Finding::new(
            Layer::GoValidator,
            "resource-name",
            pos,
            format!(
                "`{name}` is not a valid resource name: use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit"
            ),
            CalicoError::field("Metadata.Name", name, name_regex_reason()),
        )));
    }
    for error in k8s::dns1123_subdomain_errors(name) {
        out.push(fix(Finding::new(
            Layer::Crd,
            "resource-name",
            pos,
            format!("`{name}` is not a valid resource name (a DNS-1123 subdomain of at most 253 characters)"),
            CalicoError::api(
                "metadata.name",
                format!("Invalid value: \"{name}\""),
                error.clone(),
            ),
        )));
    }
}

fn name_regex_reason() -> String {
    format!(
        "name must consist of lower case alphanumeric characters, '-' or '.' (regex: {})",
        k8s::NAME_SUBDOMAIN_FMT
    )
}

/// A valid name close to `name`: lower-cased, other characters replaced by '-', trimmed to start
/// and end with an alphanumeric character and cut to 253 characters.
fn suggested_name(name: &str) -> Option<String> {
    let mapped: String = name
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '.' | '-' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .collect();
    let mut labels: Vec<String> = mapped
        .split('.')
        .map(|label| label.trim_matches('-').to_owned())
        .filter(|label| !label.is_empty())
        .collect();
    let mut candidate = labels.join(".");
    while candidate.len() > k8s::DNS1123_SUBDOMAIN_MAX_LENGTH {
        candidate.truncate(k8s::DNS1123_SUBDOMAIN_MAX_LENGTH);
        labels = candidate
            .split('.')
            .map(|label| label.trim_matches('-').to_owned())
            .filter(|label| !label.is_empty())
            .collect();
        candidate = labels.join(".");
    }
    (!candidate.is_empty() && candidate != name && k8s::is_dns1123_subdomain_text(&candidate))
        .then_some(candidate)
}

fn check_labels(meta: &Meta, out: &mut Vec<Finding>) {
    for (key, value) in &meta.labels {
        for error in k8s::qualified_name_errors(&key.value) {
            for layer in [Layer::GoValidator, Layer::Crd] {
                out.push(Finding::new(
                    layer,
                    "metadata-labels",
                    key.pos,
                    format!("label key `{}` is not valid: {error}", key.value),
                    match layer {
                        Layer::Crd => CalicoError::api(
                            "metadata.labels",
                            format!("Invalid value: \"{}\"", key.value),
                            error.clone(),
                        ),
                        _ => CalicoError::field(
                            "Metadata.Labels (label)",
                            key.value.clone(),
                            error.clone(),
                        ),
                    },
                ));
            }
        }
        for error in k8s::label_value_errors(&value.value) {
            for layer in [Layer::GoValidator, Layer::Crd] {
                out.push(Finding::new(
                    layer,
                    "metadata-labels",
                    value.pos,
                    format!("the value of label `{}` is not valid: {error}", key.value),
                    match layer {
                        Layer::Crd => CalicoError::api(
                            "metadata.labels",
                            format!("Invalid value: \"{}\"", value.value),
                            error.clone(),
                        ),
                        _ => CalicoError::field(
                            "Metadata.Labels (value)",
                            value.value.clone(),
                            error.clone(),
                        ),
                    },
                ));
            }
        }
    }
}

/// `key.to_lowercase()` as `k8s::qualified_name_errors` sees it. Those checks look only at
/// `/`, at byte lengths and at ASCII characters (any other character fails them, and no message
/// quotes the key), so ASCII is lower-cased and every other character becomes non-ASCII filler
/// of the byte length its lower case has, or `k` for the Kelvin sign, whose lower case is ASCII.
/// The errors are those of `to_lowercase()` (a test compares every character), without std's
/// case tables, which were 8 KB gzipped of the site.
fn lowercase_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for c in key.chars() {
        let len = match u32::from(c) {
            0..=0x7f => {
                out.push(c.to_ascii_lowercase());
                continue;
            }
            0x212a => {
                out.push('k');
                continue;
            }
            0x130 | 0x23a | 0x23e => 3,
            0x1e9e
            | 0x2126
            | 0x212b
            | 0x2c62
            | 0x2c64
            | 0x2c6d..=0x2c70
            | 0x2c7e
            | 0x2c7f
            | 0xa78d
            | 0xa7aa..=0xa7ae
            | 0xa7b0..=0xa7b2
            | 0xa7c5
            | 0xa7cb
            | 0xa7dc => 2,
            _ => c.len_utf8(),
        };
        out.push(match len {
            2 => '\u{80}',
            3 => '\u{800}',
            _ => '\u{10000}',
        });
    }
    out
}

fn check_annotations(origin: &Origin, meta: &Meta, out: &mut Vec<Finding>) {
    let mut total = 0usize;
    for (key, value) in &meta.annotations {
        // Annotation keys are checked case-insensitively (Calico lower-cases them first).
        for error in k8s::qualified_name_errors(&lowercase_key(&key.value)) {
            for layer in [Layer::GoValidator, Layer::Crd] {
                out.push(Finding::new(
                    layer,
                    "metadata-annotations",
                    key.pos,
                    format!("annotation key `{}` is not valid: {error}", key.value),
                    match layer {
                        Layer::Crd => CalicoError::api(
                            "metadata.annotations",
                            format!("Invalid value: \"{}\"", key.value),
                            error.clone(),
                        ),
                        _ => CalicoError::field(
                            "Metadata.Annotations (key)",
                            key.value.clone(),
                            error.clone(),
                        ),
                    },
                ));
            }
        }
        total = total
            .saturating_add(key.value.len())
            .saturating_add(value.value.len());
    }
    if total > k8s::TOTAL_ANNOTATION_SIZE_LIMIT {
        let over = total - k8s::TOTAL_ANNOTATION_SIZE_LIMIT;
        let pos = meta
            .annotations
            .first()
            .map_or(meta.pos.unwrap_or(origin.pos), |(k, _)| k.pos);
        let message = format!(
            "the annotations take {total} bytes; an object's annotations may take at most {} bytes",
            k8s::TOTAL_ANNOTATION_SIZE_LIMIT
        );
        out.push(Finding::new(
            Layer::GoValidator,
            "metadata-annotations",
            pos,
            message.clone(),
            CalicoError::field(
                "Metadata.Annotations (key)",
                "map[…]",
                format!("total size of annotations is too large by {over} bytes"),
            ),
        ));
        out.push(Finding::new(
            Layer::Crd,
            "metadata-annotations",
            pos,
            message,
            CalicoError::api(
                "metadata.annotations",
                "Too long",
                format!(
                    "must have at most {} bytes",
                    k8s::TOTAL_ANNOTATION_SIZE_LIMIT
                ),
            ),
        ));
    }
}

#[cfg(test)]
mod lowercase_tests {
    use super::{k8s, lowercase_key};

    #[test]
    fn lowercase_key_keeps_what_the_key_checks_see_for_every_character() {
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            let (ours, std) = (lowercase_key(&c.to_string()), c.to_lowercase().to_string());
            assert_eq!(ours.len(), std.len(), "{:x}", u32::from(c));
            if std.is_ascii() {
                assert_eq!(ours, std, "{:x}", u32::from(c));
            } else {
                assert!(!ours.is_ascii(), "{:x}", u32::from(c));
            }
        }
    }

    #[test]
    fn lowercase_key_gives_the_errors_of_to_lowercase() {
        let long = "\u{212a}".repeat(40);
        for key in [
            "Example.COM/MyName",
            "example.com/\u{212a}ey",
            "\u{130}\u{130}/x",
            "a/b/c",
            "/name",
            "prefix/",
            "caf\u{e9}.example/\u{3a3}\u{3a3}",
            &long,
            &format!("{long}/{long}"),
            &"\u{1e9e}".repeat(30),
        ] {
            assert_eq!(
                k8s::qualified_name_errors(&lowercase_key(key)),
                k8s::qualified_name_errors(&key.to_lowercase()),
                "{key}"
            );
        }
    }
}
