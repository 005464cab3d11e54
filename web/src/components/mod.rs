pub mod diagnostics;
pub mod editor;
pub mod resources;
