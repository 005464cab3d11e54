//! The Calico CNI plugin's pod and namespace annotations (spec §2.2–§2.7): parsing each value the
//! way the plugin does, with the plugin's own error texts (spec §6.2 A6–A14).

use std::net::IpAddr;

use serde_json::Value as Json;

use crate::diagnostic::{quoted, Diagnostic};
use crate::net::{parse_ip, Family};
use crate::yaml::Pos;

use super::fields::{Origin, Spanned};
use super::meta::Meta;

pub const IPV4_POOLS: &str = "cni.projectcalico.org/ipv4pools";
pub const IPV6_POOLS: &str = "cni.projectcalico.org/ipv6pools";
pub const IP_FAMILIES: &str = "cni.projectcalico.org/ipFamilies";
pub const IP_ADDRS: &str = "cni.projectcalico.org/ipAddrs";
pub const IP_ADDRS_NO_IPAM: &str = "cni.projectcalico.org/ipAddrsNoIpam";
pub const FLOATING_IPS: &str = "cni.projectcalico.org/floatingIPs";

/// An annotation value Calico refuses, located at the value's node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnotationError {
    /// The annotation refused (one of the constants above).
    pub annotation: &'static str,
    /// `annotation-malformed`, `annotation-conflict` or `static-ip-multiple-per-family`.
    pub code: &'static str,
    pub message: String,
    /// The error the CNI plugin returns to the kubelet.
    pub calico_message: String,
    pub pos: Pos,
    /// Where the value ends, so a fix can replace exactly its text.
    pub end: Pos,
    /// The corrected value, as YAML, when the intent is clear (a bare address, a missing list).
    pub suggestion: Option<String>,
}

impl AnnotationError {
    fn malformed(
        annotation: &'static str,
        value: &Spanned<String>,
        message: String,
        calico_message: String,
    ) -> AnnotationError {
        AnnotationError {
            annotation,
            code: "annotation-malformed",
            message,
            calico_message,
            pos: value.pos,
            end: value.end,
            suggestion: canonical_list(annotation, &value.value),
        }
    }

    /// The diagnostic, placed in the resource (pod or namespace) that carries the annotation.
    pub fn diagnostic(&self, origin: &Origin) -> Diagnostic {
        let diagnostic = origin.locate(
            Diagnostic::error(self.code, self.message.clone()).calico(self.calico_message.clone()),
            self.pos,
        );
        match &self.suggestion {
            Some(text) if self.end > self.pos => diagnostic
                .with_fix(format!("write the value as {text}"), text.clone())
                .with_edit(self.pos, self.end, text.clone()),
            Some(text) => diagnostic.with_fix(format!("write the value as {text}"), text.clone()),
            None => diagnostic,
        }
    }
}

/// Decodes `text` as Go's `encoding/json` decodes it into a `[]string`: `null` is an empty list,
/// a `null` item is the empty string, and anything else of the wrong type fails. The error is the
/// text Go would give (as closely as serde_json's error lets us tell).
pub fn decode_string_list(text: &str) -> Result<Vec<String>, String> {
    let value: Json = serde_json::from_str(text).map_err(|e| go_syntax_error(text, &e))?;
    match value {
        Json::Null => Ok(Vec::new()),
        Json::Array(items) => {
            let mut strings = Vec::with_capacity(items.len());
            let mut first_error = None;
            for item in items {
                match item {
                    Json::String(s) => strings.push(s),
                    Json::Null => strings.push(String::new()),
                    other => {
                        // Go keeps decoding after a type error and reports the first one.
                        first_error.get_or_insert_with(|| {
                            format!(
                                "json: cannot unmarshal {} into Go value of type string",
                                go_kind(&other)
                            )
                        });
                    }
                }
            }
            first_error.map_or(Ok(strings), Err)
        }
        other => Err(format!(
            "json: cannot unmarshal {} into Go value of type []string",
            go_kind(&other)
        )),
    }
}

fn go_kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// Maps a serde_json syntax error onto Go's `encoding/json` wording.
fn go_syntax_error(text: &str, error: &serde_json::Error) -> String {
    if error.is_eof() {
        return "unexpected end of JSON input".to_owned();
    }
    // serde_json counts columns in bytes, and Go names the offending byte, not the character.
    let offending = text
        .split('\n')
        .nth(error.line().saturating_sub(1))
        .and_then(|line| line.as_bytes().get(error.column().saturating_sub(1)))
        .map_or_else(|| "?".to_owned(), |&byte| go_quote_byte(byte));
    let detail = error.to_string();
    let context = if detail.starts_with("trailing characters") {
        "after top-level value"
    } else if detail.starts_with("expected `,` or `]`") {
        "after array element"
    } else if detail.starts_with("expected `,` or `}`") {
        "after object key:value pair"
    } else if detail.starts_with("expected `:`") {
        "after object key"
    } else if detail.starts_with("key must be a string") {
        "looking for beginning of object key string"
    } else if detail.starts_with("invalid escape") {
        "in string escape code"
    } else if detail.starts_with("control character") {
        "in string literal"
    } else {
        "looking for beginning of value"
    };
    format!("invalid character {offending} {context}")
}

/// Go's `quoteChar` (encoding/json): the byte as the rune of the same value, between single
/// quotes, escaped as `strconv.Quote` escapes it. A byte of a multi-byte character is shown as
/// Go shows it: 0xC3, the first byte of "é", is `'Ã'`.
fn go_quote_byte(byte: u8) -> String {
    let escaped = match byte {
        b'\'' => return r"'\''".to_owned(),
        b'"' => return "'\"'".to_owned(),
        b'\\' => r"\\".to_owned(),
        0x07 => r"\a".to_owned(),
        0x08 => r"\b".to_owned(),
        0x0c => r"\f".to_owned(),
        b'\n' => r"\n".to_owned(),
        b'\r' => r"\r".to_owned(),
        b'\t' => r"\t".to_owned(),
        0x0b => r"\v".to_owned(),
        0x00..=0x1f | 0x7f => format!(r"\x{byte:02x}"),
        // Not printable for Go's `unicode.IsPrint`: the C1 controls, no-break space, soft hyphen.
        0x80..=0xa0 | 0xad => format!(r"\u{byte:04x}"),
        _ => char::from(byte).to_string(),
    };
    format!("'{escaped}'")
}

/// The addresses of an `ipAddrs` / `ipAddrsNoIpam` annotation: at most one per family, in the
/// written order (the order the plugin requests them in).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticIps {
    pub ips: Vec<IpAddr>,
    pub pos: Pos,
    /// Where the annotation's value ends, so a fix can replace it.
    pub end: Pos,
}

impl StaticIps {
    pub fn of_family(&self, family: Family) -> Option<IpAddr> {
        self.ips
            .iter()
            .copied()
            .find(|ip| Family::of_addr(ip) == family)
    }
}

/// Parses `ipAddrs` / `ipAddrsNoIpam` (spec §2.4, A6–A9).
pub fn parse_ip_list(
    annotation: &'static str,
    value: &Spanned<String>,
) -> Result<StaticIps, AnnotationError> {
    let short = short_name(annotation);
    let texts = decode_string_list(&value.value).map_err(|err| {
        AnnotationError::malformed(
            annotation,
            value,
            format!("`{short}` must be a JSON list of IP address strings, such as [\"10.0.0.5\"]: {err}"),
            format!(
                "failed to parse IPs {v} for annotation \"{annotation}\": failed to parse '{v}' as JSON: {err}",
                v = value.value
            ),
        )
    })?;
    if texts.is_empty() {
        return Err(AnnotationError::malformed(
            annotation,
            value,
            format!(
                "`{short}` is set but lists no address; remove it or list one address per family"
            ),
            format!("annotation \"{annotation}\" specified but empty"),
        ));
    }
    let mut ips: Vec<IpAddr> = Vec::with_capacity(texts.len());
    for text in &texts {
        let Some(ip) = parse_ip(text) else {
            let hint = if text.contains('/') {
                " (write the address without a prefix length)"
            } else {
                ""
            };
            return Err(AnnotationError::malformed(
                annotation,
                value,
                format!(
                    "`{short}` entry {} is not an IP address{hint}",
                    quoted(text)
                ),
                format!("invalid IP format: {text}"),
            ));
        };
        let family = Family::of_addr(&ip);
        if ips.iter().any(|seen| Family::of_addr(seen) == family) {
            let version = family.version();
            return Err(AnnotationError {
                annotation,
                code: "static-ip-multiple-per-family",
                message: format!(
                    "`{short}` lists more than one IPv{version} address; a pod gets at most one address per family"
                ),
                calico_message: format!(
                    "cannot have more than one IPv{version} address for \"{annotation}\" annotation"
                ),
                pos: value.pos,
                end: value.end,
                suggestion: None,
            });
        }
        ips.push(ip);
    }
    Ok(StaticIps {
        ips,
        pos: value.pos,
        end: value.end,
    })
}

/// Parses `ipv4pools` / `ipv6pools`: a JSON list of pool names or CIDRs (A12: the plugin returns
/// the raw JSON error). Entries are resolved against the pools later.
pub fn parse_pool_list(
    annotation: &'static str,
    value: &Spanned<String>,
) -> Result<Vec<String>, AnnotationError> {
    decode_string_list(&value.value).map_err(|err| {
        AnnotationError::malformed(
            annotation,
            value,
            format!(
                "`{}` must be a JSON list of pool names or CIDRs, such as [\"my-pool\"]: {err}",
                short_name(annotation)
            ),
            err,
        )
    })
}

/// The families `ipFamilies` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpFamilies {
    pub ipv4: bool,
    pub ipv6: bool,
}

/// Parses `ipFamilies` (spec §2.6, A11): only `"IPv4"` and `"IPv6"`, case-sensitive; a family
/// that is not listed is not assigned.
pub fn parse_ip_families(value: &Spanned<String>) -> Result<IpFamilies, AnnotationError> {
    let texts = decode_string_list(&value.value).map_err(|err| {
        AnnotationError::malformed(
            IP_FAMILIES,
            value,
            format!("`ipFamilies` must be a JSON list such as [\"IPv4\", \"IPv6\"]: {err}"),
            format!("error parsing ipFamilies: {}", value.value),
        )
    })?;
    let mut families = IpFamilies {
        ipv4: false,
        ipv6: false,
    };
    for text in &texts {
        match text.as_str() {
            "IPv4" => families.ipv4 = true,
            "IPv6" => families.ipv6 = true,
            other => {
                return Err(AnnotationError::malformed(
                    IP_FAMILIES,
                    value,
                    format!(
                        "`ipFamilies` entry {} is neither \"IPv4\" nor \"IPv6\" (case matters)",
                        quoted(other)
                    ),
                    format!("error parsing ipFamilies: {other}"),
                ))
            }
        }
    }
    if !families.ipv4 && !families.ipv6 {
        return Err(AnnotationError::malformed(
            IP_FAMILIES,
            value,
            "`ipFamilies` names no family, so the pod would get no address at all".to_owned(),
            "IPAM plugin returned missing IP config".to_owned(),
        ));
    }
    Ok(families)
}

/// Parses `floatingIPs`: decoded only; the plugin does not check that entries are addresses.
pub fn parse_floating_ips(value: &Spanned<String>) -> Result<Vec<String>, AnnotationError> {
    decode_string_list(&value.value).map_err(|err| {
        AnnotationError::malformed(
            FLOATING_IPS,
            value,
            format!("`floatingIPs` must be a JSON list of IP address strings: {err}"),
            err,
        )
    })
}

/// The canonical form of a list annotation whose value is not a JSON list but whose intent is
/// clear: `10.0.0.5`, `[10.0.0.5]`, `10.0.0.5, 10.0.0.6`, `new-pool`, or addresses written with a
/// /32 or /128 prefix. Written as a single-quoted YAML scalar holding JSON, the form Calico's
/// documentation uses: `'["10.0.0.5"]'`.
fn canonical_list(annotation: &str, raw: &str) -> Option<String> {
    let addresses = matches!(annotation, IP_ADDRS | IP_ADDRS_NO_IPAM | FLOATING_IPS);
    let entries: Vec<String> = match decode_string_list(raw) {
        Ok(list) => list,
        Err(_) => raw
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split([',', ' ', '\t'])
            .map(|t| t.trim().trim_matches(|c| c == '"' || c == '\''))
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    if entries.is_empty() {
        return None;
    }
    let entries: Option<Vec<String>> = entries
        .into_iter()
        .map(|entry| {
            if !addresses {
                let plausible = entry
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'/' | b':'));
                return plausible.then_some(entry);
            }
            // An address with a host prefix is what was meant; anything else is not guessed.
            let bare = match entry.split_once('/') {
                Some((ip, "32" | "128")) => ip,
                Some(_) => return None,
                None => entry.as_str(),
            };
            parse_ip(bare).map(|ip| ip.to_string())
        })
        .collect();
    let quoted: Vec<String> = entries?.iter().map(|e| format!("\"{e}\"")).collect();
    let text = format!("'[{}]'", quoted.join(", "));
    // Offer it only when it differs from what is written.
    (text.trim_matches('\'') != raw.trim()).then_some(text)
}

fn short_name(annotation: &str) -> &str {
    annotation.rsplit('/').next().unwrap_or(annotation)
}

/// Which object an annotation was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnnotationSource {
    Pod,
    Namespace,
}

/// A refused annotation and the object it is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnotationProblem {
    pub source: AnnotationSource,
    pub error: AnnotationError,
}

/// What a pod's (and its namespace's) IPAM annotations ask for, as CNI ADD reads them
/// (spec §2.3). `None` means not set (or set but refused; the refusal is in the problems).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodIpamAnnotations {
    pub ipv4_pools: Option<Spanned<Vec<String>>>,
    pub ipv6_pools: Option<Spanned<Vec<String>>>,
    pub ip_families: Option<Spanned<IpFamilies>>,
    pub ip_addrs: Option<StaticIps>,
    pub ip_addrs_no_ipam: Option<StaticIps>,
    pub floating_ips: Option<Spanned<Vec<String>>>,
}

/// Reads a pod's IPAM annotations. The pool and family annotations come from the namespace unless
/// the pod sets a non-empty value; the others are read from the pod only.
pub fn read(pod: &Meta, namespace: Option<&Meta>) -> (PodIpamAnnotations, Vec<AnnotationProblem>) {
    let mut problems = Vec::new();
    let inherited = |key: &str| -> Option<(AnnotationSource, &Spanned<String>)> {
        match pod.annotation(key).filter(|v| !v.value.is_empty()) {
            Some(value) => Some((AnnotationSource::Pod, value)),
            None => namespace
                .and_then(|ns| ns.annotation(key))
                .filter(|v| !v.value.is_empty())
                .map(|value| (AnnotationSource::Namespace, value)),
        }
    };
    let pools = |key: &'static str,
                 problems: &mut Vec<AnnotationProblem>,
                 found: Option<(AnnotationSource, &Spanned<String>)>| {
        let (source, value) = found?;
        match parse_pool_list(key, value) {
            Ok(list) => Some(Spanned {
                value: list,
                pos: value.pos,
                end: value.end,
            }),
            Err(error) => {
                problems.push(AnnotationProblem { source, error });
                None
            }
        }
    };
    let v4 = inherited(IPV4_POOLS);
    let v6 = inherited(IPV6_POOLS);
    let families = inherited(IP_FAMILIES);
    let mut result = PodIpamAnnotations {
        ipv4_pools: pools(IPV4_POOLS, &mut problems, v4),
        ipv6_pools: pools(IPV6_POOLS, &mut problems, v6),
        ..PodIpamAnnotations::default()
    };
    if let Some((source, value)) = families {
        match parse_ip_families(value) {
            Ok(f) => result.ip_families = Some(Spanned::new(f, value.pos)),
            Err(error) => problems.push(AnnotationProblem { source, error }),
        }
    }
    let pod_value = |key: &str| pod.annotation(key).filter(|v| !v.value.is_empty());
    let static_ips = |key: &'static str, problems: &mut Vec<AnnotationProblem>| {
        let value = pod_value(key)?;
        parse_ip_list(key, value)
            .map_err(|error| {
                problems.push(AnnotationProblem {
                    source: AnnotationSource::Pod,
                    error,
                })
            })
            .ok()
    };
    result.ip_addrs = static_ips(IP_ADDRS, &mut problems);
    result.ip_addrs_no_ipam = static_ips(IP_ADDRS_NO_IPAM, &mut problems);
    if let (Some(_), Some(no_ipam)) = (pod_value(IP_ADDRS), pod_value(IP_ADDRS_NO_IPAM)) {
        problems.push(AnnotationProblem {
            source: AnnotationSource::Pod,
            error: AnnotationError {
                annotation: IP_ADDRS_NO_IPAM,
                code: "annotation-conflict",
                message: "`ipAddrs` and `ipAddrsNoIpam` are both set; the CNI plugin refuses the pod. Keep one of them".to_owned(),
                calico_message: "can't have both annotations: 'ipAddrs' and 'ipAddrsNoIpam' in use at the same time".to_owned(),
                pos: no_ipam.pos,
                end: no_ipam.end,
                suggestion: None,
            },
        });
    }
    if let Some(value) = pod_value(FLOATING_IPS) {
        match parse_floating_ips(value) {
            Ok(list) => result.floating_ips = Some(Spanned::new(list, value.pos)),
            Err(error) => problems.push(AnnotationProblem {
                source: AnnotationSource::Pod,
                error,
            }),
        }
    }
    (result, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Spanned<String> {
        Spanned::new(text.to_owned(), Pos { line: 3, column: 7 })
    }

    #[test]
    fn decodes_like_go_into_a_string_slice() {
        let cases: &[(&str, Result<Vec<&str>, &str>)] = &[
            (r#"["a", "b"]"#, Ok(vec!["a", "b"])),
            ("null", Ok(vec![])),
            (r#"["a", null]"#, Ok(vec!["a", ""])),
            (
                r#""10.0.0.1""#,
                Err("json: cannot unmarshal string into Go value of type []string"),
            ),
            (
                "[1]",
                Err("json: cannot unmarshal number into Go value of type string"),
            ),
            ("", Err("unexpected end of JSON input")),
            ("[\"a\"", Err("unexpected end of JSON input")),
            (
                "10.0.0.1",
                Err("invalid character '.' after top-level value"),
            ),
            (
                "x",
                Err("invalid character 'x' looking for beginning of value"),
            ),
            // Go names the offending byte as the rune of its value: the first byte of "é"
            // (0xC3) is 'Ã'; a control byte is escaped as strconv.Quote escapes it.
            (
                "[\"é\", é]",
                Err("invalid character 'Ã' looking for beginning of value"),
            ),
            (
                "[\"a\"\u{1}]",
                Err("invalid character '\\x01' after array element"),
            ),
            (
                "[\u{85}]",
                Err("invalid character 'Â' looking for beginning of value"),
            ),
            (
                "[\\]",
                Err("invalid character '\\\\' looking for beginning of value"),
            ),
        ];
        // Bytes Go's `unicode.IsPrint` refuses, which valid text only holds inside characters.
        assert_eq!(go_quote_byte(0x85), r"'\u0085'");
        assert_eq!(go_quote_byte(0xa0), r"'\u00a0'");
        assert_eq!(go_quote_byte(0xad), r"'\u00ad'");
        assert_eq!(go_quote_byte(0x7f), r"'\x7f'");
        assert_eq!(go_quote_byte(b'\''), r"'\''");
        assert_eq!(go_quote_byte(b'"'), "'\"'");
        for (text, expected) in cases {
            let got = decode_string_list(text);
            let expected = expected
                .clone()
                .map(|v| v.into_iter().map(str::to_owned).collect::<Vec<_>>())
                .map_err(str::to_owned);
            assert_eq!(got, expected, "{text:?}");
        }
    }

    #[test]
    fn ip_list_errors_use_the_plugin_texts() {
        let cases: &[(&str, &str, &str)] = &[
            ("[]", "annotation-malformed", "annotation \"cni.projectcalico.org/ipAddrs\" specified but empty"),
            (r#"["10.0.0.1/32"]"#, "annotation-malformed", "invalid IP format: 10.0.0.1/32"),
            (r#"["10.0.0.1", "10.0.0.2"]"#, "static-ip-multiple-per-family", "cannot have more than one IPv4 address for \"cni.projectcalico.org/ipAddrs\" annotation"),
            ("10.0.0.1", "annotation-malformed", "failed to parse IPs 10.0.0.1 for annotation \"cni.projectcalico.org/ipAddrs\": failed to parse '10.0.0.1' as JSON: invalid character '.' after top-level value"),
        ];
        for (text, code, calico) in cases {
            let err = parse_ip_list(IP_ADDRS, &value(text)).expect_err(text);
            assert_eq!((err.code, err.calico_message.as_str()), (*code, *calico));
            assert_eq!(err.pos.line, 3);
        }
        let ok =
            parse_ip_list(IP_ADDRS, &value(r#"["fd00::5", "::ffff:10.0.0.5"]"#)).expect("valid");
        assert_eq!(ok.of_family(Family::V4), "10.0.0.5".parse().ok());
    }

    #[test]
    fn families_are_case_sensitive_and_must_name_one() {
        assert_eq!(
            parse_ip_families(&value(r#"["IPv6"]"#)).ok(),
            Some(IpFamilies {
                ipv4: false,
                ipv6: true
            })
        );
        let err = parse_ip_families(&value(r#"["ipv4"]"#)).expect_err("lower case");
        assert_eq!(err.calico_message, "error parsing ipFamilies: ipv4");
        let err = parse_ip_families(&value("[]")).expect_err("empty");
        assert_eq!(err.calico_message, "IPAM plugin returned missing IP config");
    }

    fn meta(annotations: &[(&str, &str)]) -> Meta {
        Meta {
            annotations: annotations
                .iter()
                .map(|(k, v)| (value(k), value(v)))
                .collect(),
            ..Meta::default()
        }
    }

    #[test]
    fn pod_values_beat_namespace_values_only_when_not_empty() {
        let namespace = meta(&[(IPV4_POOLS, r#"["ns-pool"]"#), (IP_FAMILIES, r#"["IPv6"]"#)]);
        let pod = meta(&[(IPV4_POOLS, r#"["pod-pool"]"#), (IP_FAMILIES, "")]);
        let (read_back, problems) = read(&pod, Some(&namespace));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            read_back.ipv4_pools.map(|p| p.value),
            Some(vec!["pod-pool".to_owned()])
        );
        assert_eq!(
            read_back.ip_families.map(|f| f.value),
            Some(IpFamilies {
                ipv4: false,
                ipv6: true
            })
        );
    }

    #[test]
    fn namespace_problems_name_their_source_and_conflicts_are_reported() {
        let namespace = meta(&[(IPV6_POOLS, "not json")]);
        let pod = meta(&[
            (IP_ADDRS, r#"["10.0.0.1"]"#),
            (IP_ADDRS_NO_IPAM, r#"["10.0.0.2"]"#),
        ]);
        let (read_back, problems) = read(&pod, Some(&namespace));
        let got: Vec<_> = problems.iter().map(|p| (p.source, p.error.code)).collect();
        assert_eq!(
            got,
            [
                (AnnotationSource::Namespace, "annotation-malformed"),
                (AnnotationSource::Pod, "annotation-conflict"),
            ]
        );
        assert!(read_back.ip_addrs.is_some() && read_back.ip_addrs_no_ipam.is_some());
    }
}
