//! The question above a lookup grid: one labelled field per declared parameter (keyboard
//! first: Enter in any field asks), checked before anything is sent, its problems in words next
//! to the fields and in a summary the screen reader hears.

use crate::grid_model::question::{label_of, problem_text};
use crate::session::{Phase, Wanted, use_portal};
use crate::words::{GridWord, w};
use leptos::prelude::*;
use leptos::task::spawn_local;
use mes_client::ask::{
    Answers, ChoicesFrom, DEFAULT_MAX_ROWS, ParamDefinition, ParamKind, ParamProblem, choices_in,
};
use mes_client::{LookupDefinition, Rows};
use std::sync::Arc;

/// The form: `draft` holds what is typed, `problems` what the last check found; `ask` runs
/// when the person asks (the grid checks the draft and sends it, or fills `problems`).
#[component]
pub fn QuestionForm(
    lookup: Arc<LookupDefinition>,
    draft: RwSignal<Answers>,
    problems: RwSignal<Vec<ParamProblem>>,
    ask: Callback<()>,
) -> impl IntoView {
    let summary_lookup = lookup.clone();
    let fields = lookup
        .parameters
        .iter()
        .flat_map(|param| {
            let ends: Vec<(String, String)> = param
                .value_names()
                .map(|name| (name.to_owned(), label_of(&lookup, name)))
                .collect();
            ends.into_iter().map(|(name, label)| {
                let field = Field {
                    param: param.clone(),
                    name,
                    label,
                };
                field.view(draft, problems)
            })
        })
        .collect_view();
    view! {
        <form class="question" aria-label=w(GridWord::QuestionTitle) novalidate
            on:submit=move |ev| { ev.prevent_default(); ask.run(()); }>
            <div class="fields">{fields}</div>
            <button type="submit" class="ask">{w(GridWord::Ask)}</button>
            <div class="problems" role="alert" data-state="question-problems">
                {move || {
                    let found = problems.get();
                    (!found.is_empty()).then(|| {
                        let lookup = summary_lookup.clone();
                        view! {
                            <p>{w(GridWord::FixQuestion)}</p>
                            <ul>{found.iter().map(|p| view! { <li>{problem_text(&lookup, p)}</li> }).collect_view()}</ul>
                        }
                    })
                }}
            </div>
        </form>
    }
}

/// One field: a parameter, or one end of a range.
struct Field {
    param: ParamDefinition,
    /// The value's name (the address's `p.<name>`).
    name: String,
    label: String,
}

impl Field {
    fn view(self, draft: RwSignal<Answers>, problems: RwSignal<Vec<ParamProblem>>) -> AnyView {
        let Field { param, name, label } = self;
        let id = format!("ask-{}", field_id(&name));
        let note = if param.required && name == param.name {
            w(GridWord::Required)
        } else {
            w(GridWord::Optional)
        };
        let value_name = name.clone();
        let value = move || draft.with(|d| d.get(&value_name).cloned().unwrap_or_default());
        let input_name = name.clone();
        let set = move |text: String| {
            draft.update(|d| {
                d.insert(input_name.clone(), text);
            });
        };
        let invalid_name = name.clone();
        let invalid = move || {
            problems
                .with(|p| p.iter().any(|p| p.name == invalid_name))
                .then_some("true")
        };
        let control = match (param.kind, &param.choices_from) {
            (ParamKind::Choice, Some(from)) => {
                let list = format!("{id}-choices");
                let offered = read_choices(from);
                view! {
                    <input id=id.clone() name=name.clone() type="text" list=list.clone() aria-invalid=invalid
                        autocomplete="off" spellcheck="false"
                        prop:value=value on:input=move |ev| set(event_target_value(&ev)) />
                    <Offer list=list offered=offered />
                }
                .into_any()
            }
            (ParamKind::Choice, None) => {
                let any = (!param.required).then(|| view! { <option value="">{w(GridWord::Any)}</option> });
                let choices = param.choices.clone();
                view! {
                    <select id=id.clone() name=name.clone() aria-invalid=invalid
                        on:change=move |ev| set(event_target_value(&ev))
                        prop:value=value>
                        {any}
                        {choices.into_iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                    </select>
                }
                .into_any()
            }
            (kind, _) => {
                let (kind_attr, mode) = match kind {
                    ParamKind::DateTime | ParamKind::DateRange => ("datetime-local", None),
                    ParamKind::LastHours => ("number", Some("numeric")),
                    ParamKind::Number => ("text", Some("decimal")),
                    _ => ("text", None),
                };
                let hint = (kind == ParamKind::LastHours).then(|| w(GridWord::HoursHint));
                view! {
                    <input id=id.clone() name=name.clone() type=kind_attr inputmode=mode aria-invalid=invalid
                        min=(kind == ParamKind::LastHours).then_some("1") step=(kind == ParamKind::LastHours).then_some("1")
                        title=hint autocomplete="off" spellcheck="false"
                        prop:value=value on:input=move |ev| set(event_target_value(&ev)) />
                }
                .into_any()
            }
        };
        view! {
            <div class="field">
                <label for=id>{label}" "<span class="muted">{format!("({note})")}</span></label>
                {control}
            </div>
        }
        .into_any()
    }
}

/// A choice's values read from another lookup.
#[derive(Clone, PartialEq)]
enum Offered {
    Reading,
    Read(Vec<(String, Option<String>)>),
    /// The lookup could not be read (or config.json's lookup is gone): the value is typed.
    Unread,
}

/// Reads the choices `from` names, as the signed-in person (the lookup asked with its defaults,
/// at most [`DEFAULT_MAX_ROWS`] rows).
fn read_choices(from: &ChoicesFrom) -> RwSignal<Offered> {
    let offered = RwSignal::new(Offered::Reading);
    let portal = use_portal();
    let lookup = portal
        .phase
        .with_untracked(Phase::config)
        .and_then(|c| c.lookups.iter().find(|l| l.name == from.lookup).cloned());
    let from = from.clone();
    spawn_local(async move {
        let query = lookup.as_ref().map(|l| (l, l.query(&Answers::new())));
        let Some((lookup, Ok(query))) = query else {
            offered.try_set(Offered::Unread);
            return;
        };
        let (mut rows, max_rows) = (Rows::default(), lookup.row_limit().min(DEFAULT_MAX_ROWS));
        let result = portal
            .run_lookup(lookup, &query, Wanted::Rows { max_rows }, &mut rows)
            .await;
        offered.try_set(match result {
            Ok(()) => Offered::Read(choices_in(&rows, &from)),
            Err(_) => Offered::Unread,
        });
    });
    offered
}

/// The list a field offers (`<datalist>`: pick or type), and a note when it could not be read.
#[component]
fn Offer(list: String, offered: RwSignal<Offered>) -> impl IntoView {
    let options = move || match offered.get() {
        Offered::Read(choices) => choices
            .into_iter()
            .map(|(value, label)| view! { <option value=value>{label}</option> })
            .collect_view()
            .into_any(),
        _ => ().into_any(),
    };
    view! {
        <datalist id=list>{options}</datalist>
        {move || (offered.get() == Offered::Unread).then(|| view! {
            <span class="muted choices-unread" role="status" data-state="choices-unread">{w(GridWord::ChoicesUnread)}</span>
        })}
    }
}

/// An element id part for a parameter name: letters, digits, `-` and `_`, the rest as `_`.
fn field_id(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
