//! The generated part of BACKLOG.md: every modelled operation of every service we route, and
//! whether CloudEmu serves it. A test keeps the checked-in file equal to this.

use cloudemu_core::Service;
use cloudemu_protocol::ServiceModel;
use std::sync::Arc;

pub const BEGIN: &str =
    "<!-- BEGIN GENERATED: operations (cargo test regenerates with UPDATE_BACKLOG=1) -->";
pub const END: &str = "<!-- END GENERATED -->";

/// The operations matrix, as markdown, for the services the server registers
/// (`server::implemented_services`): each one's `operations()` is what it serves.
pub fn render(services: &[Arc<dyn Service>]) -> String {
    let implemented = |id: &str| -> &'static [&'static str] {
        services
            .iter()
            .find(|s| s.id() == id)
            .map_or(&[], |s| s.operations())
    };
    let mut out = String::new();
    out.push_str("| Service | Served | Modelled |\n|---|---:|---:|\n");
    let mut sections = String::new();
    for id in cloudemu_models::SERVICES {
        let Some(model) = cloudemu_models::model_json(id)
            .and_then(|json| ServiceModel::from_json(json, None).ok())
        else {
            continue;
        };
        let mut ops: Vec<&str> = model.operations.keys().map(String::as_str).collect();
        ops.sort_unstable();
        let served: Vec<&str> = ops
            .iter()
            .copied()
            .filter(|o| implemented(id).contains(o))
            .collect();
        let missing: Vec<&str> = ops
            .iter()
            .copied()
            .filter(|o| !implemented(id).contains(o))
            .collect();
        out.push_str(&format!("| {id} | {} | {} |\n", served.len(), ops.len()));
        sections.push_str(&format!(
            "\n### {id} (model {})\n\n",
            model.metadata.api_version
        ));
        if served.is_empty() {
            sections.push_str("Served: none yet — every operation answers 501 `NotImplemented`.\n");
        } else {
            sections.push_str(&format!(
                "Served: {}\n",
                served
                    .iter()
                    .map(|o| format!("`{o}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !missing.is_empty() && !served.is_empty() {
            sections.push_str(&format!(
                "\n<details><summary>{} operations answer 501 NotImplemented</summary>\n\n{}\n</details>\n",
                missing.len(),
                missing.join(", ")
            ));
        }
    }
    format!("{BEGIN}\n{out}{sections}{END}")
}
