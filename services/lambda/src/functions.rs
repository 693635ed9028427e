//! The control plane for functions: create, read, list, update code and configuration, delete.

use crate::code::ZipPackage;
use crate::errors::LambdaError;
use crate::names::{function_arn, resolve};
use crate::s3_code::CodeSource;
use crate::shapes::*;
use crate::Lambda;
use chrono::Utc;
use cloudemu_core::RequestContext;
use cloudemu_storage::lambda::{FunctionRecord, FunctionUpdate, FunctionWrite};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Lambda's default and maximum page size for ListFunctions.
const DEFAULT_PAGE: usize = 50;

fn now_lambda_timestamp() -> String {
    Utc::now().format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

fn new_revision() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn not_supported_source(
    s3_bucket: &Option<String>,
    s3_key: &Option<String>,
    image: &Option<String>,
) -> Result<(), LambdaError> {
    // S3Bucket/S3Key are read from CloudEmu's S3 (s3_code.rs); a bucket alone names nothing.
    if s3_bucket.is_some() != s3_key.is_some() {
        return Err(LambdaError::InvalidParameter(
            "Please provide a source for function code.".into(),
        ));
    }
    if image.is_some() {
        return Err(image_not_supported());
    }
    Ok(())
}

fn image_not_supported() -> LambdaError {
    LambdaError::InvalidParameter(
        "CloudEmu does not support container image functions (PackageType Image) yet; \
         deploy a .zip package instead."
            .into(),
    )
}

/// Lambda's timeout ceiling, which the model does not state.
const MAX_TIMEOUT: i64 = 900;

fn check_timeout(timeout: Option<i64>) -> Result<(), LambdaError> {
    match timeout {
        Some(t) if t > MAX_TIMEOUT => Err(LambdaError::Validation(format!(
            "1 validation error detected: Value '{t}' at 'timeout' failed to satisfy constraint: \
             Member must have value less than or equal to {MAX_TIMEOUT}"
        ))),
        _ => Ok(()),
    }
}

fn logging_config(name: &str, given: Option<Map<String, Value>>) -> Value {
    let mut cfg = given.unwrap_or_default();
    cfg.entry("LogFormat").or_insert_with(|| json!("Text"));
    cfg.entry("LogGroup")
        .or_insert_with(|| json!(format!("/aws/lambda/{name}")));
    Value::Object(cfg)
}

fn environment(env: Option<Environment>) -> Option<EnvironmentResponse> {
    env.map(|e| EnvironmentResponse {
        variables: e.variables.unwrap_or_default(),
    })
}

/// The stored configuration with the state a settled function reports.
pub(crate) fn settled(mut c: FunctionConfiguration) -> FunctionConfiguration {
    c.state = Some("Active".into());
    c.state_reason = None;
    c.state_reason_code = None;
    c.last_update_status = Some("Successful".into());
    c.last_update_status_reason = None;
    c.last_update_status_reason_code = None;
    c
}

/// What an update call answers: the update is reported in progress, as Lambda does; the next
/// read sees it done, so SDK waiters (`function_updated_v2`) return at once.
fn updating(mut c: FunctionConfiguration) -> FunctionConfiguration {
    c = settled(c);
    c.last_update_status = Some("InProgress".into());
    c.last_update_status_reason = Some("The function is being created.".into());
    c
}

pub(crate) fn parse_config(r: &FunctionRecord) -> Result<FunctionConfiguration, LambdaError> {
    serde_json::from_str(&r.config).map_err(|e| {
        LambdaError::Storage(cloudemu_storage::StorageError::Io(std::io::Error::other(
            format!(
                "stored configuration of {} unreadable: {e}",
                r.function_name
            ),
        )))
    })
}

fn to_json(c: &FunctionConfiguration) -> String {
    // A struct of strings, numbers and JSON values always serializes.
    serde_json::to_string(c).unwrap_or_default()
}

impl Lambda {
    /// The function's stored record or `ResourceNotFoundException` naming its ARN.
    pub(crate) async fn require_function(
        &self,
        ctx: &RequestContext,
        given: &str,
    ) -> Result<FunctionRecord, LambdaError> {
        let f = resolve(ctx, given)?;
        self.store
            .get_function(&ctx.account_id, &ctx.region, &f.name)
            .await?
            .ok_or_else(|| LambdaError::FunctionNotFound(function_arn(ctx, &f.name)))
    }

    pub(crate) async fn create_function(
        &self,
        ctx: &RequestContext,
        input: CreateFunctionRequest,
    ) -> Result<FunctionConfiguration, LambdaError> {
        let f = resolve(ctx, &input.function_name)?;
        if f.qualifier.is_some() {
            return Err(LambdaError::InvalidParameter(
                "Function name cannot contain a qualifier when creating a function.".into(),
            ));
        }
        if input.package_type.as_deref() == Some("Image") {
            return Err(image_not_supported());
        }
        let code = input.code;
        not_supported_source(&code.s3_bucket, &code.s3_key, &code.image_uri)?;
        let (Some(runtime), Some(handler)) = (input.runtime, input.handler) else {
            return Err(LambdaError::InvalidParameter(
                "Runtime and Handler are mandatory parameters for functions created with deployment packages.".into(),
            ));
        };
        if code.zip_file.is_none() && code.s3_key.is_none() {
            return Err(LambdaError::InvalidParameter(
                "Please provide a source for function code.".into(),
            ));
        }
        let layers = match &input.layers {
            Some(l) => self.function_layers(ctx, l).await?,
            None => None,
        };
        check_timeout(input.timeout)?;
        let source = CodeSource {
            zip_file: code.zip_file,
            s3_bucket: code.s3_bucket,
            s3_key: code.s3_key,
            s3_object_version: code.s3_object_version,
        };
        let Some(ZipPackage { bytes, sha256 }) = self.package(ctx, source).await? else {
            return Err(LambdaError::InvalidParameter(
                "Please provide a source for function code.".into(),
            ));
        };
        let code_size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        let stored = self.store.put_code(bytes).await?;
        let revision = new_revision();
        let config = FunctionConfiguration {
            function_name: f.name.clone(),
            function_arn: function_arn(ctx, &f.name),
            runtime: Some(runtime),
            role: input.role,
            handler: Some(handler),
            code_size,
            description: input.description.unwrap_or_default(),
            timeout: input.timeout.unwrap_or(3),
            memory_size: input.memory_size.unwrap_or(128),
            last_modified: now_lambda_timestamp(),
            code_sha256: sha256,
            version: "$LATEST".into(),
            environment: environment(input.environment),
            dead_letter_config: input.dead_letter_config,
            tracing_config: input
                .tracing_config
                .unwrap_or_else(|| json!({"Mode": "PassThrough"})),
            revision_id: revision.clone(),
            layers,
            state: None,
            state_reason: None,
            state_reason_code: None,
            last_update_status: None,
            last_update_status_reason: None,
            last_update_status_reason_code: None,
            package_type: "Zip".into(),
            architectures: input.architectures.unwrap_or_else(|| vec!["x86_64".into()]),
            ephemeral_storage: input
                .ephemeral_storage
                .unwrap_or_else(|| json!({"Size": 512})),
            snap_start: json!({"ApplyOn": "None", "OptimizationStatus": "Off"}),
            logging_config: logging_config(&f.name, input.logging_config),
        };
        let settled_cfg = settled(config.clone());
        let record = FunctionRecord {
            account_id: ctx.account_id.clone(),
            region: ctx.region.clone(),
            function_name: f.name.clone(),
            config: to_json(&settled_cfg),
            revision_id: revision,
            code_object_id: stored.id.clone(),
            tags: serde_json::to_string(&input.tags.unwrap_or_default()).unwrap_or_default(),
            created_at: Utc::now().timestamp_millis() as f64 / 1000.0,
            reserved_concurrency: None,
        };
        if !self.store.create_function(&record).await? {
            self.store.delete_code(&stored.id).await?;
            return Err(LambdaError::FunctionExists(f.name));
        }
        // CreateFunction answers while the function is still being created, as Lambda does;
        // with Publish it answers with the version it published.
        let mut out = if input.publish == Some(true) {
            let stored = self.require_function(ctx, &f.name).await?;
            self.publish(ctx, &stored, None).await?
        } else {
            config
        };
        out.state = Some("Pending".into());
        out.state_reason = Some("The function is being created.".into());
        out.state_reason_code = Some("Creating".into());
        Ok(out)
    }

    pub(crate) async fn get_function(
        &self,
        ctx: &RequestContext,
        input: FunctionNameRequest,
    ) -> Result<GetFunctionResponse, LambdaError> {
        let r = self.require_function(ctx, &input.function_name).await?;
        let t = self
            .target(ctx, &r, &input.function_name, input.qualifier.as_deref())
            .await?;
        let tags: BTreeMap<String, String> = serde_json::from_str(&r.tags).unwrap_or_default();
        Ok(GetFunctionResponse {
            configuration: t.config,
            code: FunctionCodeLocation {
                repository_type: "S3",
                location: format!(
                    "http://{}/_cloudemu/lambda/code/{}",
                    ctx.host, t.code_object_id
                ),
            },
            tags: (!tags.is_empty()).then_some(tags),
            concurrency: r.reserved_concurrency.map(|n| Concurrency {
                reserved_concurrent_executions: n,
            }),
        })
    }

    pub(crate) async fn get_function_configuration(
        &self,
        ctx: &RequestContext,
        input: FunctionNameRequest,
    ) -> Result<FunctionConfiguration, LambdaError> {
        let r = self.require_function(ctx, &input.function_name).await?;
        Ok(self
            .target(ctx, &r, &input.function_name, input.qualifier.as_deref())
            .await?
            .config)
    }

    pub(crate) async fn list_functions(
        &self,
        ctx: &RequestContext,
        input: ListFunctionsRequest,
    ) -> Result<ListFunctionsResponse, LambdaError> {
        let _ = input.function_version; // ALL adds published versions; none exist yet.
        let limit = input
            .max_items
            .unwrap_or(DEFAULT_PAGE)
            .clamp(1, DEFAULT_PAGE);
        let mut rows = self
            .store
            .list_functions(
                &ctx.account_id,
                &ctx.region,
                input.marker.as_deref(),
                limit + 1,
            )
            .await?;
        let next_marker = (rows.len() > limit).then(|| {
            rows.truncate(limit);
            rows.last().map(|r| r.function_name.clone())
        });
        let functions = rows
            .iter()
            .map(|r| parse_config(r).map(settled))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ListFunctionsResponse {
            functions,
            next_marker: next_marker.flatten(),
        })
    }

    /// Write a new configuration (and code) if the caller's revision, when given, is current.
    async fn write_update(
        &self,
        ctx: &RequestContext,
        r: &FunctionRecord,
        expected_revision: Option<&str>,
        mut config: FunctionConfiguration,
        code: Option<&str>,
    ) -> Result<FunctionConfiguration, LambdaError> {
        let expected = expected_revision.unwrap_or(&r.revision_id);
        if expected != r.revision_id {
            return Err(LambdaError::RevisionMismatch);
        }
        config.revision_id = new_revision();
        config.last_modified = now_lambda_timestamp();
        let config = settled(config);
        match self
            .store
            .update_function(
                &ctx.account_id,
                &ctx.region,
                &r.function_name,
                &FunctionWrite {
                    expected_revision: expected,
                    new_revision: &config.revision_id,
                    config: &to_json(&config),
                    code_object_id: code,
                },
            )
            .await?
        {
            FunctionUpdate::Done { previous_code } => {
                if code.is_some_and(|c| c != previous_code) {
                    self.store.delete_code(&previous_code).await?;
                }
                Ok(updating(config))
            }
            FunctionUpdate::NotFound => Err(LambdaError::FunctionNotFound(function_arn(
                ctx,
                &r.function_name,
            ))),
            FunctionUpdate::RevisionMismatch => Err(LambdaError::RevisionMismatch),
        }
    }

    pub(crate) async fn update_function_code(
        &self,
        ctx: &RequestContext,
        input: UpdateFunctionCodeRequest,
    ) -> Result<FunctionConfiguration, LambdaError> {
        let r = self.require_function(ctx, &input.function_name).await?;
        not_supported_source(&input.s3_bucket, &input.s3_key, &input.image_uri)?;
        let source = CodeSource {
            zip_file: input.zip_file,
            s3_bucket: input.s3_bucket,
            s3_key: input.s3_key,
            s3_object_version: input.s3_object_version,
        };
        let Some(ZipPackage { bytes, sha256 }) = self.package(ctx, source).await? else {
            return Err(LambdaError::InvalidParameter(
                "Please provide a source for function code.".into(),
            ));
        };
        let mut config = parse_config(&r)?;
        config.code_size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        config.code_sha256 = sha256;
        if let Some(a) = input.architectures {
            config.architectures = a;
        }
        if input.dry_run == Some(true) {
            // Validated, nothing stored.
            return Ok(settled(config));
        }
        let stored = self.store.put_code(bytes).await?;
        let res = self
            .write_update(
                ctx,
                &r,
                input.revision_id.as_deref(),
                config,
                Some(&stored.id),
            )
            .await;
        if res.is_err() {
            self.store.delete_code(&stored.id).await?;
        }
        let updated = res?;
        if input.publish == Some(true) {
            let fresh = self.require_function(ctx, &r.function_name).await?;
            return Ok(updating(self.publish(ctx, &fresh, None).await?));
        }
        Ok(updated)
    }

    pub(crate) async fn update_function_configuration(
        &self,
        ctx: &RequestContext,
        input: UpdateFunctionConfigurationRequest,
    ) -> Result<FunctionConfiguration, LambdaError> {
        let r = self.require_function(ctx, &input.function_name).await?;
        let layers = match &input.layers {
            Some(l) => Some(self.function_layers(ctx, l).await?),
            None => None,
        };
        check_timeout(input.timeout)?;
        let mut c = parse_config(&r)?;
        if let Some(l) = layers {
            c.layers = l;
        }
        if let Some(v) = input.role {
            c.role = v;
        }
        if let Some(v) = input.handler {
            c.handler = Some(v);
        }
        if let Some(v) = input.description {
            c.description = v;
        }
        if let Some(v) = input.timeout {
            c.timeout = v;
        }
        if let Some(v) = input.memory_size {
            c.memory_size = v;
        }
        if let Some(v) = input.runtime {
            c.runtime = Some(v);
        }
        if let Some(env) = input.environment {
            // An empty variable map removes the environment, as Lambda does.
            c.environment = environment(Some(env)).filter(|e| !e.variables.is_empty());
        }
        if let Some(v) = input.dead_letter_config {
            c.dead_letter_config = Some(v).filter(|d| d.get("TargetArn").is_some());
        }
        if let Some(v) = input.tracing_config {
            c.tracing_config = v;
        }
        if let Some(v) = input.ephemeral_storage {
            c.ephemeral_storage = v;
        }
        if let Some(v) = input.logging_config {
            c.logging_config = logging_config(&c.function_name, Some(v));
        }
        self.write_update(ctx, &r, input.revision_id.as_deref(), c, None)
            .await
    }

    pub(crate) async fn delete_function(
        &self,
        ctx: &RequestContext,
        input: FunctionNameRequest,
    ) -> Result<Empty, LambdaError> {
        let r = self.require_function(ctx, &input.function_name).await?;
        let from_name = resolve(ctx, &input.function_name)?.qualifier;
        if let Some(q) = input.qualifier.as_deref().or(from_name.as_deref()) {
            if q == "$LATEST" {
                return Err(LambdaError::InvalidParameter(
                    "$LATEST version cannot be deleted without deleting the function.".into(),
                ));
            }
            let not_found = || {
                LambdaError::FunctionNotFound(format!(
                    "{}:{q}",
                    function_arn(ctx, &r.function_name)
                ))
            };
            let n: i64 = q.parse().map_err(|_| not_found())?;
            let code = self
                .store
                .delete_version(&ctx.account_id, &ctx.region, &r.function_name, n)
                .await?
                .ok_or_else(not_found)?;
            self.exec.retire(&format!(
                "{}/{}/{}:{n}",
                ctx.account_id, ctx.region, r.function_name
            ));
            self.store.delete_code(&code).await?;
            return Ok(Empty {});
        }
        match self
            .store
            .delete_function(&ctx.account_id, &ctx.region, &r.function_name)
            .await?
        {
            Some(codes) => {
                self.exec.retire(&format!(
                    "{}/{}/{}",
                    ctx.account_id, ctx.region, r.function_name
                ));
                for code in codes {
                    self.store.delete_code(&code).await?;
                }
                Ok(Empty {})
            }
            None => Err(LambdaError::FunctionNotFound(function_arn(
                ctx,
                &r.function_name,
            ))),
        }
    }
}
