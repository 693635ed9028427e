//! Layers: PublishLayerVersion, Get/List/Delete, layer version policies, the `Layers` a
//! function names (validated as Lambda does), and the zips an environment extracts under its
//! own `/opt`.

use crate::code::{accept_zip, ZipPackage};
use crate::errors::LambdaError;
use crate::layer_shapes::*;
use crate::shapes::Empty;
use crate::Lambda;
use bytes::Bytes;
use chrono::Utc;
use cloudemu_core::RequestContext;
use cloudemu_storage::lambda::{LambdaStore, PolicyChange};
use serde_json::{json, Value};

/// Lambda's limit on the layers one function uses.
const MAX_LAYERS: usize = 5;
/// Lambda's default and maximum page size for the layer listings.
const MAX_PAGE: usize = 50;

const NOT_FOUND: &str = "The resource you requested does not exist.";

/// A layer named by name or ARN, resolved to where it lives.
struct LayerRef {
    account: String,
    region: String,
    name: String,
}

impl LayerRef {
    fn arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{}:layer:{}",
            self.region, self.account, self.name
        )
    }

    fn key(&self, version: i64) -> (&str, &str, &str, i64) {
        (&self.account, &self.region, &self.name, version)
    }
}

/// `LayerName` is a name (in the caller's account and region) or a layer ARN; the model's
/// pattern has already checked its form.
fn layer_ref(ctx: &RequestContext, given: &str) -> LayerRef {
    match given.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", _, "lambda", region, account, "layer", name] => LayerRef {
            account: (*account).into(),
            region: (*region).into(),
            name: (*name).into(),
        },
        _ => LayerRef {
            account: ctx.account_id.clone(),
            region: ctx.region.clone(),
            name: given.into(),
        },
    }
}

/// A layer version ARN split into its layer and version; `None` if it is not one.
fn parse_version_arn(arn: &str) -> Option<(LayerRef, i64)> {
    match arn.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", _, "lambda", region, account, "layer", name, version]
            if !name.is_empty()
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit()) =>
        {
            let v = version.parse::<i64>().ok()?;
            Some((
                LayerRef {
                    account: (*account).into(),
                    region: (*region).into(),
                    name: (*name).into(),
                },
                v,
            ))
        }
        _ => None,
    }
}

fn now_lambda_timestamp() -> String {
    Utc::now().format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> LambdaError {
    LambdaError::Storage(std::io::Error::other(format!("stored {what} unreadable: {e}")).into())
}

fn code_location(ctx: &RequestContext, code_object_id: &str) -> String {
    format!("http://{}/_cloudemu/lambda/code/{code_object_id}", ctx.host)
}

fn matches(v: &LayerVersion, runtime: Option<&str>, arch: Option<&str>) -> bool {
    let has = |list: &Option<Vec<String>>, want: Option<&str>| {
        want.is_none_or(|w| list.as_ref().is_some_and(|l| l.iter().any(|x| x == w)))
    };
    has(&v.compatible_runtimes, runtime) && has(&v.compatible_architectures, arch)
}

fn page_size(max_items: Option<usize>) -> usize {
    max_items.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE)
}

/// A principal as Lambda writes it into a layer policy.
fn principal(p: &str) -> Value {
    if p == "*" {
        json!("*")
    } else if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
        json!({"AWS": format!("arn:aws:iam::{p}:root")})
    } else {
        json!({"AWS": p})
    }
}

impl Lambda {
    /// A visible layer version, its document with `Content.Location` for this caller.
    async fn layer_version(
        &self,
        ctx: &RequestContext,
        layer: &LayerRef,
        version: i64,
    ) -> Result<LayerVersion, LambdaError> {
        let r = self
            .store
            .get_layer_version(&layer.account, &layer.region, &layer.name, version)
            .await?
            .ok_or_else(|| LambdaError::ResourceNotFound(NOT_FOUND.into()))?;
        let mut v: LayerVersion =
            serde_json::from_str(&r.config).map_err(|e| corrupt("layer version", e))?;
        v.content.location = Some(code_location(ctx, &r.code_object_id));
        Ok(v)
    }

    pub(crate) async fn publish_layer_version(
        &self,
        ctx: &RequestContext,
        input: PublishLayerVersionRequest,
    ) -> Result<LayerVersion, LambdaError> {
        let layer = layer_ref(ctx, &input.layer_name);
        let content = input.content;
        if content.s3_bucket.is_some() || content.s3_key.is_some() {
            return Err(LambdaError::InvalidParameter(
                "CloudEmu does not read layer content from S3 (S3Bucket/S3Key) yet; send the zip \
                 as ZipFile."
                    .into(),
            ));
        }
        let Some(zip) = content.zip_file else {
            return Err(LambdaError::InvalidParameter(
                "Please provide a source for function code.".into(),
            ));
        };
        let ZipPackage { bytes, sha256 } = accept_zip(&zip)?;
        let code_size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        let stored = self.store.put_code(bytes).await?;
        let layer_arn = layer.arn();
        let created = now_lambda_timestamp();
        let config_for = |n: i64| {
            let v = LayerVersion {
                content: LayerContent {
                    location: None,
                    code_sha256: sha256.clone(),
                    code_size,
                },
                layer_arn: layer_arn.clone(),
                layer_version_arn: format!("{layer_arn}:{n}"),
                description: input.description.clone().unwrap_or_default(),
                created_date: created.clone(),
                version: n,
                compatible_runtimes: input.compatible_runtimes.clone().filter(|l| !l.is_empty()),
                license_info: input.license_info.clone(),
                compatible_architectures: input
                    .compatible_architectures
                    .clone()
                    .filter(|l| !l.is_empty()),
            };
            serde_json::to_string(&v).unwrap_or_default()
        };
        let published = self
            .store
            .publish_layer_version(
                &layer.account,
                &layer.region,
                &layer.name,
                &config_for,
                &stored.id,
                &uuid::Uuid::new_v4().to_string(),
            )
            .await;
        let (_, config) = match published {
            Ok(p) => p,
            Err(e) => {
                self.store.delete_code(&stored.id).await?;
                return Err(e.into());
            }
        };
        let mut v: LayerVersion =
            serde_json::from_str(&config).map_err(|e| corrupt("layer version", e))?;
        v.content.location = Some(code_location(ctx, &stored.id));
        Ok(v)
    }

    pub(crate) async fn get_layer_version(
        &self,
        ctx: &RequestContext,
        input: LayerVersionRequest,
    ) -> Result<LayerVersion, LambdaError> {
        let layer = layer_ref(ctx, &input.layer_name);
        self.layer_version(ctx, &layer, input.version_number).await
    }

    pub(crate) async fn get_layer_version_by_arn(
        &self,
        ctx: &RequestContext,
        input: LayerVersionByArnRequest,
    ) -> Result<LayerVersion, LambdaError> {
        let (layer, version) = parse_version_arn(&input.arn)
            .ok_or_else(|| LambdaError::ResourceNotFound(NOT_FOUND.into()))?;
        self.layer_version(ctx, &layer, version).await
    }

    pub(crate) async fn list_layers(
        &self,
        ctx: &RequestContext,
        input: ListLayersRequest,
    ) -> Result<ListLayersResponse, LambdaError> {
        let limit = page_size(input.max_items);
        let rows = self
            .store
            .list_layer_versions(&ctx.account_id, &ctx.region, None)
            .await?;
        let mut layers: Vec<LayersListItem> = Vec::new();
        // Rows come by layer name, newest version first: the first match per name is the
        // layer's latest matching version.
        for r in rows {
            if input
                .marker
                .as_deref()
                .is_some_and(|m| r.layer_name.as_str() <= m)
                || layers.last().is_some_and(|l| l.layer_name == r.layer_name)
            {
                continue;
            }
            let v: LayerVersion =
                serde_json::from_str(&r.config).map_err(|e| corrupt("layer version", e))?;
            if !matches(
                &v,
                input.compatible_runtime.as_deref(),
                input.compatible_architecture.as_deref(),
            ) {
                continue;
            }
            layers.push(LayersListItem {
                layer_name: r.layer_name,
                layer_arn: v.layer_arn.clone(),
                latest_matching_version: v.into(),
            });
        }
        let next_marker = (layers.len() > limit).then(|| {
            layers.truncate(limit);
            layers.last().map(|l| l.layer_name.clone())
        });
        Ok(ListLayersResponse {
            layers,
            next_marker: next_marker.flatten(),
        })
    }

    pub(crate) async fn list_layer_versions(
        &self,
        ctx: &RequestContext,
        input: ListLayerVersionsRequest,
    ) -> Result<ListLayerVersionsResponse, LambdaError> {
        let layer = layer_ref(ctx, &input.layer_name);
        let limit = page_size(input.max_items);
        // The marker is the last version a page returned; the next page continues below it.
        let before = match input.marker.as_deref() {
            None => None,
            Some(m) => Some(
                m.parse::<i64>()
                    .map_err(|_| LambdaError::InvalidParameter(format!("Invalid marker: {m}")))?,
            ),
        };
        let rows = self
            .store
            .list_layer_versions(&layer.account, &layer.region, Some(&layer.name))
            .await?;
        let mut versions: Vec<LayerVersionsListItem> = Vec::new();
        for r in rows {
            if before.is_some_and(|b| r.version >= b) {
                continue;
            }
            let v: LayerVersion =
                serde_json::from_str(&r.config).map_err(|e| corrupt("layer version", e))?;
            if matches(
                &v,
                input.compatible_runtime.as_deref(),
                input.compatible_architecture.as_deref(),
            ) {
                versions.push(v.into());
            }
            if versions.len() > limit {
                break;
            }
        }
        let next_marker = (versions.len() > limit).then(|| {
            versions.truncate(limit);
            versions.last().map(|v| v.version.to_string())
        });
        Ok(ListLayerVersionsResponse {
            layer_versions: versions,
            next_marker: next_marker.flatten(),
        })
    }

    /// Deleting a version that does not exist succeeds, as on Lambda.
    pub(crate) async fn delete_layer_version(
        &self,
        ctx: &RequestContext,
        input: LayerVersionRequest,
    ) -> Result<Empty, LambdaError> {
        let layer = layer_ref(ctx, &input.layer_name);
        let n = input.version_number;
        let arn = format!("{}:{n}", layer.arn());
        if let Some(code) = self
            .store
            .delete_layer_version(&layer.account, &layer.region, &layer.name, n, &arn)
            .await?
        {
            self.store.delete_code(&code).await?;
        }
        Ok(Empty {})
    }

    pub(crate) async fn add_layer_version_permission(
        &self,
        ctx: &RequestContext,
        input: AddLayerVersionPermissionRequest,
    ) -> Result<AddLayerVersionPermissionResponse, LambdaError> {
        let layer = layer_ref(ctx, &input.layer_name);
        let n = input.version_number;
        let arn = format!("{}:{n}", layer.arn());
        let mut statement = json!({
            "Sid": input.statement_id,
            "Effect": "Allow",
            "Principal": principal(&input.principal),
            "Action": input.action,
            "Resource": arn,
        });
        if let Some(org) = &input.organization_id {
            statement["Condition"] = json!({"StringEquals": {"aws:PrincipalOrgID": org}});
        }
        let statement = statement.to_string();
        let revision = uuid::Uuid::new_v4().to_string();
        match self
            .store
            .add_layer_permission(
                layer.key(n),
                &input.statement_id,
                &statement,
                input.revision_id.as_deref(),
                &revision,
            )
            .await?
        {
            PolicyChange::Done => Ok(AddLayerVersionPermissionResponse {
                statement,
                revision_id: revision,
            }),
            PolicyChange::NotFound => Err(LambdaError::ResourceNotFound(format!(
                "Layer version {arn} does not exist."
            ))),
            PolicyChange::RevisionMismatch => Err(LambdaError::RevisionMismatch),
            PolicyChange::StatementConflict => Err(LambdaError::Conflict(format!(
                "The statement id ({}) provided already exists. Please provide a new statement \
                 id, or remove the existing statement.",
                input.statement_id
            ))),
        }
    }

    pub(crate) async fn remove_layer_version_permission(
        &self,
        ctx: &RequestContext,
        input: RemoveLayerVersionPermissionRequest,
    ) -> Result<Empty, LambdaError> {
        let layer = layer_ref(ctx, &input.layer_name);
        let n = input.version_number;
        match self
            .store
            .remove_layer_permission(
                layer.key(n),
                &input.statement_id,
                input.revision_id.as_deref(),
                &uuid::Uuid::new_v4().to_string(),
            )
            .await?
        {
            PolicyChange::Done => Ok(Empty {}),
            PolicyChange::NotFound => Err(LambdaError::ResourceNotFound(format!(
                "Layer version {}:{n} does not exist.",
                layer.arn()
            ))),
            PolicyChange::RevisionMismatch => Err(LambdaError::RevisionMismatch),
            PolicyChange::StatementConflict => Err(LambdaError::ResourceNotFound(format!(
                "Statement {} is not found in resource policy.",
                input.statement_id
            ))),
        }
    }

    pub(crate) async fn get_layer_version_policy(
        &self,
        ctx: &RequestContext,
        input: LayerVersionRequest,
    ) -> Result<LayerVersionPolicy, LambdaError> {
        let layer = layer_ref(ctx, &input.layer_name);
        let n = input.version_number;
        let (statements, revision) =
            self.store
                .layer_policy(layer.key(n))
                .await?
                .ok_or_else(|| {
                    LambdaError::ResourceNotFound(format!(
                        "Layer version {}:{n} does not exist.",
                        layer.arn()
                    ))
                })?;
        if statements.is_empty() {
            return Err(LambdaError::ResourceNotFound(
                "No policy is associated with the given resource.".into(),
            ));
        }
        let statements: Vec<Value> = statements
            .iter()
            .map(|s| serde_json::from_str(s).map_err(|e| corrupt("layer policy", e)))
            .collect::<Result<_, _>>()?;
        Ok(LayerVersionPolicy {
            policy: json!({"Version": "2012-10-17", "Id": "default", "Statement": statements})
                .to_string(),
            revision_id: revision,
        })
    }

    /// Check the `Layers` a function names as Lambda does and answer them as its
    /// configuration lists them (`Arn`, `CodeSize`); an empty list removes them.
    pub(crate) async fn function_layers(
        &self,
        ctx: &RequestContext,
        given: &[String],
    ) -> Result<Option<Vec<Value>>, LambdaError> {
        if given.len() > MAX_LAYERS {
            return Err(LambdaError::InvalidParameter(
                "Cannot reference more than 5 layers.".into(),
            ));
        }
        let mut seen: Vec<(String, &str)> = Vec::new();
        let mut out = Vec::new();
        for arn in given {
            let Some((layer, n)) = parse_version_arn(arn) else {
                return Err(LambdaError::Validation(format!(
                    "1 validation error detected: Value '[{arn}]' at 'layers' failed to satisfy \
                     constraint: Member must satisfy constraint: [Member must have length less \
                     than or equal to 140, Member must have length greater than or equal to 1, \
                     Member must satisfy regular expression pattern: \
                     (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{{12}}:layer:[a-zA-Z0-9-_]+:[0-9]+)\
                     |(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+), Member must not be \
                     null]"
                )));
            };
            if layer.region != ctx.region {
                return Err(LambdaError::InvalidParameter(format!(
                    "Layers are not in the same region as the function. Layers are expected to \
                     be in region {}.",
                    ctx.region
                )));
            }
            let Some(r) = self
                .store
                .get_layer_version(&layer.account, &layer.region, &layer.name, n)
                .await?
            else {
                return Err(LambdaError::InvalidParameter(format!(
                    "Layer version {arn} does not exist."
                )));
            };
            let layer_arn = layer.arn();
            if let Some((_, other)) = seen.iter().find(|(l, _)| *l == layer_arn) {
                return Err(LambdaError::InvalidParameter(format!(
                    "Two different versions of the same layer are not allowed to be referenced \
                     in the same function. {other} and {arn} are versions of the same layer."
                )));
            }
            seen.push((layer_arn, arn));
            let v: LayerVersion =
                serde_json::from_str(&r.config).map_err(|e| corrupt("layer version", e))?;
            out.push(json!({"Arn": arn, "CodeSize": v.content.code_size}));
        }
        Ok((!out.is_empty()).then_some(out))
    }
}

/// The zips of a configuration's layers, in the order the function lists them (later ones
/// overwrite earlier files when extracted, as on Lambda).
pub(crate) async fn layer_zips(
    store: &LambdaStore,
    layers: Option<&[Value]>,
) -> Result<Vec<Bytes>, String> {
    let mut zips = Vec::new();
    for l in layers.unwrap_or_default() {
        let arn = l.get("Arn").and_then(Value::as_str).unwrap_or_default();
        let (layer, n) =
            parse_version_arn(arn).ok_or_else(|| format!("unreadable layer ARN {arn}"))?;
        let code = store
            .layer_code(&layer.account, &layer.region, &layer.name, n)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("layer version {arn} is missing from the data dir"))?;
        let zip = store
            .read_code(&code)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("the code of layer version {arn} is missing"))?;
        zips.push(zip);
    }
    Ok(zips)
}

/// The variables through which a runtime finds its layers, as Lambda sets them, with `/opt`
/// being the environment's own `opt` directory: executables in `opt/bin`, libraries in
/// `opt/lib`, python packages in `opt/python` (and its `lib/python3.x/site-packages`), node
/// modules in `opt/nodejs/node_modules` (and `opt/nodejs/nodeNN/node_modules`).
pub(crate) fn search_paths(
    runtime: &str,
    opt: &std::path::Path,
    task_root: &std::path::Path,
    host_path: &str,
) -> Vec<(&'static str, String)> {
    let at = |rel: &str| opt.join(rel).display().to_string();
    let mut vars = vec![
        ("PATH", format!("{host_path}:{}", at("bin"))),
        (
            "LD_LIBRARY_PATH",
            format!(
                "{}:{}:{}",
                task_root.display(),
                task_root.join("lib").display(),
                at("lib")
            ),
        ),
    ];
    if let Some(version) = runtime.strip_prefix("python") {
        vars.push((
            "PYTHONPATH",
            format!(
                "{}:{}",
                at(&format!("python/lib/python{version}/site-packages")),
                at("python")
            ),
        ));
    }
    if let Some(version) = runtime.strip_prefix("nodejs") {
        let major = version.trim_end_matches(".x");
        vars.push((
            "NODE_PATH",
            format!(
                "{}:{}:{}",
                at(&format!("nodejs/node{major}/node_modules")),
                at("nodejs/node_modules"),
                task_root.display()
            ),
        ));
    }
    vars
}

/// Extract layers in order into `opt` (blocking; run off the async threads).
pub(crate) fn extract_layers(zips: &[Bytes], opt: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(opt).map_err(|e| e.to_string())?;
    for zip in zips {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.as_ref()))
            .map_err(|e| format!("Could not unzip a layer: {e}"))?;
        archive
            .extract(opt)
            .map_err(|e| format!("Could not unzip a layer: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn runtimes_find_layers_under_the_environments_opt() {
        let opt = Path::new("/e/opt");
        let task = Path::new("/e/task");
        let py: std::collections::HashMap<_, _> = search_paths("python3.12", opt, task, "/usr/bin")
            .into_iter()
            .collect();
        assert_eq!(py["PATH"], "/usr/bin:/e/opt/bin");
        assert_eq!(
            py["PYTHONPATH"],
            "/e/opt/python/lib/python3.12/site-packages:/e/opt/python"
        );
        assert!(py["LD_LIBRARY_PATH"].ends_with(":/e/opt/lib"));
        let node: std::collections::HashMap<_, _> = search_paths("nodejs20.x", opt, task, "/bin")
            .into_iter()
            .collect();
        assert_eq!(
            node["NODE_PATH"],
            "/e/opt/nodejs/node20/node_modules:/e/opt/nodejs/node_modules:/e/task"
        );
        assert!(!node.contains_key("PYTHONPATH"));
    }

    #[test]
    fn layer_arns_parse_or_are_refused() {
        let (l, n) =
            parse_version_arn("arn:aws:lambda:us-east-1:123456789012:layer:deps:7").expect("arn");
        assert_eq!(
            (l.name.as_str(), l.account.as_str(), n),
            ("deps", "123456789012", 7)
        );
        assert!(parse_version_arn("arn:aws:lambda:us-east-1:123456789012:layer:deps").is_none());
        assert!(parse_version_arn("deps:1").is_none());
    }
}
