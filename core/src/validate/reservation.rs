//! `IPReservation` rules (spec §1.2): every entry must be a CIDR or a bare address for the Go
//! validator, and a CIDR for the CRD (`format: cidr`, a set). Calico then masks each entry to its
//! network, which the planner points out.

use ipnet::IpNet;

use crate::model::{IpReservation, Spanned};
use crate::net::{parse_cidr_or_ip, parse_ip};

use super::{metadata, quoted, CalicoError, Finding, Layer, Options};

pub(super) fn check(reservation: &IpReservation, options: &Options, out: &mut Vec<Finding>) {
    let layers = options.layers;
    if options.check_metadata
        && (layers.contains(Layer::GoValidator) || layers.contains(Layer::Crd))
    {
        metadata::check(&reservation.origin, &reservation.meta, out);
    }
    let entries = reservation.entries();
    let list = format!(
        "[{}]",
        entries
            .iter()
            .map(Spanned::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut seen = std::collections::HashSet::new();
    for (index, entry) in entries.iter().enumerate() {
        let text = entry.value.as_str();
        if parse_cidr_or_ip(text).is_none() {
            out.push(invalid(
                Layer::GoValidator,
                entry,
                CalicoError::tag("ReservedCIDRs", list.clone(), "cidrs"),
            ));
        }
        let path = format!("spec.reservedCIDRs[{index}]");
        if text.parse::<IpNet>().is_err() {
            out.push(invalid(
                Layer::Crd,
                entry,
                CalicoError::api(
                    &path,
                    format!("Invalid value: \"{text}\""),
                    format!("{path} in body must be of type cidr: \"{text}\""),
                ),
            ));
        }
        if !seen.insert(text) {
            out.push(Finding::new(
                Layer::Crd,
                "schema",
                entry.pos,
                format!("`{text}` is listed twice in `reservedCIDRs`"),
                CalicoError::api(&path, format!("Duplicate value: \"{text}\""), ""),
            ));
        }
        if let Ok(net) = text.parse::<IpNet>() {
            if net.trunc() != net {
                out.push(
                    Finding::new(
                        Layer::Planner,
                        "reservation-cidr-not-masked",
                        entry.pos,
                        format!(
                            "`{text}` has host bits set; Calico masks it and reserves all of `{}`, not just `{}`",
                            net.trunc(),
                            net.addr()
                        ),
                        CalicoError::NotCalico,
                    )
                    .with_fix(
                        format!("write the whole reserved network `{}` (or `{}` for one address)", net.trunc(), IpNet::from(net.addr())),
                        quoted(&net.trunc().to_string()),
                        super::span(entry),
                    ),
                );
            }
        }
    }
}

fn invalid(layer: Layer, entry: &Spanned<String>, error: CalicoError) -> Finding {
    let text = entry.value.as_str();
    let finding = Finding::new(
        layer,
        "reservation-cidr-invalid",
        entry.pos,
        format!("`{text}` is not a CIDR; reservations are written in CIDR notation, such as 10.0.0.0/24 or 10.0.0.1/32 for one address"),
        error,
    );
    match parse_ip(text.trim()) {
        Some(ip) => {
            let net = IpNet::from(ip);
            finding.with_fix(
                format!("write the address as `{net}`"),
                quoted(&net.to_string()),
                super::span(entry),
            )
        }
        None => finding,
    }
}
