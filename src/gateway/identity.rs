//! Account and region of a request: a 12-digit access key is the account, keys STS issued carry
//! theirs, anything else acts in the default account; the region comes from the credential scope.

use super::route::CredentialScope;

pub struct Identity {
    pub account_id: String,
    pub region: String,
    pub access_key_id: Option<String>,
}

pub fn resolve(
    scope: Option<&CredentialScope>,
    default_account: &str,
    default_region: &str,
) -> Identity {
    match scope {
        Some(s) => Identity {
            account_id: cloudemu_core::identity::account_of_access_key(&s.access_key)
                .unwrap_or_else(|| default_account.to_string()),
            region: if s.region.is_empty() {
                default_region.to_string()
            } else {
                s.region.clone()
            },
            access_key_id: Some(s.access_key.clone()),
        },
        None => Identity {
            account_id: default_account.to_string(),
            region: default_region.to_string(),
            access_key_id: None,
        },
    }
}
