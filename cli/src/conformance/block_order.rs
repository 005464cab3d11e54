//! Conformance cases of `block_order.jsonl`: which blocks Calico tries, in order, when `host`
//! claims a new block from `pool` with `blockSize`. The rule lives in `ipam_core::gorand`; this
//! module only reads the case, asks the engine and compares.

use ipam_core::gorand::block_rotation;
use serde_json::Value;

use super::{expect_eq, outcome, Outcome};

pub fn run(case: &Value) -> Outcome {
    outcome(check(case))
}

fn check(case: &Value) -> Result<(), String> {
    let input = &case["input"];
    // The pool's type (`ipnet::IpNet`) follows from `block_rotation`'s signature.
    let pool = input["pool"]
        .as_str()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| format!("input.pool is not a CIDR: {}", input["pool"]))?;
    let block_size = input["blockSize"]
        .as_u64()
        .and_then(|size| u8::try_from(size).ok())
        .ok_or_else(|| {
            format!(
                "input.blockSize is not a prefix length: {}",
                input["blockSize"]
            )
        })?;
    let host = input["host"]
        .as_str()
        .ok_or_else(|| format!("input.host is not a string: {}", input["host"]))?;
    let count = input["count"]
        .as_u64()
        .and_then(|count| usize::try_from(count).ok())
        .ok_or_else(|| format!("input.count is not a count: {}", input["count"]))?;

    let rotation = block_rotation(pool, block_size, host);
    let expect = case["expect"]
        .as_object()
        .ok_or("the case has no `expect` object")?;
    // Every assertion the case makes must be checked, so a key this runner does not know fails
    // the case instead of passing it unchecked.
    for (key, expected) in expect {
        match key.as_str() {
            "seed" => expect_eq("seed", expected, &Value::from(rotation.seed()))?,
            "blocks" => {
                let actual: Vec<Value> = rotation
                    .clone()
                    .take(count)
                    .map(|block| Value::String(block.to_string()))
                    .collect();
                expect_eq("blocks", expected, &Value::Array(actual))?;
            }
            other => return Err(format!("unhandled assertion `{other}`")),
        }
    }
    Ok(())
}
