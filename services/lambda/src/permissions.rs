//! The function's resource-based policy: AddPermission, RemovePermission, GetPolicy.

use crate::errors::LambdaError;
use crate::names::{function_arn, resolve};
use crate::shapes::{AddPermissionRequest, Empty, FunctionNameRequest, RemovePermissionRequest};
use crate::Lambda;
use cloudemu_core::RequestContext;
use serde_json::{json, Map, Value};

/// A principal as Lambda writes it into the policy.
fn principal(p: &str) -> Value {
    if p == "*" {
        json!("*")
    } else if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
        json!({"AWS": format!("arn:aws:iam::{p}:root")})
    } else if p.ends_with(".amazonaws.com") || p.ends_with(".amazonaws.com.cn") {
        json!({"Service": p})
    } else {
        json!({"AWS": p})
    }
}

impl Lambda {
    /// Whose policy a request addresses: the function's (`""`, also for `$LATEST`) or an
    /// existing version's or alias's (the qualifier parameter or `name:qualifier`).
    async fn policy_qualifier(
        &self,
        ctx: &RequestContext,
        name: &str,
        given: &str,
        qualifier: Option<&str>,
    ) -> Result<String, LambdaError> {
        let from_name = resolve(ctx, given)?.qualifier;
        let q = match qualifier.or(from_name.as_deref()) {
            None | Some("$LATEST") => return Ok(String::new()),
            Some(q) => q,
        };
        let not_found =
            || LambdaError::FunctionNotFound(format!("{}:{q}", function_arn(ctx, name)));
        let exists = match q.parse::<i64>() {
            Ok(n) => self
                .store
                .get_version(&ctx.account_id, &ctx.region, name, n)
                .await?
                .is_some(),
            Err(_) => self
                .store
                .get_alias(&ctx.account_id, &ctx.region, name, q)
                .await?
                .is_some(),
        };
        if exists {
            Ok(q.to_string())
        } else {
            Err(not_found())
        }
    }

    pub(crate) async fn add_permission(
        &self,
        ctx: &RequestContext,
        input: AddPermissionRequest,
    ) -> Result<Value, LambdaError> {
        let r = self.require_function(ctx, &input.function_name).await?;
        let qualifier = self
            .policy_qualifier(
                ctx,
                &r.function_name,
                &input.function_name,
                input.qualifier.as_deref(),
            )
            .await?;
        if input
            .revision_id
            .as_deref()
            .is_some_and(|rev| rev != r.revision_id)
        {
            return Err(LambdaError::RevisionMismatch);
        }
        let mut condition = Map::new();
        if let Some(arn) = &input.source_arn {
            condition.insert("ArnLike".into(), json!({"AWS:SourceArn": arn}));
        }
        let mut equals = Map::new();
        if let Some(acct) = &input.source_account {
            equals.insert("AWS:SourceAccount".into(), json!(acct));
        }
        if let Some(org) = &input.principal_org_id {
            equals.insert("aws:PrincipalOrgID".into(), json!(org));
        }
        if let Some(auth) = &input.function_url_auth_type {
            equals.insert("lambda:FunctionUrlAuthType".into(), json!(auth));
        }
        if !equals.is_empty() {
            condition.insert("StringEquals".into(), Value::Object(equals));
        }
        let mut statement = json!({
            "Sid": input.statement_id,
            "Effect": "Allow",
            "Principal": principal(&input.principal),
            "Action": input.action,
            "Resource": if qualifier.is_empty() {
                function_arn(ctx, &r.function_name)
            } else {
                format!("{}:{qualifier}", function_arn(ctx, &r.function_name))
            },
        });
        if !condition.is_empty() {
            statement["Condition"] = Value::Object(condition);
        }
        let text = statement.to_string();
        match self
            .store
            .add_permission(
                &ctx.account_id,
                &ctx.region,
                &r.function_name,
                &qualifier,
                &input.statement_id,
                &text,
            )
            .await?
        {
            Some(true) => Ok(json!({"Statement": text})),
            Some(false) => Err(LambdaError::Conflict(
                "The statement id (sid) provided already exists. Please provide a new statement \
                 id, or remove the existing statement."
                    .into(),
            )),
            None => Err(LambdaError::FunctionNotFound(function_arn(
                ctx,
                &r.function_name,
            ))),
        }
    }

    pub(crate) async fn remove_permission(
        &self,
        ctx: &RequestContext,
        input: RemovePermissionRequest,
    ) -> Result<Empty, LambdaError> {
        let r = self.require_function(ctx, &input.function_name).await?;
        let qualifier = self
            .policy_qualifier(
                ctx,
                &r.function_name,
                &input.function_name,
                input.qualifier.as_deref(),
            )
            .await?;
        if input
            .revision_id
            .as_deref()
            .is_some_and(|rev| rev != r.revision_id)
        {
            return Err(LambdaError::RevisionMismatch);
        }
        if self
            .store
            .remove_permission(
                &ctx.account_id,
                &ctx.region,
                &r.function_name,
                &qualifier,
                &input.statement_id,
            )
            .await?
        {
            Ok(Empty {})
        } else {
            Err(LambdaError::ResourceNotFound(format!(
                "Statement {} is not found in resource policy.",
                input.statement_id
            )))
        }
    }

    pub(crate) async fn get_policy(
        &self,
        ctx: &RequestContext,
        input: FunctionNameRequest,
    ) -> Result<Value, LambdaError> {
        let r = self.require_function(ctx, &input.function_name).await?;
        let qualifier = self
            .policy_qualifier(
                ctx,
                &r.function_name,
                &input.function_name,
                input.qualifier.as_deref(),
            )
            .await?;
        let statements = self
            .store
            .permissions(&ctx.account_id, &ctx.region, &r.function_name, &qualifier)
            .await?;
        if statements.is_empty() {
            return Err(LambdaError::ResourceNotFound(
                "The resource you requested does not exist.".into(),
            ));
        }
        let statements: Vec<Value> = statements
            .iter()
            .filter_map(|s| serde_json::from_str(s).ok())
            .collect();
        let policy = json!({"Version": "2012-10-17", "Id": "default", "Statement": statements});
        Ok(json!({"Policy": policy.to_string(), "RevisionId": r.revision_id}))
    }
}
