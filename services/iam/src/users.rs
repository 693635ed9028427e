//! GetUser: the caller (root of the account, for CloudEmu's default credentials).

use crate::errors::IamError;
use crate::shapes::*;
use crate::Iam;
use chrono::{TimeZone, Utc};
use cloudemu_core::RequestContext;

impl Iam {
    pub(crate) async fn get_user(
        &self,
        ctx: &RequestContext,
        input: GetUserRequest,
    ) -> Result<GetUserResponse, IamError> {
        if let Some(name) = input.user_name {
            // CloudEmu does not manage IAM users yet, so a named user does not exist.
            return Err(IamError::NoSuchUser(name));
        }
        Ok(GetUserResponse {
            user: User {
                path: "/".into(),
                user_name: None,
                user_id: ctx.account_id.clone(),
                arn: format!("arn:aws:iam::{}:root", ctx.account_id),
                create_date: Utc
                    .timestamp_opt(1_577_836_800, 0)
                    .single()
                    .unwrap_or_default(),
            },
        })
    }
}
