//! AWS KMS: keys, aliases, policies, rotation, grants, and real cryptography (RustCrypto):
//! AES-256-GCM for symmetric keys, RSA and ECDSA signatures any standard library verifies,
//! RSA-OAEP, ECDH and HMAC. Keys are scoped by account and region.

mod aliases;
mod ciphertext;
mod crypto;
mod encryption;
mod errors;
mod grants;
mod import;
mod keys;
mod model;
mod multiregion;
mod paging;
mod rotation;
mod shapes;
mod signing;
mod specs;
mod sweeper;

use cloudemu_core::{
    typed, BoxFuture, RequestContext, Service, ServiceError, ServiceRequest, ServiceResponse,
};
use cloudemu_storage::kms::KmsStore;
use serde_json::Value;
use std::sync::Arc;

pub use errors::KmsError;

pub struct Kms {
    store: KmsStore,
    /// Wakes the task that applies deletion dates and material expiry (`sweeper`).
    sweep: Arc<sweeper::Sweep>,
    parsed: signing::ParsedKeys,
}

impl Kms {
    /// Also starts the sweeper when called inside a Tokio runtime (the server always is).
    pub fn new(store: KmsStore) -> Self {
        let sweep = Arc::new(sweeper::Sweep::default());
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(sweeper::run(store.clone(), sweep.clone()));
        }
        Self {
            store,
            sweep,
            parsed: signing::ParsedKeys::default(),
        }
    }
}

pub const OPERATIONS: &[&str] = &[
    "CancelKeyDeletion",
    "CreateAlias",
    "CreateGrant",
    "CreateKey",
    "Decrypt",
    "DeleteAlias",
    "DeleteImportedKeyMaterial",
    "DeriveSharedSecret",
    "DescribeKey",
    "DisableKey",
    "DisableKeyRotation",
    "EnableKey",
    "EnableKeyRotation",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "GenerateRandom",
    "GetKeyPolicy",
    "GetKeyRotationStatus",
    "GetParametersForImport",
    "GetPublicKey",
    "ImportKeyMaterial",
    "ListAliases",
    "ListGrants",
    "ListKeyPolicies",
    "ListKeyRotations",
    "ListKeys",
    "ListResourceTags",
    "ListRetirableGrants",
    "PutKeyPolicy",
    "ReEncrypt",
    "ReplicateKey",
    "RetireGrant",
    "RevokeGrant",
    "RotateKeyOnDemand",
    "ScheduleKeyDeletion",
    "Sign",
    "TagResource",
    "UntagResource",
    "UpdateAlias",
    "UpdateKeyDescription",
    "Verify",
    "VerifyMac",
];

/// Route an operation to its typed handler; `$h` is a method of `Kms`.
macro_rules! route {
    ($self:ident, $ctx:ident, $input:ident, $h:ident) => {
        typed($input, |i| async move { Ok($self.$h($ctx, i).await?) }).await
    };
}

impl Service for Kms {
    fn id(&self) -> &'static str {
        "kms"
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
            // Cryptographic calls change nothing, so a dry run is the real call with its
            // result withheld: every check AWS makes has been made. Grant calls check DryRun
            // before they write.
            let dry_run = input.get("DryRun") == Some(&Value::Bool(true))
                && !matches!(operation, "CreateGrant" | "RetireGrant" | "RevokeGrant");
            let output: Result<Value, ServiceError> = match operation {
                "CreateKey" => route!(self, ctx, input, create_key),
                "DescribeKey" => route!(self, ctx, input, describe_key),
                "ListKeys" => route!(self, ctx, input, list_keys),
                "EnableKey" => route!(self, ctx, input, enable_key),
                "DisableKey" => route!(self, ctx, input, disable_key),
                "UpdateKeyDescription" => route!(self, ctx, input, update_key_description),
                "ScheduleKeyDeletion" => route!(self, ctx, input, schedule_key_deletion),
                "CancelKeyDeletion" => route!(self, ctx, input, cancel_key_deletion),
                "GetKeyPolicy" => route!(self, ctx, input, get_key_policy),
                "PutKeyPolicy" => route!(self, ctx, input, put_key_policy),
                "ListKeyPolicies" => route!(self, ctx, input, list_key_policies),
                "TagResource" => route!(self, ctx, input, tag_resource),
                "UntagResource" => route!(self, ctx, input, untag_resource),
                "ListResourceTags" => route!(self, ctx, input, list_resource_tags),
                "CreateAlias" => route!(self, ctx, input, create_alias),
                "UpdateAlias" => route!(self, ctx, input, update_alias),
                "DeleteAlias" => route!(self, ctx, input, delete_alias),
                "ListAliases" => route!(self, ctx, input, list_aliases),
                "Encrypt" => route!(self, ctx, input, encrypt),
                "Decrypt" => route!(self, ctx, input, decrypt),
                "ReEncrypt" => route!(self, ctx, input, re_encrypt),
                "GenerateDataKey" => route!(self, ctx, input, generate_data_key),
                "GenerateDataKeyWithoutPlaintext" => {
                    route!(self, ctx, input, generate_data_key_without_plaintext)
                }
                "GenerateDataKeyPair" => route!(self, ctx, input, generate_data_key_pair),
                "GenerateDataKeyPairWithoutPlaintext" => {
                    route!(self, ctx, input, generate_data_key_pair_without_plaintext)
                }
                "GenerateRandom" => route!(self, ctx, input, generate_random),
                "GetPublicKey" => route!(self, ctx, input, get_public_key),
                "Sign" => route!(self, ctx, input, sign),
                "Verify" => route!(self, ctx, input, verify),
                "GenerateMac" => route!(self, ctx, input, generate_mac),
                "VerifyMac" => route!(self, ctx, input, verify_mac),
                "DeriveSharedSecret" => route!(self, ctx, input, derive_shared_secret),
                "EnableKeyRotation" => route!(self, ctx, input, enable_key_rotation),
                "DisableKeyRotation" => route!(self, ctx, input, disable_key_rotation),
                "GetKeyRotationStatus" => route!(self, ctx, input, get_key_rotation_status),
                "RotateKeyOnDemand" => route!(self, ctx, input, rotate_key_on_demand),
                "ListKeyRotations" => route!(self, ctx, input, list_key_rotations),
                "CreateGrant" => route!(self, ctx, input, create_grant),
                "ListGrants" => route!(self, ctx, input, list_grants),
                "ListRetirableGrants" => route!(self, ctx, input, list_retirable_grants),
                "RetireGrant" => route!(self, ctx, input, retire_grant),
                "RevokeGrant" => route!(self, ctx, input, revoke_grant),
                "GetParametersForImport" => route!(self, ctx, input, get_parameters_for_import),
                "ImportKeyMaterial" => route!(self, ctx, input, import_key_material),
                "DeleteImportedKeyMaterial" => {
                    route!(self, ctx, input, delete_imported_key_material)
                }
                "ReplicateKey" => route!(self, ctx, input, replicate_key),
                other => Err(ServiceError::not_implemented("kms", other)),
            };
            let output = output?;
            if dry_run {
                return Err(KmsError::DryRun.into());
            }
            Ok(ServiceResponse::from(output))
        })
    }
}
