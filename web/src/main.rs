//! The Calico IPAM Planner page: a thin Yew shell over `ipam_core`. It holds no IPAM rules;
//! it keeps the user's text, asks the core for results and draws them. Nothing leaves the
//! browser.

mod api;
mod app;
mod components;
mod state;
mod storage;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
