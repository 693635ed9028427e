//! AWS STS: who am I, and temporary credentials.
//!
//! Credentials are issued with the account encoded in the access key id (see
//! `cloudemu_core::identity`), and each session is stored so `GetCallerIdentity` can answer with
//! the assumed role's ARN.

mod errors;
mod shapes;

use chrono::{Duration, Utc};
use cloudemu_core::identity::{new_access_key_id, new_secret_key, random_id};
use cloudemu_core::{
    typed, BoxFuture, RequestContext, Service, ServiceError, ServiceRequest, ServiceResponse,
};
use cloudemu_storage::sts::{SessionRecord, StsStore};
use errors::StsError;
use serde_json::Value;
use sha2::{Digest, Sha256};
use shapes::*;

pub struct Sts {
    store: StsStore,
}

impl Sts {
    pub fn new(store: StsStore) -> Self {
        Self { store }
    }

    async fn get_caller_identity(
        &self,
        ctx: &RequestContext,
        _input: Empty,
    ) -> Result<GetCallerIdentityResponse, StsError> {
        // Only keys STS issued (`ASIA…`) have a session; others skip the database.
        if let Some(key) = ctx.access_key_id.as_ref().filter(|k| k.starts_with("ASIA")) {
            if let Some(s) = self.store.get_session(key).await? {
                return Ok(GetCallerIdentityResponse {
                    user_id: s.user_id,
                    account: s.account_id,
                    arn: s.arn,
                });
            }
        }
        Ok(GetCallerIdentityResponse {
            user_id: ctx.account_id.clone(),
            account: ctx.account_id.clone(),
            arn: format!("arn:aws:iam::{}:root", ctx.account_id),
        })
    }

    async fn assume_role(
        &self,
        ctx: &RequestContext,
        input: AssumeRoleRequest,
    ) -> Result<AssumeRoleResponse, StsError> {
        let role = RoleArn::parse(&input.role_arn)
            .ok_or_else(|| StsError::InvalidRoleArn(input.role_arn.clone()))?;
        let duration = input.duration_seconds.unwrap_or(3600);
        // The role id is stable per role ARN, as AWS's is per role.
        let digest = Sha256::digest(input.role_arn.as_bytes());
        let role_id = format!(
            "AROA{}",
            digest
                .iter()
                .take(17)
                .map(|b| (b'A' + b % 26) as char)
                .collect::<String>()
        );
        let arn = format!(
            "arn:{}:sts::{}:assumed-role/{}/{}",
            role.partition, role.account, role.name, input.role_session_name
        );
        let user_id = format!("{role_id}:{}", input.role_session_name);
        let credentials = self.issue(&role.account, &arn, &user_id, duration).await?;
        let _ = ctx;
        Ok(AssumeRoleResponse {
            credentials,
            assumed_role_user: AssumedRoleUser {
                assumed_role_id: user_id,
                arn,
            },
            packed_policy_size: input.policy.as_ref().map(|_| 6),
            source_identity: input.source_identity,
        })
    }

    async fn get_session_token(
        &self,
        ctx: &RequestContext,
        input: GetSessionTokenRequest,
    ) -> Result<GetSessionTokenResponse, StsError> {
        let caller = self.get_caller_identity(ctx, Empty {}).await?;
        let duration = input.duration_seconds.unwrap_or(43_200);
        let credentials = self
            .issue(&caller.account, &caller.arn, &caller.user_id, duration)
            .await?;
        Ok(GetSessionTokenResponse { credentials })
    }

    async fn issue(
        &self,
        account: &str,
        arn: &str,
        user_id: &str,
        duration_secs: i64,
    ) -> Result<Credentials, StsError> {
        let expiration = Utc::now() + Duration::seconds(duration_secs);
        let access_key_id = new_access_key_id("ASIA", account);
        self.store
            .put_session(&SessionRecord {
                access_key_id: access_key_id.clone(),
                account_id: account.to_string(),
                arn: arn.to_string(),
                user_id: user_id.to_string(),
                expires_at: expiration.timestamp() as f64,
            })
            .await?;
        Ok(Credentials {
            access_key_id,
            secret_access_key: new_secret_key(),
            session_token: random_id("FwoGZXIvYXdzE", 344),
            expiration,
        })
    }
}

/// `arn:aws:iam::<account>:role/<path/><name>`
struct RoleArn {
    partition: String,
    account: String,
    name: String,
}

impl RoleArn {
    fn parse(arn: &str) -> Option<Self> {
        let mut parts = arn.splitn(6, ':');
        let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(res)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let name = res.strip_prefix("role/")?.rsplit('/').next()?.to_string();
        (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty())
            .then(|| Self {
                partition: partition.to_string(),
                account: account.to_string(),
                name,
            })
    }
}

pub const OPERATIONS: &[&str] = &["AssumeRole", "GetCallerIdentity", "GetSessionToken"];

impl Service for Sts {
    fn id(&self) -> &'static str {
        "sts"
    }

    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    fn call<'a>(
        &'a self,
        ctx: &'a RequestContext,
        operation: &'a str,
        request: ServiceRequest,
    ) -> BoxFuture<'a, Result<ServiceResponse, ServiceError>> {
        Box::pin(async move {
            let input = request.input;
            let output: Result<Value, ServiceError> = match operation {
                "GetCallerIdentity" => {
                    typed(input, |i| async {
                        Ok(self.get_caller_identity(ctx, i).await?)
                    })
                    .await
                }
                "AssumeRole" => {
                    typed(input, |i| async { Ok(self.assume_role(ctx, i).await?) }).await
                }
                "GetSessionToken" => {
                    typed(input, |i| async {
                        Ok(self.get_session_token(ctx, i).await?)
                    })
                    .await
                }
                other => Err(ServiceError::not_implemented("sts", other)),
            };
            output.map(ServiceResponse::from)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::RoleArn;

    #[test]
    fn parses_role_arns() {
        let r = RoleArn::parse("arn:aws:iam::123456789012:role/service/my-role").expect("valid");
        assert_eq!(
            (r.account.as_str(), r.name.as_str()),
            ("123456789012", "my-role")
        );
        assert!(RoleArn::parse("arn:aws:iam::1234:role/x").is_none());
        assert!(RoleArn::parse("arn:aws:s3:::bucket").is_none());
        assert!(RoleArn::parse("not-an-arn").is_none());
    }
}
