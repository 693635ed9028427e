//! Typed inputs and outputs (model member names). Blobs travel as base64 in the value tree.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Blob members: base64 in the value tree, bytes here.
pub mod b64 {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(b))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD.decode(s).map_err(serde::de::Error::custom)
    }

    pub mod opt {
        use super::*;

        pub fn serialize<S: Serializer>(b: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
            match b {
                Some(b) => super::serialize(b, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|s| STANDARD.decode(s).map_err(serde::de::Error::custom))
                .transpose()
        }
    }
}

pub type Context = BTreeMap<String, String>;

#[derive(Deserialize, Serialize, Clone, Debug)]
pub struct Tag {
    #[serde(rename = "TagKey")]
    pub key: String,
    #[serde(rename = "TagValue")]
    pub value: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct CreateKeyRequest {
    pub policy: Option<String>,
    pub description: Option<String>,
    pub key_usage: Option<String>,
    pub customer_master_key_spec: Option<String>,
    pub key_spec: Option<String>,
    pub origin: Option<String>,
    pub custom_key_store_id: Option<String>,
    pub tags: Option<Vec<Tag>>,
    pub multi_region: Option<bool>,
    pub xks_key_id: Option<String>,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct MultiRegionKey {
    pub arn: String,
    pub region: String,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct MultiRegionConfiguration {
    pub multi_region_key_type: String,
    pub primary_key: MultiRegionKey,
    pub replica_keys: Vec<MultiRegionKey>,
}

#[derive(Serialize)]
pub struct KeyMetadata {
    #[serde(rename = "AWSAccountId")]
    pub aws_account_id: String,
    #[serde(rename = "KeyId")]
    pub key_id: String,
    #[serde(rename = "Arn")]
    pub arn: String,
    #[serde(rename = "CreationDate")]
    pub creation_date: f64,
    #[serde(rename = "Enabled")]
    pub enabled: bool,
    #[serde(rename = "Description")]
    pub description: String,
    #[serde(rename = "KeyUsage")]
    pub key_usage: String,
    #[serde(rename = "KeyState")]
    pub key_state: String,
    #[serde(rename = "DeletionDate", skip_serializing_if = "Option::is_none")]
    pub deletion_date: Option<f64>,
    #[serde(rename = "ValidTo", skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<f64>,
    #[serde(rename = "Origin")]
    pub origin: String,
    #[serde(rename = "ExpirationModel", skip_serializing_if = "Option::is_none")]
    pub expiration_model: Option<String>,
    #[serde(rename = "KeyManager")]
    pub key_manager: &'static str,
    #[serde(rename = "CustomerMasterKeySpec")]
    pub customer_master_key_spec: String,
    #[serde(rename = "KeySpec")]
    pub key_spec: String,
    #[serde(rename = "EncryptionAlgorithms", skip_serializing_if = "Vec::is_empty")]
    pub encryption_algorithms: Vec<&'static str>,
    #[serde(rename = "SigningAlgorithms", skip_serializing_if = "Vec::is_empty")]
    pub signing_algorithms: Vec<&'static str>,
    #[serde(
        rename = "KeyAgreementAlgorithms",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub key_agreement_algorithms: Vec<&'static str>,
    #[serde(rename = "MacAlgorithms", skip_serializing_if = "Vec::is_empty")]
    pub mac_algorithms: Vec<&'static str>,
    #[serde(rename = "MultiRegion")]
    pub multi_region: bool,
    #[serde(
        rename = "MultiRegionConfiguration",
        skip_serializing_if = "Option::is_none"
    )]
    pub multi_region_configuration: Option<MultiRegionConfiguration>,
    #[serde(
        rename = "PendingDeletionWindowInDays",
        skip_serializing_if = "Option::is_none"
    )]
    pub pending_deletion_window_in_days: Option<i64>,
    #[serde(
        rename = "CurrentKeyMaterialId",
        skip_serializing_if = "Option::is_none"
    )]
    pub current_key_material_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadataResponse {
    pub key_metadata: KeyMetadata,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyIdRequest {
    pub key_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyIdResponse {
    pub key_id: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ListRequest {
    pub limit: Option<usize>,
    pub marker: Option<String>,
    pub key_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyListEntry {
    pub key_id: String,
    pub key_arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeysResponse {
    pub keys: Vec<KeyListEntry>,
    pub truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateKeyDescriptionRequest {
    pub key_id: String,
    pub description: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleKeyDeletionRequest {
    pub key_id: String,
    pub pending_window_in_days: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleKeyDeletionResponse {
    pub key_id: String,
    pub deletion_date: f64,
    pub key_state: String,
    pub pending_window_in_days: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyPolicyRequest {
    pub key_id: String,
    pub policy_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyPolicyResponse {
    pub policy: String,
    pub policy_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutKeyPolicyRequest {
    pub key_id: String,
    pub policy_name: Option<String>,
    pub policy: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyPoliciesResponse {
    pub policy_names: Vec<String>,
    pub truncated: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnableKeyRotationRequest {
    pub key_id: String,
    pub rotation_period_in_days: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyRotationStatusResponse {
    pub key_rotation_enabled: bool,
    pub key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_period_in_days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_rotation_date: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_demand_rotation_start_date: Option<f64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RotationsListEntry {
    pub key_id: String,
    pub key_material_id: String,
    pub key_material_state: &'static str,
    pub rotation_date: f64,
    pub rotation_type: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyRotationsResponse {
    pub rotations: Vec<RotationsListEntry>,
    pub truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceRequest {
    pub key_id: String,
    pub tags: Vec<Tag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceRequest {
    pub key_id: String,
    pub tag_keys: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListResourceTagsResponse {
    pub tags: Vec<Tag>,
    pub truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasRequest {
    pub alias_name: String,
    pub target_key_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasListEntry {
    pub alias_name: String,
    pub alias_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated_date: Option<f64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAliasesResponse {
    pub aliases: Vec<AliasListEntry>,
    pub truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptRequest {
    pub key_id: String,
    #[serde(with = "b64")]
    pub plaintext: Vec<u8>,
    pub encryption_context: Option<Context>,
    pub encryption_algorithm: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptResponse {
    #[serde(with = "b64")]
    pub ciphertext_blob: Vec<u8>,
    pub key_id: String,
    pub encryption_algorithm: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DecryptRequest {
    /// Not required by the model (Recipient calls); checked by the handler.
    #[serde(default, with = "b64::opt")]
    pub ciphertext_blob: Option<Vec<u8>>,
    pub encryption_context: Option<Context>,
    pub key_id: Option<String>,
    pub encryption_algorithm: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DecryptResponse {
    pub key_id: String,
    #[serde(with = "b64")]
    pub plaintext: Vec<u8>,
    pub encryption_algorithm: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_material_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReEncryptRequest {
    #[serde(default, with = "b64::opt")]
    pub ciphertext_blob: Option<Vec<u8>>,
    pub source_encryption_context: Option<Context>,
    pub source_key_id: Option<String>,
    pub destination_key_id: String,
    pub destination_encryption_context: Option<Context>,
    pub source_encryption_algorithm: Option<String>,
    pub destination_encryption_algorithm: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReEncryptResponse {
    #[serde(with = "b64")]
    pub ciphertext_blob: Vec<u8>,
    pub source_key_id: String,
    pub key_id: String,
    pub source_encryption_algorithm: String,
    pub destination_encryption_algorithm: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_key_material_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_key_material_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyRequest {
    pub key_id: String,
    pub encryption_context: Option<Context>,
    pub number_of_bytes: Option<usize>,
    pub key_spec: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyResponse {
    #[serde(with = "b64")]
    pub ciphertext_blob: Vec<u8>,
    #[serde(with = "b64::opt", skip_serializing_if = "Option::is_none")]
    pub plaintext: Option<Vec<u8>>,
    pub key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairRequest {
    pub key_id: String,
    pub encryption_context: Option<Context>,
    pub key_pair_spec: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairResponse {
    #[serde(with = "b64")]
    pub private_key_ciphertext_blob: Vec<u8>,
    #[serde(with = "b64::opt", skip_serializing_if = "Option::is_none")]
    pub private_key_plaintext: Option<Vec<u8>>,
    #[serde(with = "b64")]
    pub public_key: Vec<u8>,
    pub key_id: String,
    pub key_pair_spec: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateRandomRequest {
    pub number_of_bytes: Option<usize>,
    pub custom_key_store_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PlaintextResponse {
    #[serde(with = "b64")]
    pub plaintext: Vec<u8>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetPublicKeyResponse {
    pub key_id: String,
    #[serde(with = "b64")]
    pub public_key: Vec<u8>,
    pub customer_master_key_spec: String,
    pub key_spec: String,
    pub key_usage: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub encryption_algorithms: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signing_algorithms: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub key_agreement_algorithms: Vec<&'static str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SignRequest {
    pub key_id: String,
    #[serde(with = "b64")]
    pub message: Vec<u8>,
    pub message_type: Option<String>,
    pub signing_algorithm: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SignResponse {
    pub key_id: String,
    #[serde(with = "b64")]
    pub signature: Vec<u8>,
    pub signing_algorithm: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyRequest {
    pub key_id: String,
    #[serde(with = "b64")]
    pub message: Vec<u8>,
    pub message_type: Option<String>,
    #[serde(with = "b64")]
    pub signature: Vec<u8>,
    pub signing_algorithm: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyResponse {
    pub key_id: String,
    pub signature_valid: bool,
    pub signing_algorithm: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateMacRequest {
    pub key_id: String,
    #[serde(with = "b64")]
    pub message: Vec<u8>,
    pub mac_algorithm: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateMacResponse {
    #[serde(with = "b64")]
    pub mac: Vec<u8>,
    pub mac_algorithm: String,
    pub key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyMacRequest {
    pub key_id: String,
    #[serde(with = "b64")]
    pub message: Vec<u8>,
    pub mac_algorithm: String,
    #[serde(with = "b64")]
    pub mac: Vec<u8>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyMacResponse {
    pub key_id: String,
    pub mac_valid: bool,
    pub mac_algorithm: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeriveSharedSecretRequest {
    pub key_id: String,
    pub key_agreement_algorithm: String,
    #[serde(with = "b64")]
    pub public_key: Vec<u8>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeriveSharedSecretResponse {
    pub key_id: String,
    #[serde(with = "b64")]
    pub shared_secret: Vec<u8>,
    pub key_agreement_algorithm: String,
    pub key_origin: String,
}

#[derive(Deserialize, Serialize, Clone, Default, PartialEq, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct GrantConstraints {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_context_subset: Option<Context>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_context_equals: Option<Context>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateGrantRequest {
    pub key_id: String,
    pub grantee_principal: String,
    pub retiring_principal: Option<String>,
    pub operations: Vec<String>,
    pub constraints: Option<GrantConstraints>,
    pub name: Option<String>,
    pub dry_run: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateGrantResponse {
    pub grant_token: String,
    pub grant_id: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ListGrantsRequest {
    pub limit: Option<usize>,
    pub marker: Option<String>,
    pub key_id: Option<String>,
    pub grant_id: Option<String>,
    pub grantee_principal: Option<String>,
    pub retiring_principal: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GrantListEntry {
    pub key_id: String,
    pub grant_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub creation_date: f64,
    pub grantee_principal: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retiring_principal: Option<String>,
    pub issuing_account: String,
    pub operations: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraints: Option<GrantConstraints>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListGrantsResponse {
    pub grants: Vec<GrantListEntry>,
    pub truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetireGrantRequest {
    pub grant_token: Option<String>,
    pub key_id: Option<String>,
    pub grant_id: Option<String>,
    pub dry_run: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetParametersForImportRequest {
    pub key_id: String,
    pub wrapping_algorithm: String,
    pub wrapping_key_spec: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetParametersForImportResponse {
    pub key_id: String,
    #[serde(with = "b64")]
    pub import_token: Vec<u8>,
    #[serde(with = "b64")]
    pub public_key: Vec<u8>,
    pub parameters_valid_to: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportKeyMaterialRequest {
    pub key_id: String,
    #[serde(with = "b64")]
    pub import_token: Vec<u8>,
    #[serde(with = "b64")]
    pub encrypted_key_material: Vec<u8>,
    pub valid_to: Option<f64>,
    pub expiration_model: Option<String>,
    pub import_type: Option<String>,
    pub key_material_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportKeyMaterialResponse {
    pub key_id: String,
    pub key_material_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicateKeyRequest {
    pub key_id: String,
    pub replica_region: String,
    pub policy: Option<String>,
    pub description: Option<String>,
    pub tags: Option<Vec<Tag>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicateKeyResponse {
    pub replica_key_metadata: KeyMetadata,
    pub replica_policy: String,
    pub replica_tags: Vec<Tag>,
}
