//! The diagnostics reference `docs/diagnostics.md` is rendered from the code catalogue, and every
//! code the engine emits on the golden fixtures must be catalogued. `UPDATE_GOLDEN=1` rewrites it.

use std::path::Path;

#[test]
fn diagnostics_reference_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/diagnostics.md");
    let rendered = ipam_core::codes::render_markdown();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &rendered).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == rendered,
        "docs/diagnostics.md is out of date: run UPDATE_GOLDEN=1 cargo test -p ipam-planner-tests"
    );
}
