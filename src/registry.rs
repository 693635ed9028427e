//! The services this process serves and their models (parsed on first use).

use cloudemu_core::Service;
use cloudemu_protocol::{Protocol, ServiceModel};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// How a service stands in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceState {
    /// Enabled and implemented.
    Running,
    /// Modelled and enabled, but CloudEmu has no implementation yet: every call is 501.
    NotImplemented,
    /// Left out by `--services`.
    Disabled,
}

impl ServiceState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::NotImplemented => "not_implemented",
            Self::Disabled => "disabled",
        }
    }
}

/// Services that come with another: S3 clients (Terraform) read bucket tags through S3
/// Control, and DynamoDB's streams are part of DynamoDB to its users.
const IMPLIED: &[(&str, &str)] = &[("s3", "s3control"), ("dynamodb", "dynamodbstreams")];

/// Names in `--services` that are not services CloudEmu knows.
pub fn check_names(names: &[String]) -> Result<(), String> {
    let unknown: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| {
            !cloudemu_models::SERVICES
                .iter()
                .any(|s| s.eq_ignore_ascii_case(n))
        })
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "unknown service(s) in --services: {} (known: {})",
            unknown.join(", "),
            cloudemu_models::SERVICES.join(", ")
        ))
    }
}

pub struct Registry {
    services: HashMap<&'static str, Arc<dyn Service>>,
    enabled: Vec<&'static str>,
    models: HashMap<&'static str, OnceLock<Option<Arc<ServiceModel>>>>,
    /// Query-protocol models of services whose main model is another protocol (SQS).
    query_models: HashMap<&'static str, OnceLock<Option<Arc<ServiceModel>>>>,
}

impl Registry {
    /// `enabled` empty means every modelled service. Names must be valid (see [`check_names`]).
    pub fn new(implemented: Vec<Arc<dyn Service>>, enabled: &[String]) -> Self {
        let all = cloudemu_models::SERVICES;
        let wanted = |s: &str| {
            enabled.iter().any(|e| {
                e.eq_ignore_ascii_case(s)
                    || IMPLIED
                        .iter()
                        .any(|(parent, child)| *child == s && e.eq_ignore_ascii_case(parent))
            })
        };
        let enabled: Vec<&'static str> = all
            .iter()
            .copied()
            .filter(|s| enabled.is_empty() || wanted(s))
            .collect();
        Self {
            services: implemented
                .into_iter()
                .filter(|s| enabled.contains(&s.id()))
                .map(|s| (s.id(), s))
                .collect(),
            enabled,
            models: all.iter().map(|s| (*s, OnceLock::new())).collect(),
            query_models: all.iter().map(|s| (*s, OnceLock::new())).collect(),
        }
    }

    pub fn state(&self, id: &str) -> ServiceState {
        if !self.enabled.contains(&id) {
            ServiceState::Disabled
        } else if self.services.contains_key(id) {
            ServiceState::Running
        } else {
            ServiceState::NotImplemented
        }
    }

    /// Every modelled service id with its state.
    pub fn states(&self) -> Vec<(&'static str, ServiceState)> {
        cloudemu_models::SERVICES
            .iter()
            .map(|s| (*s, self.state(s)))
            .collect()
    }

    pub fn service(&self, id: &str) -> Option<&Arc<dyn Service>> {
        self.services.get(id)
    }

    /// The parsed model of a service, loaded once.
    pub fn model(&self, id: &str) -> Option<Arc<ServiceModel>> {
        let cell = self.models.get(id)?;
        cell.get_or_init(|| load(id, cloudemu_models::model_json(id)?))
            .clone()
    }

    /// The model to parse and answer a request of `protocol` with: the service's query model
    /// when it has one and the request speaks query, otherwise its main model.
    pub fn model_for(&self, id: &str, protocol: Protocol) -> Option<Arc<ServiceModel>> {
        if protocol == Protocol::Query {
            if let Some(json) = cloudemu_models::query_model_json(id) {
                let cell = self.query_models.get(id)?;
                return cell
                    .get_or_init(|| load(id, json))
                    .clone()
                    .or_else(|| self.model(id));
            }
        }
        self.model(id)
    }

    /// The enabled service that claims requests under this host, if one does.
    pub fn hosted(&self, host: &str) -> Option<&Arc<dyn Service>> {
        self.services.values().find(|s| s.claims_host(host))
    }

    /// Every enabled implemented service.
    pub fn implemented(&self) -> impl Iterator<Item = &Arc<dyn Service>> {
        self.services.values()
    }

    pub fn enabled(&self) -> &[&'static str] {
        &self.enabled
    }
}

fn load(id: &str, json: &str) -> Option<Arc<ServiceModel>> {
    match ServiceModel::from_json(json, cloudemu_models::overlay_json(id)) {
        Ok(m) => Some(Arc::new(m)),
        Err(e) => {
            tracing::error!(service = id, error = %e, "cannot load service model");
            None
        }
    }
}
