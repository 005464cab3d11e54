//! The root component: owns the state, turns component intents into actions, and does the few
//! things that are not state: debouncing re-planning, persisting the texts, and moving an
//! input's selection to a line.

use std::rc::Rc;

use gloo::timers::callback::Timeout;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::components::{
    address_map::{address_map, AddressMapProps},
    allocations::{allocations, AllocationsProps},
    diagnostics::{diagnostic_list, DiagnosticListProps},
    editor::{editor, markers, EditorProps},
    embed_bar::{embed_bar, EmbedBarProps},
    existing_input::{existing_input, ExistingInputProps},
    gallery::{gallery, GalleryProps},
    generators::{generators, GeneratorsProps, Tab},
    header::{header, HeaderProps, ShareLink},
    plan_view,
    pool_usage::pool_usage_list,
    resources::resource_list,
    summary::{summary, SummaryProps},
    tunnels::tunnels,
    Palette,
};
use crate::components::{class, on, with_class};
use crate::examples::REVIEW_EXAMPLES;
use crate::page::{self, Mode};
use crate::state::{self as st, Action, State};
use crate::{storage, text};

/// How long typing must pause before the results are recomputed.
const REPLAN_DELAY_MS: u32 = 150;

/// Height of one editor line in CSS pixels (`static/style.css`, `--line`).
const LINE_PX: i32 = 20;

pub struct AppProps {
    /// The page's mode and starting texts (`page::start`), read once before the app is drawn.
    pub start: Rc<page::Start>,
}

impl PartialEq for AppProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.start, &other.start)
    }
}

/// The page, drawn by the `Part` at the root (`main.rs`): a hook, its state that component's.
#[hook]
pub fn use_app(props: &AppProps) -> Html {
    let mode = props.start.clone();
    let state = {
        let start = mode.clone();
        use_reducer(move || {
            State::new(
                start.text.clone(),
                start.existing.clone(),
                start.undo.clone(),
            )
        })
    };
    let embed = mode.mode == Mode::Embed;

    // The embed view never writes storage: an embedded example must not replace the reader's
    // own text in the planner.
    use_effect_with((state.text.clone(), embed), |(text, embed)| {
        if !*embed {
            storage::save_input(text);
        }
    });
    use_effect_with((state.existing.clone(), embed), |(existing, embed)| {
        if !*embed {
            storage::save_existing(existing);
        }
    });

    // Planning runs at once on an input after a pause (a paste, a fill, the first key), then at
    // most once per pause in typing: the trailing edge of the debounce catches the last keys.
    // Both inputs share the one debounce.
    let replan_timer = use_mut_ref(|| None::<Timeout>);
    let typing = use_mut_ref(|| false);
    let debounced = |edit: fn(String) -> Action| {
        let (state, typing, replan_timer) = (state.clone(), typing.clone(), replan_timer.clone());
        Callback::from(move |text: String| {
            state.dispatch(edit(text));
            if !*typing.borrow() {
                state.dispatch(Action::Replan);
            }
            *typing.borrow_mut() = true;
            let (state, typing) = (state.clone(), typing.clone());
            // Replacing the timeout drops (cancels) the previous one.
            *replan_timer.borrow_mut() = Some(Timeout::new(REPLAN_DELAY_MS, move || {
                *typing.borrow_mut() = false;
                state.dispatch(Action::Replan);
            }));
        })
    };
    let on_input = debounced(Action::Edit);
    let on_existing_input = debounced(Action::EditExisting);

    // A share link opened in a tab already showing the planner changes only the fragment: no
    // reload happens, so the fragment is read here too.
    {
        let state = state.clone();
        use_effect_with(embed, move |&embed| {
            let listener = (!embed).then(|| {
                page::on_fragment_change(move |shared| state.dispatch(Action::LoadShared(shared)))
            });
            move || drop(listener)
        });
    }

    let textarea = use_node_ref();
    let gutter = use_node_ref();
    let on_jump = {
        let (textarea, gutter) = (textarea.clone(), gutter.clone());
        Callback::from(move |line: u32| select_line(&textarea, Some(&gutter), line))
    };
    let existing_area = use_node_ref();
    let on_jump_existing = {
        let existing_area = existing_area.clone();
        Callback::from(move |line: u32| select_line(&existing_area, None, line))
    };

    let on_fix = make_callback(&state, Action::ApplyFix);
    let on_load = make_callback(&state, Action::LoadExample);
    let on_select_block = make_callback(&state, Action::SelectBlock);
    let on_undo = make_callback(&state, |()| Action::Undo);
    let on_clear_existing = make_callback(&state, |()| Action::ClearExisting);
    let on_load_review = make_callback(&state, |()| Action::LoadExample(&REVIEW_EXAMPLES[0]));
    let on_generated = make_callback(&state, Action::AddGenerated);

    let plan = state.plan.clone();
    // The state and memos of the views drawn by plain functions (see components/mod.rs).
    let share_link = use_state(ShareLink::default);
    let copied = use_state(|| false);
    let tab = use_state(Tab::default);
    let marks = use_node_ref();
    let markers = use_memo(plan.clone(), |plan| markers(plan));
    let palette = use_memo(plan.clone(), |plan| Palette::of(plan));
    let palette: Rc<Palette> = (*palette).clone();
    let stale = state.is_stale();
    let sim = &plan.simulation;
    let simulated = !(sim.pods.is_empty()
        && sim.pools.is_empty()
        && sim.blocks.is_empty()
        && sim.tunnels.is_empty());
    // The link to the planned texts, made ahead of need: the share button can copy it at once,
    // inside the click, which is when browsers (Safari in particular) allow writing to the
    // clipboard, and the embed view links to the full planner with it. The full page keeps it
    // out of the state, so that making it does not redraw the page after every re-plan; the
    // embed view, which draws it, keeps it in state as well. The browser compresses
    // asynchronously; a result that arrives after the texts changed again is dropped.
    let prepared_link = use_mut_ref(ShareLink::default);
    let embed_link = use_state(ShareLink::default);
    {
        let (prepared_link, embed_link) = (prepared_link.clone(), embed_link.clone());
        use_effect_with(
            (plan.text.clone(), plan.existing.clone()),
            move |(text, existing)| {
                let current = Rc::new(std::cell::Cell::new(true));
                let texts = (text.clone(), existing.clone());
                let still_current = current.clone();
                page::share_url(text, existing, move |url| {
                    if still_current.get() {
                        let link = Some((texts, url));
                        if embed {
                            embed_link.set(link.clone());
                        }
                        *prepared_link.borrow_mut() = link;
                    }
                });
                move || current.set(false)
            },
        );
    }
    let open_url = embed_link
        .as_ref()
        .filter(|((text, existing), _)| *text == plan.text && *existing == plan.existing)
        .map_or_else(String::new, |(_, url)| url.clone());
    let reviewing = st::is_review(&state.existing);
    let existing_problems = sim
        .diagnostics
        .iter()
        .filter(|d| d.file.as_deref() == Some(st::EXISTING_FILE))
        .count();

    let page = html! {
        <div>
            if embed {
                { embed_bar(&EmbedBarProps { open_url }) }
            } else {
                { header(&HeaderProps {
                    text: state.text.clone(),
                    existing: state.existing.clone(),
                    link: share_link,
                    prepared: prepared_link.clone(),
                    copied,
                }) }
                { gallery(&GalleryProps { text: state.text.clone(), existing: state.existing.clone(), on_load }) }
            }
            <main class="layout">
                <section ~className={class(&["pane", "editor-pane", on(reviewing, "reviewing")])}
                    aria-label="Manifests">
                    if !mode.readonly {
                        { existing_input(&ExistingInputProps {
                            text: state.existing.clone(),
                            on_input: on_existing_input,
                            on_clear: on_clear_existing,
                            on_load_example: on_load_review,
                            textarea: existing_area,
                            problems: existing_problems,
                            compact: embed,
                        }) }
                    } else if reviewing {
                        <p class="existing-note" data-testid="existing-note">
                            { "Reviewed as a change to an existing cluster (its state is not shown)." }
                        </p>
                    }
                    { editor(&EditorProps {
                        text: state.text.clone(),
                        on_input,
                        on_jump: on_jump.clone(),
                        textarea: textarea.clone(),
                        gutter: gutter.clone(),
                        compact: embed,
                        reviewing,
                        readonly: mode.readonly,
                        markers,
                        marks,
                    }) }
                </section>
                <section class="pane results-pane" aria-label="Results">
                    { summary(&SummaryProps { plan: plan.clone(), stale, undo: state.undo.clone(), on_undo }) }
                    { diagnostic_list(&DiagnosticListProps {
                        plan: plan.clone(),
                        stale,
                        on_jump: on_jump.clone(),
                        on_jump_existing: on_jump_existing.clone(),
                        on_fix,
                    }) }
                    if simulated {
                        { allocations(&AllocationsProps {
                            plan: plan.clone(),
                            palette: palette.clone(),
                            on_select_block: on_select_block.clone(),
                            on_jump: on_jump.clone(),
                            on_jump_existing,
                        }) }
                        { plan_view(&plan, &palette, pool_usage_list) }
                        { address_map(&AddressMapProps {
                            plan: plan.clone(),
                            palette: palette.clone(),
                            selected_block: state.selected_block.clone(),
                            on_select_block,
                        }) }
                        { plan_view(&plan, &palette, tunnels) }
                    } else {
                        <section class="simulation-empty" data-testid="simulation-empty">
                            <h2 class="pane-title">{ "Simulation" }</h2>
                            <p class="empty">{ "No pods, pools, blocks or tunnel addresses were simulated for this input." }</p>
                        </section>
                    }
                    if !embed {
                        { generators(&GeneratorsProps { plan: plan.clone(), stale, on_apply: on_generated, tab }) }
                        { plan_view(&plan, &palette, resource_list) }
                    }
                </section>
            </main>
        </div>
    };
    with_class(page, &["app", on(embed, "embed")])
}

/// A callback that dispatches the action `make` builds from its argument (function_todomvc).
fn make_callback<T: 'static>(
    state: &UseReducerHandle<State>,
    make: impl Fn(T) -> Action + 'static,
) -> Callback<T> {
    let state = state.clone();
    Callback::from(move |arg| state.dispatch(make(arg)))
}

/// Focuses a text area with `line` selected and scrolled into view (a third from the top), its
/// gutter (if it has one) scrolled with it.
fn select_line(textarea: &NodeRef, gutter: Option<&NodeRef>, line: u32) {
    let Some(area) = textarea.cast::<HtmlTextAreaElement>() else {
        return;
    };
    let Some((start, end)) = text::line_range_utf16(&area.value(), line) else {
        return;
    };
    let _ = area.focus();
    let _ = area.set_selection_range(start, end);
    let top = (line as i32 - 1) * LINE_PX - area.client_height() / 3;
    area.set_scroll_top(top.max(0));
    if let Some(gutter) = gutter.and_then(|g| g.cast::<web_sys::Element>()) {
        gutter.set_scroll_top(area.scroll_top());
    }
}
