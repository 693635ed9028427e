use crate::harness::{unique, TestServer};
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{
    DataKeySpec, EncryptionAlgorithmSpec, KeySpec, KeyState, KeyUsageType, MacAlgorithmSpec,
    MessageType, SigningAlgorithmSpec, Tag,
};
use aws_sdk_kms::Client;

fn client(server: &TestServer) -> Client {
    Client::new(&server.sdk_config())
}

async fn symmetric_key(kms: &Client) -> String {
    kms.create_key()
        .send()
        .await
        .expect("CreateKey")
        .key_metadata()
        .expect("metadata")
        .key_id()
        .to_string()
}

async fn key_of(kms: &Client, spec: KeySpec, usage: KeyUsageType) -> String {
    kms.create_key()
        .key_spec(spec)
        .key_usage(usage)
        .send()
        .await
        .expect("CreateKey")
        .key_metadata()
        .expect("metadata")
        .key_id()
        .to_string()
}

#[tokio::test]
async fn create_and_describe_symmetric_key() {
    let server = TestServer::memory().await;
    let kms = client(&server);
    let created = kms
        .create_key()
        .description("app data")
        .tags(
            Tag::builder()
                .tag_key("team")
                .tag_value("core")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("CreateKey");
    let m = created.key_metadata().expect("metadata");
    let id = m.key_id();
    assert_eq!(id.len(), 36);
    assert_eq!(
        m.arn(),
        Some(format!("arn:aws:kms:us-east-1:000000000000:key/{id}").as_str())
    );
    assert_eq!(m.aws_account_id(), Some("000000000000"));
    assert_eq!(m.key_state(), Some(&KeyState::Enabled));
    assert!(m.enabled());
    assert_eq!(m.key_spec(), Some(&KeySpec::SymmetricDefault));
    assert_eq!(m.key_usage(), Some(&KeyUsageType::EncryptDecrypt));
    assert_eq!(
        m.encryption_algorithms(),
        &[EncryptionAlgorithmSpec::SymmetricDefault]
    );
    assert_eq!(m.description(), Some("app data"));
    assert_eq!(m.multi_region(), Some(false));
    assert_eq!(m.current_key_material_id().map(str::len), Some(64));
    assert!(m.creation_date().is_some());

    let described = kms
        .describe_key()
        .key_id(id)
        .send()
        .await
        .expect("DescribeKey");
    assert_eq!(described.key_metadata().map(|m| m.key_id()), Some(id));

    // The default policy lets the account root do everything, as AWS writes it.
    let policy = kms
        .get_key_policy()
        .key_id(id)
        .send()
        .await
        .expect("GetKeyPolicy");
    let doc: serde_json::Value =
        serde_json::from_str(policy.policy().expect("policy")).expect("json");
    assert_eq!(
        doc["Statement"][0]["Principal"]["AWS"],
        "arn:aws:iam::000000000000:root"
    );
    assert_eq!(doc["Statement"][0]["Action"], "kms:*");
    let names = kms
        .list_key_policies()
        .key_id(id)
        .send()
        .await
        .expect("ListKeyPolicies");
    assert_eq!(names.policy_names(), &["default".to_string()]);

    let tags = kms
        .list_resource_tags()
        .key_id(id)
        .send()
        .await
        .expect("tags");
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(tags.tags()[0].tag_key(), "team");
}

#[tokio::test]
async fn key_spec_and_usage_combinations() {
    let server = TestServer::memory().await;
    let kms = client(&server);
    let ok = [
        (KeySpec::Rsa2048, KeyUsageType::SignVerify),
        (KeySpec::Rsa2048, KeyUsageType::EncryptDecrypt),
        (KeySpec::EccNistP256, KeyUsageType::SignVerify),
        (KeySpec::EccNistP384, KeyUsageType::KeyAgreement),
        (KeySpec::EccNistP521, KeyUsageType::SignVerify),
        (KeySpec::EccSecgP256K1, KeyUsageType::SignVerify),
        (KeySpec::Hmac224, KeyUsageType::GenerateVerifyMac),
        (KeySpec::Hmac512, KeyUsageType::GenerateVerifyMac),
    ];
    for (spec, usage) in ok {
        let out = kms
            .create_key()
            .key_spec(spec.clone())
            .key_usage(usage.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{spec:?}/{usage:?}: {e:?}"));
        let m = out.key_metadata().expect("metadata");
        assert_eq!(m.key_spec(), Some(&spec));
        assert_eq!(m.key_usage(), Some(&usage));
    }
    let bad = [
        (KeySpec::SymmetricDefault, KeyUsageType::SignVerify),
        (KeySpec::EccNistP256, KeyUsageType::EncryptDecrypt),
        (KeySpec::EccSecgP256K1, KeyUsageType::KeyAgreement),
        (KeySpec::Hmac256, KeyUsageType::EncryptDecrypt),
        (KeySpec::Rsa4096, KeyUsageType::GenerateVerifyMac),
    ];
    for (spec, usage) in bad {
        let err = kms
            .create_key()
            .key_spec(spec.clone())
            .key_usage(usage.clone())
            .send()
            .await
            .expect_err("incompatible");
        assert_eq!(
            err.code(),
            Some("ValidationException"),
            "{spec:?}/{usage:?}"
        );
        assert_eq!(
            err.message(),
            Some(
                format!(
                    "KeyUsage {} is not compatible with KeySpec {}",
                    usage.as_str(),
                    spec.as_str()
                )
                .as_str()
            )
        );
    }
    // HMAC keys without a usage default to ENCRYPT_DECRYPT, which they do not allow.
    let err = kms
        .create_key()
        .key_spec(KeySpec::Hmac256)
        .send()
        .await
        .expect_err("no usage");
    assert_eq!(err.code(), Some("ValidationException"));
}

#[tokio::test]
async fn encrypt_decrypt_with_context_and_every_key_reference() {
    let server = TestServer::memory().await;
    let kms = client(&server);
    let id = symmetric_key(&kms).await;
    let alias = format!("alias/{}", unique("app"));
    kms.create_alias()
        .alias_name(&alias)
        .target_key_id(&id)
        .send()
        .await
        .expect("CreateAlias");
    let arn = format!("arn:aws:kms:us-east-1:000000000000:key/{id}");
    let alias_arn = format!("arn:aws:kms:us-east-1:000000000000:{alias}");

    for reference in [&id, &arn, &alias, &alias_arn] {
        let enc = kms
            .encrypt()
            .key_id(reference)
            .plaintext(Blob::new(b"secret data".to_vec()))
            .encryption_context("purpose", "test")
            .send()
            .await
            .expect("Encrypt");
        assert_eq!(enc.key_id(), Some(arn.as_str()));
        let blob = enc.ciphertext_blob().expect("blob").clone();
        // No KeyId needed: the blob names its key.
        let dec = kms
            .decrypt()
            .ciphertext_blob(blob.clone())
            .encryption_context("purpose", "test")
            .send()
            .await
            .expect("Decrypt");
        assert_eq!(
            dec.plaintext().map(|b| b.as_ref()),
            Some(&b"secret data"[..])
        );
        assert_eq!(dec.key_id(), Some(arn.as_str()));
        // The context is bound as AAD.
        let err = kms
            .decrypt()
            .ciphertext_blob(blob.clone())
            .encryption_context("purpose", "other")
            .send()
            .await
            .expect_err("wrong context");
        assert_eq!(err.code(), Some("InvalidCiphertextException"));
        let err = kms
            .decrypt()
            .ciphertext_blob(blob)
            .send()
            .await
            .expect_err("no context");
        assert_eq!(err.code(), Some("InvalidCiphertextException"));
    }

    // A named key that is not the blob's key.
    let other = symmetric_key(&kms).await;
    let enc = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .expect("Encrypt");
    let err = kms
        .decrypt()
        .key_id(&other)
        .ciphertext_blob(enc.ciphertext_blob().expect("blob").clone())
        .send()
        .await
        .expect_err("wrong key");
    assert_eq!(err.code(), Some("IncorrectKeyException"));

    // Garbage is not a ciphertext.
    let err = kms
        .decrypt()
        .ciphertext_blob(Blob::new(vec![9u8; 64]))
        .send()
        .await
        .expect_err("garbage");
    assert_eq!(err.code(), Some("InvalidCiphertextException"));

    // ReEncrypt moves a ciphertext to another key without exposing the plaintext.
    let re = kms
        .re_encrypt()
        .ciphertext_blob(enc.ciphertext_blob().expect("blob").clone())
        .destination_key_id(&other)
        .send()
        .await
        .expect("ReEncrypt");
    assert_eq!(re.source_key_id(), Some(arn.as_str()));
    assert_eq!(re.source_key_material_id().map(str::len), Some(64));
    let other_material = kms
        .describe_key()
        .key_id(&other)
        .send()
        .await
        .expect("describe")
        .key_metadata()
        .and_then(|m| m.current_key_material_id().map(String::from));
    assert_eq!(
        re.destination_key_material_id().map(String::from),
        other_material
    );
    let dec = kms
        .decrypt()
        .ciphertext_blob(re.ciphertext_blob().expect("blob").clone())
        .send()
        .await
        .expect("Decrypt re-encrypted");
    assert_eq!(dec.plaintext().map(|b| b.as_ref()), Some(&b"x"[..]));
    assert!(dec.key_id().expect("key").ends_with(&other));
}

#[tokio::test]
async fn key_state_errors_name_the_state() {
    let server = TestServer::memory().await;
    let kms = client(&server);
    let id = symmetric_key(&kms).await;
    let arn = format!("arn:aws:kms:us-east-1:000000000000:key/{id}");
    let enc = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .expect("Encrypt");
    kms.disable_key()
        .key_id(&id)
        .send()
        .await
        .expect("DisableKey");
    let m = kms
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        m.key_metadata().and_then(|m| m.key_state()),
        Some(&KeyState::Disabled)
    );
    let err = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .expect_err("disabled");
    assert_eq!(err.code(), Some("DisabledException"));
    assert_eq!(err.message(), Some(format!("{arn} is disabled.").as_str()));
    let err = kms
        .decrypt()
        .ciphertext_blob(enc.ciphertext_blob().expect("blob").clone())
        .send()
        .await
        .expect_err("disabled");
    assert_eq!(err.code(), Some("DisabledException"));
    kms.enable_key()
        .key_id(&id)
        .send()
        .await
        .expect("EnableKey");

    let sched = kms
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("ScheduleKeyDeletion");
    assert_eq!(sched.key_state(), Some(&KeyState::PendingDeletion));
    assert_eq!(sched.pending_window_in_days(), Some(7));
    let days =
        (sched.deletion_date().expect("date").secs() - chrono::Utc::now().timestamp()) / 86_400;
    assert!((6..=7).contains(&days), "{days}");
    let err = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .expect_err("pending deletion");
    assert_eq!(err.code(), Some("KMSInvalidStateException"));
    assert_eq!(
        err.message(),
        Some(format!("{arn} is pending deletion.").as_str())
    );
    let err = kms
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(3)
        .send()
        .await
        .expect_err("window too short");
    assert_eq!(err.code(), Some("ValidationException"));
    kms.cancel_key_deletion()
        .key_id(&id)
        .send()
        .await
        .expect("CancelKeyDeletion");
    let m = kms
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        m.key_metadata().and_then(|m| m.key_state()),
        Some(&KeyState::Disabled)
    );

    let missing = "11111111-2222-3333-4444-555555555555";
    let err = kms
        .describe_key()
        .key_id(missing)
        .send()
        .await
        .expect_err("missing");
    assert_eq!(err.code(), Some("NotFoundException"));
    assert_eq!(
        err.message(),
        Some(
            format!("Key 'arn:aws:kms:us-east-1:000000000000:key/{missing}' does not exist")
                .as_str()
        )
    );
    let err = kms
        .describe_key()
        .key_id("alias/nope")
        .send()
        .await
        .expect_err("missing alias");
    assert_eq!(err.code(), Some("NotFoundException"));
    assert_eq!(
        err.message(),
        Some("Alias arn:aws:kms:us-east-1:000000000000:alias/nope is not found.")
    );
    // Keys are regional.
    let west = Client::from_conf(
        aws_sdk_kms::config::Builder::from(&server.sdk_config())
            .region(aws_sdk_kms::config::Region::new("eu-west-1"))
            .build(),
    );
    let err = west
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect_err("other region");
    assert_eq!(err.code(), Some("NotFoundException"));
}

#[tokio::test]
async fn aliases_lifecycle() {
    let server = TestServer::memory().await;
    let kms = client(&server);
    let a = symmetric_key(&kms).await;
    let b = symmetric_key(&kms).await;
    let name = format!("alias/{}", unique("svc"));
    kms.create_alias()
        .alias_name(&name)
        .target_key_id(&a)
        .send()
        .await
        .expect("CreateAlias");
    let err = kms
        .create_alias()
        .alias_name(&name)
        .target_key_id(&b)
        .send()
        .await
        .expect_err("duplicate");
    assert_eq!(err.code(), Some("AlreadyExistsException"));
    assert_eq!(
        err.message(),
        Some(
            format!(
                "An alias with the name arn:aws:kms:us-east-1:000000000000:{name} already exists"
            )
            .as_str()
        )
    );
    let err = kms
        .create_alias()
        .alias_name("alias/aws/mine")
        .target_key_id(&b)
        .send()
        .await
        .expect_err("reserved");
    assert_eq!(err.code(), Some("InvalidAliasNameException"));

    let listed = kms
        .list_aliases()
        .key_id(&a)
        .send()
        .await
        .expect("ListAliases");
    assert_eq!(listed.aliases().len(), 1);
    assert_eq!(listed.aliases()[0].alias_name(), Some(name.as_str()));
    assert_eq!(listed.aliases()[0].target_key_id(), Some(a.as_str()));

    kms.update_alias()
        .alias_name(&name)
        .target_key_id(&b)
        .send()
        .await
        .expect("UpdateAlias");
    let d = kms
        .describe_key()
        .key_id(&name)
        .send()
        .await
        .expect("describe by alias");
    assert_eq!(d.key_metadata().map(|m| m.key_id()), Some(b.as_str()));

    // All aliases, paginated, include the AWS managed ones a fresh account shows.
    let mut all = Vec::new();
    let mut marker = None;
    loop {
        let page = kms
            .list_aliases()
            .limit(5)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("page");
        all.extend(
            page.aliases()
                .iter()
                .map(|a| a.alias_name().unwrap_or("").to_string()),
        );
        if !page.truncated() {
            break;
        }
        marker = page.next_marker().map(str::to_string);
    }
    assert!(all.contains(&name));
    assert!(all.contains(&"alias/aws/s3".to_string()));

    kms.delete_alias()
        .alias_name(&name)
        .send()
        .await
        .expect("DeleteAlias");
    let err = kms
        .delete_alias()
        .alias_name(&name)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(err.code(), Some("NotFoundException"));
    // A deleted alias no longer names its key, however recently it was used.
    let err = kms
        .describe_key()
        .key_id(&name)
        .send()
        .await
        .expect_err("deleted alias");
    assert_eq!(err.code(), Some("NotFoundException"));
    // Management calls take key ids and ARNs, not aliases.
    let err = kms
        .enable_key()
        .key_id("alias/whatever")
        .send()
        .await
        .expect_err("alias");
    assert_eq!(err.code(), Some("NotFoundException"));
}

#[tokio::test]
async fn list_keys_paginates() {
    let server = TestServer::memory().await;
    let kms = client(&server);
    let mut made = Vec::new();
    for _ in 0..5 {
        made.push(symmetric_key(&kms).await);
    }
    let first = kms.list_keys().limit(2).send().await.expect("ListKeys");
    assert_eq!(first.keys().len(), 2);
    assert!(first.truncated());
    let mut seen: Vec<String> = first
        .keys()
        .iter()
        .filter_map(|k| k.key_id().map(String::from))
        .collect();
    let mut marker = first.next_marker().map(String::from);
    while let Some(m) = marker {
        let page = kms
            .list_keys()
            .limit(2)
            .marker(m)
            .send()
            .await
            .expect("page");
        seen.extend(
            page.keys()
                .iter()
                .filter_map(|k| k.key_id().map(String::from)),
        );
        marker = page.next_marker().map(String::from);
    }
    assert_eq!(seen, made);
    let err = kms
        .list_keys()
        .marker("bogus")
        .send()
        .await
        .expect_err("bad marker");
    assert_eq!(err.code(), Some("InvalidMarkerException"));
}

#[tokio::test]
async fn data_keys_and_random() {
    let server = TestServer::memory().await;
    let kms = client(&server);
    let id = symmetric_key(&kms).await;
    let dk = kms
        .generate_data_key()
        .key_id(&id)
        .key_spec(DataKeySpec::Aes256)
        .encryption_context("k", "v")
        .send()
        .await
        .expect("GenerateDataKey");
    let plain = dk.plaintext().expect("plaintext").as_ref().to_vec();
    assert_eq!(plain.len(), 32);
    let dec = kms
        .decrypt()
        .ciphertext_blob(dk.ciphertext_blob().expect("blob").clone())
        .encryption_context("k", "v")
        .send()
        .await
        .expect("Decrypt data key");
    assert_eq!(dec.plaintext().map(|b| b.as_ref().to_vec()), Some(plain));

    let wp = kms
        .generate_data_key_without_plaintext()
        .key_id(&id)
        .number_of_bytes(16)
        .send()
        .await
        .expect("WithoutPlaintext");
    let dec = kms
        .decrypt()
        .ciphertext_blob(wp.ciphertext_blob().expect("blob").clone())
        .send()
        .await
        .expect("Decrypt");
    assert_eq!(dec.plaintext().map(|b| b.as_ref().len()), Some(16));

    let err = kms
        .generate_data_key()
        .key_id(&id)
        .send()
        .await
        .expect_err("no size");
    assert_eq!(err.code(), Some("ValidationException"));

    let r = kms
        .generate_random()
        .number_of_bytes(48)
        .send()
        .await
        .expect("GenerateRandom");
    assert_eq!(r.plaintext().map(|b| b.as_ref().len()), Some(48));
    let err = kms
        .generate_random()
        .number_of_bytes(2000)
        .send()
        .await
        .expect_err("too many");
    assert_eq!(err.code(), Some("ValidationException"));

    let signing = key_of(&kms, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let err = kms
        .generate_data_key()
        .key_id(&signing)
        .number_of_bytes(32)
        .send()
        .await
        .expect_err("asymmetric");
    assert_eq!(err.code(), Some("InvalidKeyUsageException"));
}

fn verify_rsa(spki: &[u8], alg: &SigningAlgorithmSpec, message: &[u8], sig: &[u8]) {
    use rsa::pkcs8::DecodePublicKey;
    use sha2::{Digest, Sha256, Sha384, Sha512};
    let key = rsa::RsaPublicKey::from_public_key_der(spki).expect("SPKI");
    let r = match alg.as_str() {
        "RSASSA_PKCS1_V1_5_SHA_256" => key.verify(
            rsa::Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(message),
            sig,
        ),
        "RSASSA_PKCS1_V1_5_SHA_384" => key.verify(
            rsa::Pkcs1v15Sign::new::<Sha384>(),
            &Sha384::digest(message),
            sig,
        ),
        "RSASSA_PKCS1_V1_5_SHA_512" => key.verify(
            rsa::Pkcs1v15Sign::new::<Sha512>(),
            &Sha512::digest(message),
            sig,
        ),
        "RSASSA_PSS_SHA_256" => {
            key.verify(rsa::Pss::new::<Sha256>(), &Sha256::digest(message), sig)
        }
        "RSASSA_PSS_SHA_384" => {
            key.verify(rsa::Pss::new::<Sha384>(), &Sha384::digest(message), sig)
        }
        "RSASSA_PSS_SHA_512" => {
            key.verify(rsa::Pss::new::<Sha512>(), &Sha512::digest(message), sig)
        }
        other => panic!("{other}"),
    };
    r.unwrap_or_else(|e| panic!("{alg:?} does not verify: {e}"));
}

#[tokio::test]
async fn rsa_signatures_verify_independently() {
    let server = TestServer::memory().await;
    let kms = client(&server);
    let id = key_of(&kms, KeySpec::Rsa2048, KeyUsageType::SignVerify).await;
    let pk = kms
        .get_public_key()
        .key_id(&id)
        .send()
        .await
        .expect("GetPublicKey");
    let spki = pk.public_key().expect("public key").as_ref().to_vec();
    assert_eq!(pk.signing_algorithms().len(), 6);
    let message = b"message to sign".to_vec();
    for alg in pk.signing_algorithms() {
        let sig = kms
            .sign()
            .key_id(&id)
            .message(Blob::new(message.clone()))
            .signing_algorithm(alg.clone())
            .send()
            .await
            .expect("Sign");
        let sig = sig.signature().expect("signature").as_ref().to_vec();
        verify_rsa(&spki, alg, &message, &sig);
        let ok = kms
            .verify()
            .key_id(&id)
            .message(Blob::new(message.clone()))
            .signature(Blob::new(sig.clone()))
            .signing_algorithm(alg.clone())
            .send()
            .await
            .expect("Verify");
        assert!(ok.signature_valid());
        let err = kms
            .verify()
            .key_id(&id)
            .message(Blob::new(b"tampered".to_vec()))
            .signature(Blob::new(sig))
            .signing_algorithm(alg.clone())
            .send()
            .await
            .expect_err("tampered");
        assert_eq!(err.code(), Some("KMSInvalidSignatureException"));
    }
    let err = kms
        .sign()
        .key_id(&id)
        .message(Blob::new(message.clone()))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .expect_err("wrong algorithm");
    assert_eq!(err.code(), Some("InvalidKeyUsageException"));
    let err = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .expect_err("signing key");
    assert_eq!(err.code(), Some("InvalidKeyUsageException"));
}

#[tokio::test]
async fn ecdsa_signatures_verify_independently_raw_and_digest() {
    use p256::ecdsa::signature::Verifier;
    use p256::pkcs8::DecodePublicKey;
    use sha2::{Digest, Sha256};
    let server = TestServer::memory().await;
    let kms = client(&server);
    let id = key_of(&kms, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let pk = kms
        .get_public_key()
        .key_id(&id)
        .send()
        .await
        .expect("GetPublicKey");
    assert_eq!(
        pk.signing_algorithms(),
        &[SigningAlgorithmSpec::EcdsaSha256]
    );
    let vk = p256::ecdsa::VerifyingKey::from_public_key_der(pk.public_key().expect("pk").as_ref())
        .expect("SPKI");
    let message = b"hello ecdsa".to_vec();
    let raw = kms
        .sign()
        .key_id(&id)
        .message(Blob::new(message.clone()))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .expect("Sign RAW");
    let sig =
        p256::ecdsa::Signature::from_der(raw.signature().expect("sig").as_ref()).expect("DER");
    vk.verify(&message, &sig).expect("RAW signature verifies");

    let digest = Sha256::digest(&message).to_vec();
    let signed = kms
        .sign()
        .key_id(&id)
        .message(Blob::new(digest.clone()))
        .message_type(MessageType::Digest)
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .expect("Sign DIGEST");
    let sig =
        p256::ecdsa::Signature::from_der(signed.signature().expect("sig").as_ref()).expect("DER");
    vk.verify(&message, &sig)
        .expect("DIGEST signature verifies over the message");

    let err = kms
        .sign()
        .key_id(&id)
        .message(Blob::new(vec![1; 20]))
        .message_type(MessageType::Digest)
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .expect_err("short digest");
    assert_eq!(err.code(), Some("ValidationException"));
}

#[tokio::test]
async fn other_curves_sign_and_verify() {
    let server = TestServer::memory().await;
    let kms = client(&server);
    for (spec, alg) in [
        (KeySpec::EccNistP384, SigningAlgorithmSpec::EcdsaSha384),
        (KeySpec::EccNistP521, SigningAlgorithmSpec::EcdsaSha512),
        (KeySpec::EccSecgP256K1, SigningAlgorithmSpec::EcdsaSha256),
    ] {
        let id = key_of(&kms, spec.clone(), KeyUsageType::SignVerify).await;
        let sig = kms
            .sign()
            .key_id(&id)
            .message(Blob::new(b"m".to_vec()))
            .signing_algorithm(alg.clone())
            .send()
            .await
            .expect("Sign");
        let ok = kms
            .verify()
            .key_id(&id)
            .message(Blob::new(b"m".to_vec()))
            .signature(sig.signature().expect("sig").clone())
            .signing_algorithm(alg)
            .send()
            .await
            .expect("Verify");
        assert!(ok.signature_valid(), "{spec:?}");
    }
}

#[tokio::test]
async fn rsa_encryption_round_trips_and_matches_the_public_key() {
    use rsa::pkcs8::DecodePublicKey;
    let server = TestServer::memory().await;
    let kms = client(&server);
    let id = key_of(&kms, KeySpec::Rsa2048, KeyUsageType::EncryptDecrypt).await;
    let pk = kms
        .get_public_key()
        .key_id(&id)
        .send()
        .await
        .expect("GetPublicKey");
    let public = rsa::RsaPublicKey::from_public_key_der(pk.public_key().expect("pk").as_ref())
        .expect("SPKI");
    for alg in [
        EncryptionAlgorithmSpec::RsaesOaepSha1,
        EncryptionAlgorithmSpec::RsaesOaepSha256,
    ] {
        let enc = kms
            .encrypt()
            .key_id(&id)
            .plaintext(Blob::new(b"rsa secret".to_vec()))
            .encryption_algorithm(alg.clone())
            .send()
            .await
            .expect("Encrypt");
        assert_eq!(enc.ciphertext_blob().map(|b| b.as_ref().len()), Some(256));
        let dec = kms
            .decrypt()
            .key_id(&id)
            .ciphertext_blob(enc.ciphertext_blob().expect("blob").clone())
            .encryption_algorithm(alg.clone())
            .send()
            .await
            .expect("Decrypt");
        assert_eq!(
            dec.plaintext().map(|b| b.as_ref()),
            Some(&b"rsa secret"[..])
        );
    }
    // Ciphertext made offline with GetPublicKey's key decrypts in KMS.
    let offline = public
        .encrypt(
            &mut rand_rng(),
            rsa::Oaep::new::<sha2::Sha256>(),
            b"offline",
        )
        .expect("encrypt offline");
    let dec = kms
        .decrypt()
        .key_id(&id)
        .ciphertext_blob(Blob::new(offline))
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await
        .expect("Decrypt offline ciphertext");
    assert_eq!(dec.plaintext().map(|b| b.as_ref()), Some(&b"offline"[..]));
    let err = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .expect_err("symmetric algorithm on RSA key");
    assert_eq!(err.code(), Some("InvalidKeyUsageException"));
}

fn rand_rng() -> impl rsa::rand_core::CryptoRngCore {
    rsa::rand_core::OsRng
}

#[tokio::test]
async fn data_key_pairs_and_key_agreement() {
    use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
    let server = TestServer::memory().await;
    let kms = client(&server);
    let wrap = symmetric_key(&kms).await;
    let pair = kms
        .generate_data_key_pair()
        .key_id(&wrap)
        .key_pair_spec(aws_sdk_kms::types::DataKeyPairSpec::EccNistP256)
        .send()
        .await
        .expect("GenerateDataKeyPair");
    let private =
        p256::SecretKey::from_pkcs8_der(pair.private_key_plaintext().expect("private").as_ref())
            .expect("PKCS#8");
    let public = p256::PublicKey::from_public_key_der(pair.public_key().expect("public").as_ref())
        .expect("SPKI");
    assert_eq!(private.public_key(), public);
    let dec = kms
        .decrypt()
        .ciphertext_blob(pair.private_key_ciphertext_blob().expect("blob").clone())
        .send()
        .await
        .expect("Decrypt private key");
    assert_eq!(
        dec.plaintext().map(|b| b.as_ref().to_vec()),
        pair.private_key_plaintext().map(|b| b.as_ref().to_vec())
    );

    // ECDH: KMS's shared secret equals the one computed locally from its public key.
    let ka = key_of(&kms, KeySpec::EccNistP256, KeyUsageType::KeyAgreement).await;
    let kms_public = kms
        .get_public_key()
        .key_id(&ka)
        .send()
        .await
        .expect("GetPublicKey");
    let kms_public =
        p256::PublicKey::from_public_key_der(kms_public.public_key().expect("pk").as_ref())
            .expect("SPKI");
    let local = p256::ecdh::diffie_hellman(private.to_nonzero_scalar(), kms_public.as_affine());
    let derived = kms
        .derive_shared_secret()
        .key_id(&ka)
        .key_agreement_algorithm(aws_sdk_kms::types::KeyAgreementAlgorithmSpec::Ecdh)
        .public_key(Blob::new(
            public.to_public_key_der().expect("der").as_bytes().to_vec(),
        ))
        .send()
        .await
        .expect("DeriveSharedSecret");
    assert_eq!(
        derived.shared_secret().map(|b| b.as_ref().to_vec()),
        Some(local.raw_secret_bytes().to_vec())
    );
}

#[tokio::test]
async fn hmac_generate_and_verify() {
    let server = TestServer::memory().await;
    let kms = client(&server);
    let id = key_of(&kms, KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac).await;
    let d = kms
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        d.key_metadata().map(|m| m.mac_algorithms().to_vec()),
        Some(vec![MacAlgorithmSpec::HmacSha256])
    );
    let mac = kms
        .generate_mac()
        .key_id(&id)
        .message(Blob::new(b"msg".to_vec()))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .expect("GenerateMac");
    let tag = mac.mac().expect("mac").clone();
    assert_eq!(tag.as_ref().len(), 32);
    let ok = kms
        .verify_mac()
        .key_id(&id)
        .message(Blob::new(b"msg".to_vec()))
        .mac(tag.clone())
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .expect("VerifyMac");
    assert!(ok.mac_valid());
    let err = kms
        .verify_mac()
        .key_id(&id)
        .message(Blob::new(b"other".to_vec()))
        .mac(tag)
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .expect_err("bad mac");
    assert_eq!(err.code(), Some("KMSInvalidMacException"));
    let err = kms
        .generate_mac()
        .key_id(&id)
        .message(Blob::new(b"msg".to_vec()))
        .mac_algorithm(MacAlgorithmSpec::HmacSha512)
        .send()
        .await
        .expect_err("wrong algorithm");
    assert_eq!(err.code(), Some("InvalidKeyUsageException"));
}

#[tokio::test]
async fn rotation_keeps_old_ciphertexts_readable() {
    let server = TestServer::memory().await;
    let kms = client(&server);
    let id = symmetric_key(&kms).await;
    let before = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"old".to_vec()))
        .send()
        .await
        .expect("Encrypt");
    let status = kms
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .expect("status");
    assert!(!status.key_rotation_enabled());
    kms.enable_key_rotation()
        .key_id(&id)
        .rotation_period_in_days(90)
        .send()
        .await
        .expect("enable");
    let status = kms
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .expect("status");
    assert!(status.key_rotation_enabled());
    assert_eq!(status.rotation_period_in_days(), Some(90));
    assert!(status.next_rotation_date().is_some());

    let old_material = kms
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("describe");
    let old_material = old_material
        .key_metadata()
        .and_then(|m| m.current_key_material_id())
        .map(String::from);
    kms.rotate_key_on_demand()
        .key_id(&id)
        .send()
        .await
        .expect("RotateKeyOnDemand");
    let new_material = kms
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("describe");
    let new_material = new_material
        .key_metadata()
        .and_then(|m| m.current_key_material_id())
        .map(String::from);
    assert_ne!(old_material, new_material);

    let rotations = kms
        .list_key_rotations()
        .key_id(&id)
        .send()
        .await
        .expect("ListKeyRotations");
    assert_eq!(rotations.rotations().len(), 1);
    assert_eq!(
        rotations.rotations()[0].rotation_type().map(|t| t.as_str()),
        Some("ON_DEMAND")
    );

    let dec = kms
        .decrypt()
        .ciphertext_blob(before.ciphertext_blob().expect("blob").clone())
        .send()
        .await
        .expect("old ciphertext still decrypts");
    assert_eq!(dec.plaintext().map(|b| b.as_ref()), Some(&b"old"[..]));
    assert_eq!(dec.key_material_id(), old_material.as_deref());
    let after = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"new".to_vec()))
        .send()
        .await
        .expect("Encrypt");
    let dec = kms
        .decrypt()
        .ciphertext_blob(after.ciphertext_blob().expect("blob").clone())
        .send()
        .await
        .expect("new ciphertext");
    assert_eq!(dec.key_material_id(), new_material.as_deref());

    let asym = key_of(&kms, KeySpec::Rsa2048, KeyUsageType::SignVerify).await;
    let err = kms
        .enable_key_rotation()
        .key_id(&asym)
        .send()
        .await
        .expect_err("asymmetric");
    assert_eq!(err.code(), Some("UnsupportedOperationException"));
    kms.disable_key_rotation()
        .key_id(&id)
        .send()
        .await
        .expect("disable");
    let status = kms
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .expect("status");
    assert!(!status.key_rotation_enabled());
}

#[tokio::test]
async fn tags_policies_and_descriptions() {
    let server = TestServer::memory().await;
    let kms = client(&server);
    let id = symmetric_key(&kms).await;
    let tag = |k: &str, v: &str| Tag::builder().tag_key(k).tag_value(v).build().expect("tag");
    kms.tag_resource()
        .key_id(&id)
        .tags(tag("a", "1"))
        .tags(tag("b", "2"))
        .send()
        .await
        .expect("tag");
    kms.tag_resource()
        .key_id(&id)
        .tags(tag("a", "3"))
        .send()
        .await
        .expect("retag");
    kms.untag_resource()
        .key_id(&id)
        .tag_keys("b")
        .send()
        .await
        .expect("untag");
    let tags = kms
        .list_resource_tags()
        .key_id(&id)
        .send()
        .await
        .expect("list");
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(
        (tags.tags()[0].tag_key(), tags.tags()[0].tag_value()),
        ("a", "3")
    );
    let err = kms
        .tag_resource()
        .key_id(&id)
        .tags(tag("aws:x", "1"))
        .send()
        .await
        .expect_err("reserved");
    assert_eq!(err.code(), Some("TagException"));

    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Resource":"*"}]}"#;
    kms.put_key_policy()
        .key_id(&id)
        .policy(policy)
        .send()
        .await
        .expect("PutKeyPolicy");
    let got = kms
        .get_key_policy()
        .key_id(&id)
        .send()
        .await
        .expect("GetKeyPolicy");
    assert_eq!(got.policy(), Some(policy));
    let err = kms
        .put_key_policy()
        .key_id(&id)
        .policy("not json")
        .send()
        .await
        .expect_err("bad");
    assert_eq!(err.code(), Some("MalformedPolicyDocumentException"));

    kms.update_key_description()
        .key_id(&id)
        .description("new words")
        .send()
        .await
        .expect("desc");
    let d = kms
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        d.key_metadata().and_then(|m| m.description()),
        Some("new words")
    );
}

#[tokio::test]
async fn keys_and_ciphertexts_survive_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (id, blob) = {
        let server = TestServer::disk_at(dir.path()).await;
        let kms = client(&server);
        let id = key_of(&kms, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
        let sym = symmetric_key(&kms).await;
        kms.create_alias()
            .alias_name("alias/durable")
            .target_key_id(&sym)
            .send()
            .await
            .expect("alias");
        let enc = kms
            .encrypt()
            .key_id("alias/durable")
            .plaintext(Blob::new(b"kept".to_vec()))
            .send()
            .await
            .expect("Encrypt");
        server.stop().await;
        (id, enc.ciphertext_blob().expect("blob").clone())
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("kms-root.key"))
            .expect("root key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let server = TestServer::disk_at(dir.path()).await;
    let kms = client(&server);
    let dec = kms
        .decrypt()
        .ciphertext_blob(blob)
        .send()
        .await
        .expect("Decrypt after restart");
    assert_eq!(dec.plaintext().map(|b| b.as_ref()), Some(&b"kept"[..]));
    let sig = kms
        .sign()
        .key_id(&id)
        .message(Blob::new(b"m".to_vec()))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .expect("Sign after restart");
    assert!(!sig.signature().expect("sig").as_ref().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn raw_json_requests_get_aws_errors() {
    let server = TestServer::memory().await;
    let res = crate::harness::http()
        .post(server.url("/"))
        .header("X-Amz-Target", "TrentService.Encrypt")
        .header("Content-Type", "application/x-amz-json-1.1")
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=x",
        )
        .body(r#"{"KeyId":"alias/none","Plaintext":"aGk="}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["__type"], "NotFoundException");
    let res = crate::harness::http()
        .post(server.url("/"))
        .header("X-Amz-Target", "TrentService.Decrypt")
        .header("Content-Type", "application/x-amz-json-1.1")
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=x",
        )
        .body(r#"{"CiphertextBlob":"AQAAAAEk"}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["__type"], "InvalidCiphertextException");
}

#[tokio::test]
async fn grants_are_stored_listed_retired_and_revoked() {
    use aws_sdk_kms::types::GrantOperation;
    let server = TestServer::memory().await;
    let kms = client(&server);
    let id = symmetric_key(&kms).await;
    let grantee = "arn:aws:iam::000000000000:role/app";
    let retiree = "arn:aws:iam::000000000000:role/ops";
    let g1 = kms
        .create_grant()
        .key_id(&id)
        .grantee_principal(grantee)
        .retiring_principal(retiree)
        .operations(GrantOperation::Encrypt)
        .operations(GrantOperation::Decrypt)
        .name("app-grant")
        .send()
        .await
        .expect("CreateGrant");
    let g1_id = g1.grant_id().expect("id").to_string();
    assert_eq!(g1_id.len(), 64);
    assert!(!g1.grant_token().expect("token").is_empty());
    // Same name and parameters: the same grant.
    let again = kms
        .create_grant()
        .key_id(&id)
        .grantee_principal(grantee)
        .retiring_principal(retiree)
        .operations(GrantOperation::Encrypt)
        .operations(GrantOperation::Decrypt)
        .name("app-grant")
        .send()
        .await
        .expect("CreateGrant again");
    assert_eq!(again.grant_id(), Some(g1_id.as_str()));
    let g2 = kms
        .create_grant()
        .key_id(&id)
        .grantee_principal("arn:aws:iam::000000000000:role/other")
        .operations(GrantOperation::GenerateDataKey)
        .send()
        .await
        .expect("CreateGrant 2");

    let listed = kms
        .list_grants()
        .key_id(&id)
        .send()
        .await
        .expect("ListGrants");
    assert_eq!(listed.grants().len(), 2);
    let first = &listed.grants()[0];
    assert_eq!(first.grant_id(), Some(g1_id.as_str()));
    assert_eq!(first.grantee_principal(), Some(grantee));
    assert_eq!(first.retiring_principal(), Some(retiree));
    assert_eq!(first.name(), Some("app-grant"));
    assert_eq!(
        first.issuing_account(),
        Some("arn:aws:iam::000000000000:root")
    );
    assert_eq!(
        first.operations(),
        &[GrantOperation::Encrypt, GrantOperation::Decrypt]
    );
    assert!(first.key_id().expect("key").ends_with(&id));
    let filtered = kms
        .list_grants()
        .key_id(&id)
        .grantee_principal(grantee)
        .send()
        .await
        .expect("filtered");
    assert_eq!(filtered.grants().len(), 1);

    let retirable = kms
        .list_retirable_grants()
        .retiring_principal(retiree)
        .send()
        .await
        .expect("ListRetirableGrants");
    assert_eq!(retirable.grants().len(), 1);

    kms.retire_grant()
        .grant_token(g1.grant_token().expect("token"))
        .send()
        .await
        .expect("RetireGrant by token");
    let err = kms
        .retire_grant()
        .grant_token(g1.grant_token().expect("token"))
        .send()
        .await
        .expect_err("retired");
    assert_eq!(err.code(), Some("InvalidGrantTokenException"));
    kms.revoke_grant()
        .key_id(&id)
        .grant_id(g2.grant_id().expect("id"))
        .send()
        .await
        .expect("RevokeGrant");
    let err = kms
        .revoke_grant()
        .key_id(&id)
        .grant_id(g2.grant_id().expect("id"))
        .send()
        .await
        .expect_err("revoked");
    assert_eq!(err.code(), Some("NotFoundException"));
    let listed = kms
        .list_grants()
        .key_id(&id)
        .send()
        .await
        .expect("ListGrants");
    assert!(listed.grants().is_empty());
    // Grant tokens are accepted by cryptographic calls.
    kms.encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .grant_tokens(g1.grant_token().expect("token"))
        .send()
        .await
        .expect("Encrypt with grant token");
}

/// Move a key's clock-driven dates into the past, as if time had passed, with the server down.
async fn backdate(dir: &std::path::Path, id: &str, field: &str) {
    let storage =
        cloudemu_storage::Storage::open(cloudemu_storage::StorageMode::Disk(dir.to_path_buf()))
            .await
            .expect("open storage");
    storage
        .kms()
        .update_key::<(), cloudemu_storage::StorageError>("000000000000", "us-east-1", id, |row| {
            let mut doc: serde_json::Value = serde_json::from_str(&row.metadata).expect("metadata");
            doc[field] = serde_json::json!(1.0);
            row.metadata = doc.to_string();
            Ok(())
        })
        .await
        .expect("update")
        .expect("key exists");
    storage.close().await;
}

#[tokio::test]
async fn deletion_and_automatic_rotation_happen_when_their_dates_pass() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::disk_at(dir.path()).await;
    let kms = client(&server);
    let doomed = symmetric_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/doomed")
        .target_key_id(&doomed)
        .send()
        .await
        .expect("alias");
    kms.schedule_key_deletion()
        .key_id(&doomed)
        .send()
        .await
        .expect("schedule");
    let rotating = symmetric_key(&kms).await;
    kms.enable_key_rotation()
        .key_id(&rotating)
        .send()
        .await
        .expect("enable rotation");
    let old = kms
        .encrypt()
        .key_id(&rotating)
        .plaintext(Blob::new(b"before".to_vec()))
        .send()
        .await
        .expect("Encrypt");
    server.stop().await;

    backdate(dir.path(), &doomed, "deletion_date").await;
    backdate(dir.path(), &rotating, "next_rotation").await;

    let server = TestServer::disk_at(dir.path()).await;
    // The rotation that fell due while the server was down happens at start-up, before any
    // request uses the key.
    let key = rotating.clone();
    until_stored(dir.path(), "automatic rotation at its date", move |kms| {
        let key = key.clone();
        Box::pin(async move {
            kms.list_material("000000000000", "us-east-1", &key)
                .await
                .expect("list")
                .len()
                == 2
        })
    })
    .await;
    let kms = client(&server);
    let err = kms
        .describe_key()
        .key_id(&doomed)
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(err.code(), Some("NotFoundException"));
    let keys = kms.list_keys().send().await.expect("ListKeys");
    assert!(keys
        .keys()
        .iter()
        .all(|k| k.key_id() != Some(doomed.as_str())));
    let aliases = kms.list_aliases().send().await.expect("ListAliases");
    assert!(aliases
        .aliases()
        .iter()
        .all(|a| a.alias_name() != Some("alias/doomed")));

    // Using it does not rotate again; the old ciphertext still decrypts.
    kms.encrypt()
        .key_id(&rotating)
        .plaintext(Blob::new(b"after".to_vec()))
        .send()
        .await
        .expect("Encrypt");
    let rotations = kms
        .list_key_rotations()
        .key_id(&rotating)
        .send()
        .await
        .expect("rotations");
    assert_eq!(rotations.rotations().len(), 1);
    assert_eq!(
        rotations.rotations()[0].rotation_type().map(|t| t.as_str()),
        Some("AUTOMATIC")
    );
    let status = kms
        .get_key_rotation_status()
        .key_id(&rotating)
        .send()
        .await
        .expect("status");
    let next = status.next_rotation_date().expect("next").secs();
    assert!(next > chrono::Utc::now().timestamp() + 300 * 86_400);
    let dec = kms
        .decrypt()
        .ciphertext_blob(old.ciphertext_blob().expect("blob").clone())
        .send()
        .await
        .expect("old ciphertext");
    assert_eq!(dec.plaintext().map(|b| b.as_ref()), Some(&b"before"[..]));
    server.stop().await;
}

#[tokio::test]
async fn external_keys_take_imported_material() {
    use aws_sdk_kms::types::{AlgorithmSpec, OriginType, WrappingKeySpec};
    use rsa::pkcs8::DecodePublicKey;
    let server = TestServer::memory().await;
    let kms = client(&server);
    let created = kms
        .create_key()
        .origin(OriginType::External)
        .send()
        .await
        .expect("CreateKey");
    let m = created.key_metadata().expect("metadata");
    let id = m.key_id().to_string();
    assert_eq!(m.key_state(), Some(&KeyState::PendingImport));
    assert_eq!(m.origin(), Some(&OriginType::External));
    assert!(!m.enabled());
    let err = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .expect_err("no material yet");
    assert_eq!(err.code(), Some("KMSInvalidStateException"));
    assert!(err.message().unwrap_or("").ends_with("is pending import."));

    let params = kms
        .get_parameters_for_import()
        .key_id(&id)
        .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
        .wrapping_key_spec(WrappingKeySpec::Rsa2048)
        .send()
        .await
        .expect("GetParametersForImport");
    let wrapping =
        rsa::RsaPublicKey::from_public_key_der(params.public_key().expect("pk").as_ref())
            .expect("SPKI");
    let material = [42u8; 32];
    let wrapped = wrapping
        .encrypt(&mut rand_rng(), rsa::Oaep::new::<sha2::Sha256>(), &material)
        .expect("wrap");
    let err = kms
        .import_key_material()
        .key_id(&id)
        .import_token(Blob::new(vec![1, 2, 3]))
        .encrypted_key_material(Blob::new(wrapped.clone()))
        .send()
        .await
        .expect_err("bad token");
    assert_eq!(err.code(), Some("InvalidImportTokenException"));
    kms.import_key_material()
        .key_id(&id)
        .import_token(params.import_token().expect("token").clone())
        .encrypted_key_material(Blob::new(wrapped))
        .send()
        .await
        .expect("ImportKeyMaterial");
    let m = kms
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        m.key_metadata().and_then(|m| m.key_state()),
        Some(&KeyState::Enabled)
    );
    let enc = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"imported".to_vec()))
        .send()
        .await
        .expect("Encrypt with imported material");

    // Different material cannot replace what was imported.
    let other = wrapping
        .encrypt(
            &mut rand_rng(),
            rsa::Oaep::new::<sha2::Sha256>(),
            &[7u8; 32],
        )
        .expect("wrap");
    let err = kms
        .import_key_material()
        .key_id(&id)
        .import_token(params.import_token().expect("token").clone())
        .encrypted_key_material(Blob::new(other))
        .send()
        .await
        .expect_err("different material");
    assert_eq!(err.code(), Some("IncorrectKeyMaterialException"));

    kms.delete_imported_key_material()
        .key_id(&id)
        .send()
        .await
        .expect("delete material");
    let err = kms
        .decrypt()
        .ciphertext_blob(enc.ciphertext_blob().expect("blob").clone())
        .send()
        .await
        .expect_err("material gone");
    assert_eq!(err.code(), Some("KMSInvalidStateException"));
    // Importing the same material again brings the ciphertexts back.
    let again = wrapping
        .encrypt(&mut rand_rng(), rsa::Oaep::new::<sha2::Sha256>(), &material)
        .expect("wrap");
    kms.import_key_material()
        .key_id(&id)
        .import_token(params.import_token().expect("token").clone())
        .encrypted_key_material(Blob::new(again))
        .send()
        .await
        .expect("re-import");
    let dec = kms
        .decrypt()
        .ciphertext_blob(enc.ciphertext_blob().expect("blob").clone())
        .send()
        .await
        .expect("Decrypt after re-import");
    assert_eq!(dec.plaintext().map(|b| b.as_ref()), Some(&b"imported"[..]));

    // An external key without material goes back to waiting for it when deletion is cancelled.
    let bare = kms
        .create_key()
        .origin(OriginType::External)
        .send()
        .await
        .expect("CreateKey");
    let bare = bare.key_metadata().expect("metadata").key_id().to_string();
    kms.schedule_key_deletion()
        .key_id(&bare)
        .send()
        .await
        .expect("schedule");
    kms.cancel_key_deletion()
        .key_id(&bare)
        .send()
        .await
        .expect("cancel");
    let d = kms
        .describe_key()
        .key_id(&bare)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        d.key_metadata().and_then(|m| m.key_state()),
        Some(&KeyState::PendingImport)
    );

    let native = symmetric_key(&kms).await;
    let err = kms
        .get_parameters_for_import()
        .key_id(&native)
        .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
        .wrapping_key_spec(WrappingKeySpec::Rsa2048)
        .send()
        .await
        .expect_err("AWS_KMS origin");
    assert_eq!(err.code(), Some("UnsupportedOperationException"));
}

#[tokio::test]
async fn multi_region_keys_replicate_and_decrypt_across_regions() {
    let server = TestServer::memory().await;
    let kms = client(&server);
    let west = Client::from_conf(
        aws_sdk_kms::config::Builder::from(&server.sdk_config())
            .region(aws_sdk_kms::config::Region::new("eu-west-1"))
            .build(),
    );
    let created = kms
        .create_key()
        .multi_region(true)
        .send()
        .await
        .expect("CreateKey");
    let m = created.key_metadata().expect("metadata");
    let id = m.key_id().to_string();
    assert!(id.starts_with("mrk-") && id.len() == 36, "{id}");
    assert_eq!(m.multi_region(), Some(true));
    let cfg = m.multi_region_configuration().expect("config");
    assert_eq!(
        cfg.multi_region_key_type().map(|t| t.as_str()),
        Some("PRIMARY")
    );

    let enc = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"global".to_vec()))
        .send()
        .await
        .expect("Encrypt");
    let replica = kms
        .replicate_key()
        .key_id(&id)
        .replica_region("eu-west-1")
        .description("replica")
        .send()
        .await
        .expect("ReplicateKey");
    let rm = replica.replica_key_metadata().expect("metadata");
    assert_eq!(
        rm.arn(),
        Some(format!("arn:aws:kms:eu-west-1:000000000000:key/{id}").as_str())
    );
    assert_eq!(
        rm.multi_region_configuration()
            .and_then(|c| c.multi_region_key_type())
            .map(|t| t.as_str()),
        Some("REPLICA")
    );
    let dec = west
        .decrypt()
        .ciphertext_blob(enc.ciphertext_blob().expect("blob").clone())
        .send()
        .await
        .expect("Decrypt in the replica region");
    assert_eq!(dec.plaintext().map(|b| b.as_ref()), Some(&b"global"[..]));

    // Rotating the primary hands the new material to the replica.
    kms.rotate_key_on_demand()
        .key_id(&id)
        .send()
        .await
        .expect("rotate primary");
    let after = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"rotated".to_vec()))
        .send()
        .await
        .expect("Encrypt after rotation");
    let dec = west
        .decrypt()
        .ciphertext_blob(after.ciphertext_blob().expect("blob").clone())
        .send()
        .await
        .expect("replica decrypts post-rotation ciphertext");
    assert_eq!(dec.plaintext().map(|b| b.as_ref()), Some(&b"rotated"[..]));
    let err = west
        .rotate_key_on_demand()
        .key_id(&id)
        .send()
        .await
        .expect_err("replica");
    assert_eq!(err.code(), Some("UnsupportedOperationException"));

    let primary = kms
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("describe");
    let replicas = primary
        .key_metadata()
        .and_then(|m| m.multi_region_configuration())
        .map(|c| c.replica_keys().len());
    assert_eq!(replicas, Some(1));
    let err = kms
        .replicate_key()
        .key_id(&id)
        .replica_region("eu-west-1")
        .send()
        .await
        .expect_err("exists");
    assert_eq!(err.code(), Some("AlreadyExistsException"));
    let single = symmetric_key(&kms).await;
    let err = kms
        .replicate_key()
        .key_id(&single)
        .replica_region("eu-west-1")
        .send()
        .await
        .expect_err("single-region");
    assert_eq!(err.code(), Some("UnsupportedOperationException"));
}

#[tokio::test]
async fn reset_forgets_keys_even_after_hot_use() {
    let server = TestServer::memory().await;
    let kms = client(&server);
    let id = symmetric_key(&kms).await;
    for _ in 0..3 {
        kms.encrypt()
            .key_id(&id)
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
            .await
            .expect("Encrypt");
    }
    let res = crate::harness::http()
        .post(server.url("/_cloudemu/reset"))
        .send()
        .await
        .expect("reset");
    assert!(res.status().is_success());
    let err = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .expect_err("gone after reset");
    assert_eq!(err.code(), Some("NotFoundException"));
    // A disabled key is refused at once, however recently it was used.
    let id = symmetric_key(&kms).await;
    kms.encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .expect("Encrypt");
    kms.disable_key()
        .key_id(&id)
        .send()
        .await
        .expect("DisableKey");
    let err = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .expect_err("disabled");
    assert_eq!(err.code(), Some("DisabledException"));
    let err = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .dry_run(true)
        .send()
        .await
        .expect_err("dry run on a disabled key");
    assert_eq!(err.code(), Some("DisabledException"));
    kms.enable_key()
        .key_id(&id)
        .send()
        .await
        .expect("EnableKey");
    let err = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .dry_run(true)
        .send()
        .await
        .expect_err("dry run");
    assert_eq!(err.code(), Some("DryRunOperationException"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(412));
}

/// Run the real binary on a free port; its bound port comes from the start-up line.
fn spawn_binary(data: &std::path::Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cloudemu"))
        .args(["--port", "0", "--log-format", "text", "--data-dir"])
        .arg(data)
        .env("CLOUDEMU_LOG_LEVEL", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn cloudemu");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let addr: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
                let _ = tx.send(addr);
            }
        }
    });
    let addr = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("start-up line");
    (child, format!("http://{addr}"))
}

fn client_at(endpoint: &str) -> Client {
    let conf = aws_config::SdkConfig::builder()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new("test", "test", None, None, "t"),
            ),
        )
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    Client::new(&conf)
}

#[tokio::test]
async fn acknowledged_keys_survive_kill_9() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut child, endpoint) = spawn_binary(dir.path());
    let kms = client_at(&endpoint);
    let mut made = Vec::new();
    for i in 0..5u8 {
        let id = symmetric_key(&kms).await;
        let enc = kms
            .encrypt()
            .key_id(&id)
            .plaintext(Blob::new(vec![i; 8]))
            .send()
            .await
            .expect("Encrypt");
        kms.rotate_key_on_demand()
            .key_id(&id)
            .send()
            .await
            .expect("rotate");
        made.push((i, enc.ciphertext_blob().expect("blob").clone()));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");

    let (mut child, endpoint) = spawn_binary(dir.path());
    let kms = client_at(&endpoint);
    for (i, blob) in made {
        let dec = kms
            .decrypt()
            .ciphertext_blob(blob)
            .send()
            .await
            .expect("Decrypt after kill -9");
        assert_eq!(
            dec.plaintext().map(|b| b.as_ref().to_vec()),
            Some(vec![i; 8])
        );
    }
    child.kill().expect("stop");
    child.wait().expect("reaped");
}

#[tokio::test]
async fn malformed_input_gets_client_errors_never_500() {
    let server = TestServer::memory().await;
    let kms = client(&server);
    let id = symmetric_key(&kms).await;
    let post = |target: &'static str, body: String| {
        crate::harness::http()
            .post(server.url("/"))
            .header("X-Amz-Target", format!("TrentService.{target}"))
            .header("Content-Type", "application/x-amz-json-1.1")
            .header(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=x",
            )
            .body(body)
            .send()
    };
    let cases = [
        ("Decrypt", "{}".to_string(), "ValidationException"),
        (
            "Decrypt",
            r#"{"CiphertextBlob":"AQ=="}"#.to_string(),
            "InvalidCiphertextException",
        ),
        (
            "DescribeKey",
            r#"{"KeyId":"not-a-key"}"#.to_string(),
            "NotFoundException",
        ),
        (
            "DescribeKey",
            r#"{"KeyId":"arn:aws:s3:::bucket"}"#.to_string(),
            "InvalidArnException",
        ),
        (
            "Sign",
            format!(r#"{{"KeyId":"{id}","Message":"aGk=","SigningAlgorithm":"ECDSA_SHA_256"}}"#),
            "InvalidKeyUsageException",
        ),
        (
            "GenerateMac",
            format!(r#"{{"KeyId":"{id}","Message":"aGk=","MacAlgorithm":"HMAC_SHA_256"}}"#),
            "InvalidKeyUsageException",
        ),
        (
            "GenerateDataKey",
            format!(r#"{{"KeyId":"{id}","NumberOfBytes":32,"KeySpec":"AES_256"}}"#),
            "ValidationException",
        ),
        (
            "ScheduleKeyDeletion",
            format!(r#"{{"KeyId":"{id}","PendingWindowInDays":31}}"#),
            "ValidationException",
        ),
        (
            "CreateKey",
            r#"{"Policy":"nope"}"#.to_string(),
            "MalformedPolicyDocumentException",
        ),
        (
            "DeriveSharedSecret",
            format!(r#"{{"KeyId":"{id}","KeyAgreementAlgorithm":"ECDH","PublicKey":"aGk="}}"#),
            "InvalidKeyUsageException",
        ),
    ];
    for (target, body, code) in cases {
        let res = post(target, body.clone()).await.expect("send");
        assert_eq!(res.status(), 400, "{target} {body}");
        let json: serde_json::Value = res.json().await.expect("json");
        assert_eq!(json["__type"], code, "{target} {body}: {json}");
    }
}

/// Wrap key material for ImportKeyMaterial as a client does, with the algorithm named in
/// GetParametersForImport: OAEP directly, or (RSA_AES_KEY_WRAP_*) an ephemeral AES-256 key
/// under OAEP followed by the material under AES key wrap with padding (RFC 5649).
fn wrap_for_import(
    public_der: &[u8],
    algorithm: &aws_sdk_kms::types::AlgorithmSpec,
    material: &[u8],
) -> Vec<u8> {
    use aws_sdk_kms::types::AlgorithmSpec as A;
    use rsa::pkcs8::DecodePublicKey;
    let public = rsa::RsaPublicKey::from_public_key_der(public_der).expect("wrapping SPKI");
    let oaep = |sha256: bool, data: &[u8]| {
        let padding = if sha256 {
            rsa::Oaep::new::<sha2::Sha256>()
        } else {
            rsa::Oaep::new::<sha1::Sha1>()
        };
        public
            .encrypt(&mut rand_rng(), padding, data)
            .expect("OAEP")
    };
    match algorithm {
        A::RsaesOaepSha1 => oaep(false, material),
        A::RsaesOaepSha256 => oaep(true, material),
        A::RsaAesKeyWrapSha1 | A::RsaAesKeyWrapSha256 => {
            let mut aes = [0u8; 32];
            rsa::rand_core::RngCore::fill_bytes(&mut rand_rng(), &mut aes);
            let mut out = oaep(matches!(algorithm, A::RsaAesKeyWrapSha256), &aes);
            let kek = aes_kw::KekAes256::from(aes);
            out.extend(kek.wrap_with_padding_vec(material).expect("KWP"));
            out
        }
        other => panic!("no wrapping for {other:?}"),
    }
}

/// An EXTERNAL key of a spec and usage, its material imported with a wrapping algorithm.
async fn import_into(
    kms: &Client,
    spec: KeySpec,
    usage: KeyUsageType,
    wrapping: aws_sdk_kms::types::AlgorithmSpec,
    wrapping_spec: aws_sdk_kms::types::WrappingKeySpec,
    material: &[u8],
) -> String {
    let id = kms
        .create_key()
        .origin(aws_sdk_kms::types::OriginType::External)
        .key_spec(spec)
        .key_usage(usage)
        .send()
        .await
        .expect("CreateKey")
        .key_metadata()
        .expect("metadata")
        .key_id()
        .to_string();
    let params = kms
        .get_parameters_for_import()
        .key_id(&id)
        .wrapping_algorithm(wrapping.clone())
        .wrapping_key_spec(wrapping_spec)
        .send()
        .await
        .expect("GetParametersForImport");
    let wrapped = wrap_for_import(
        params.public_key().expect("public key").as_ref(),
        &wrapping,
        material,
    );
    kms.import_key_material()
        .key_id(&id)
        .import_token(params.import_token().expect("token").clone())
        .encrypted_key_material(Blob::new(wrapped))
        .send()
        .await
        .expect("ImportKeyMaterial");
    id
}

/// HMAC (RFC 2104) over SHA-256, written out here so KMS's MAC is checked independently.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    let mut k = [0u8; 64];
    k[..key.len()].copy_from_slice(key);
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let inner = sha2::Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    sha2::Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

#[tokio::test]
async fn imported_material_of_every_kind_with_every_wrapping_algorithm() {
    use aws_sdk_kms::types::{AlgorithmSpec as A, WrappingKeySpec as W};
    use rsa::pkcs8::{DecodePublicKey, EncodePrivateKey, EncodePublicKey};
    let server = TestServer::memory().await;
    let kms = client(&server);

    // Symmetric material through RSA_AES_KEY_WRAP_SHA_1.
    let sym = import_into(
        &kms,
        KeySpec::SymmetricDefault,
        KeyUsageType::EncryptDecrypt,
        A::RsaAesKeyWrapSha1,
        W::Rsa2048,
        &[9u8; 32],
    )
    .await;
    let enc = kms
        .encrypt()
        .key_id(&sym)
        .plaintext(Blob::new(b"wrapped".to_vec()))
        .send()
        .await
        .expect("Encrypt");
    let dec = kms
        .decrypt()
        .ciphertext_blob(enc.ciphertext_blob().expect("blob").clone())
        .send()
        .await
        .expect("Decrypt");
    assert_eq!(dec.plaintext().map(|b| b.as_ref()), Some(&b"wrapped"[..]));
    let m = kms
        .describe_key()
        .key_id(&sym)
        .send()
        .await
        .expect("describe");
    let m = m.key_metadata().expect("metadata");
    assert_eq!(m.key_state(), Some(&KeyState::Enabled));
    assert_eq!(
        m.expiration_model().map(|e| e.as_str()),
        Some("KEY_MATERIAL_DOES_NOT_EXPIRE")
    );

    // HMAC material (40 bytes: HMAC_256 takes 32 to 64) through RSAES_OAEP_SHA_1 under a
    // 3072-bit wrapping key; the MAC matches one computed here.
    let hmac_key = [5u8; 40];
    let mac_id = import_into(
        &kms,
        KeySpec::Hmac256,
        KeyUsageType::GenerateVerifyMac,
        A::RsaesOaepSha1,
        W::Rsa3072,
        &hmac_key,
    )
    .await;
    let mac = kms
        .generate_mac()
        .key_id(&mac_id)
        .message(Blob::new(b"msg".to_vec()))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .expect("GenerateMac");
    assert_eq!(
        mac.mac().map(|b| b.as_ref().to_vec()),
        Some(hmac_sha256(&hmac_key, b"msg"))
    );

    // ECC private key (PKCS#8) through RSA_AES_KEY_WRAP_SHA_256: GetPublicKey is ours, and
    // KMS's signature verifies with our public key.
    let ec = p256::SecretKey::random(&mut rand_rng());
    let ec_id = import_into(
        &kms,
        KeySpec::EccNistP256,
        KeyUsageType::SignVerify,
        A::RsaAesKeyWrapSha256,
        W::Rsa2048,
        ec.to_pkcs8_der().expect("pkcs8").as_bytes(),
    )
    .await;
    let pk = kms
        .get_public_key()
        .key_id(&ec_id)
        .send()
        .await
        .expect("GetPublicKey");
    assert_eq!(
        pk.public_key().map(|b| b.as_ref().to_vec()),
        Some(
            ec.public_key()
                .to_public_key_der()
                .expect("der")
                .as_bytes()
                .to_vec()
        )
    );
    let sig = kms
        .sign()
        .key_id(&ec_id)
        .message(Blob::new(b"signed".to_vec()))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .expect("Sign");
    {
        use p256::ecdsa::signature::Verifier;
        let s = p256::ecdsa::Signature::from_der(sig.signature().expect("sig").as_ref())
            .expect("DER signature");
        p256::ecdsa::VerifyingKey::from(ec.public_key())
            .verify(b"signed", &s)
            .expect("our public key verifies KMS's signature");
    }

    // RSA private key: only the RSA_AES wrapping fits it. Encrypt at KMS, decrypt here.
    let rsa_key = rsa::RsaPrivateKey::new(&mut rand_rng(), 2048).expect("RSA key");
    let rsa_id = import_into(
        &kms,
        KeySpec::Rsa2048,
        KeyUsageType::EncryptDecrypt,
        A::RsaAesKeyWrapSha256,
        W::Rsa4096,
        rsa_key.to_pkcs8_der().expect("pkcs8").as_bytes(),
    )
    .await;
    let pk = kms
        .get_public_key()
        .key_id(&rsa_id)
        .send()
        .await
        .expect("GetPublicKey");
    let public = rsa::RsaPublicKey::from_public_key_der(pk.public_key().expect("pk").as_ref())
        .expect("SPKI");
    assert_eq!(public, rsa::RsaPublicKey::from(&rsa_key));
    let enc = kms
        .encrypt()
        .key_id(&rsa_id)
        .plaintext(Blob::new(b"to rsa".to_vec()))
        .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await
        .expect("Encrypt");
    let plain = rsa_key
        .decrypt(
            rsa::Oaep::new::<sha2::Sha256>(),
            enc.ciphertext_blob().expect("blob").as_ref(),
        )
        .expect("our private key decrypts");
    assert_eq!(plain, b"to rsa");

    // Errors.
    let bare = kms
        .create_key()
        .origin(aws_sdk_kms::types::OriginType::External)
        .send()
        .await
        .expect("CreateKey")
        .key_metadata()
        .expect("metadata")
        .key_id()
        .to_string();
    let err = kms
        .get_parameters_for_import()
        .key_id(&bare)
        .wrapping_algorithm(A::RsaesPkcs1V15)
        .wrapping_key_spec(W::Rsa2048)
        .send()
        .await
        .expect_err("PKCS#1 v1.5 wrapping is withdrawn");
    assert_eq!(err.code(), Some("UnsupportedOperationException"));
    let params = kms
        .get_parameters_for_import()
        .key_id(&bare)
        .wrapping_algorithm(A::RsaAesKeyWrapSha256)
        .wrapping_key_spec(W::Rsa2048)
        .send()
        .await
        .expect("GetParametersForImport");
    let token = params.import_token().expect("token").clone();
    let public = params.public_key().expect("pk").as_ref().to_vec();
    let import = |material: Vec<u8>, key: &str| {
        kms.import_key_material()
            .key_id(key)
            .import_token(token.clone())
            .encrypted_key_material(Blob::new(material))
    };
    let err = import(
        wrap_for_import(&public, &A::RsaAesKeyWrapSha256, &[1; 16]),
        &bare,
    )
    .send()
    .await
    .expect_err("16 bytes for a symmetric key");
    assert_eq!(err.code(), Some("IncorrectKeyMaterialException"));
    let err = import(
        wrap_for_import(&public, &A::RsaAesKeyWrapSha1, &[1; 32]),
        &bare,
    )
    .send()
    .await
    .expect_err("wrapped with another algorithm than the token's");
    assert_eq!(err.code(), Some("InvalidCiphertextException"));
    let err = import(vec![0u8; 300], &bare)
        .send()
        .await
        .expect_err("garbage");
    assert_eq!(err.code(), Some("InvalidCiphertextException"));
    let err = import(
        wrap_for_import(&public, &A::RsaAesKeyWrapSha256, &[1; 32]),
        &sym,
    )
    .send()
    .await
    .expect_err("token of another key");
    assert_eq!(err.code(), Some("InvalidImportTokenException"));
    let err = import(
        wrap_for_import(&public, &A::RsaAesKeyWrapSha256, &[1; 32]),
        &bare,
    )
    .expiration_model(aws_sdk_kms::types::ExpirationModelType::KeyMaterialExpires)
    .send()
    .await
    .expect_err("KEY_MATERIAL_EXPIRES without ValidTo");
    assert_eq!(err.code(), Some("ValidationException"));
    let err = import(
        wrap_for_import(&public, &A::RsaAesKeyWrapSha256, &[1; 32]),
        &bare,
    )
    .valid_to(aws_sdk_kms::primitives::DateTime::from_secs(1_000_000))
    .send()
    .await
    .expect_err("ValidTo in the past");
    assert_eq!(err.code(), Some("ValidationException"));
    // None of that imported anything.
    let d = kms
        .describe_key()
        .key_id(&bare)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        d.key_metadata().and_then(|m| m.key_state()),
        Some(&KeyState::PendingImport)
    );
    let wrap = |m: &[u8]| wrap_for_import(&public, &A::RsaAesKeyWrapSha256, m);
    let first = import(wrap(&[1; 32]), &bare)
        .send()
        .await
        .expect("ImportKeyMaterial");
    let material_id = first.key_material_id().expect("material id").to_string();
    assert_eq!(material_id.len(), 64);
    let d = kms
        .describe_key()
        .key_id(&bare)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        d.key_metadata().and_then(|m| m.current_key_material_id()),
        Some(material_id.as_str())
    );

    // The first material stays the key's for good: after it is deleted, only the same
    // material imports again, and it is the same material id.
    kms.delete_imported_key_material()
        .key_id(&bare)
        .send()
        .await
        .expect("DeleteImportedKeyMaterial");
    let err = import(wrap(&[2; 32]), &bare)
        .send()
        .await
        .expect_err("other material after deletion");
    assert_eq!(err.code(), Some("IncorrectKeyMaterialException"));
    let err = import(wrap(&[1; 32]), &bare)
        .key_material_id("0".repeat(64))
        .send()
        .await
        .expect_err("KeyMaterialId of other material");
    assert_eq!(err.code(), Some("IncorrectKeyMaterialException"));
    let again = import(wrap(&[1; 32]), &bare)
        .key_material_id(&material_id)
        .send()
        .await
        .expect("re-import");
    assert_eq!(again.key_material_id(), Some(material_id.as_str()));
    let err = import(wrap(&[2; 32]), &bare)
        .import_type(aws_sdk_kms::types::ImportType::NewKeyMaterial)
        .send()
        .await
        .expect_err("new material is not served yet");
    assert_eq!(err.code(), Some("UnsupportedOperationException"));
}

#[tokio::test]
async fn import_tokens_survive_restart_and_expire_after_24_hours() {
    use aws_sdk_kms::types::{AlgorithmSpec as A, WrappingKeySpec as W};
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::disk_at(dir.path()).await;
    let kms = client(&server);
    let external = || async {
        kms.create_key()
            .origin(aws_sdk_kms::types::OriginType::External)
            .send()
            .await
            .expect("CreateKey")
            .key_metadata()
            .expect("metadata")
            .key_id()
            .to_string()
    };
    let id = external().await;
    let stale = external().await;
    let params = kms
        .get_parameters_for_import()
        .key_id(&id)
        .wrapping_algorithm(A::RsaAesKeyWrapSha256)
        .wrapping_key_spec(W::Rsa2048)
        .send()
        .await
        .expect("GetParametersForImport");
    let valid_to = params.parameters_valid_to().expect("valid to").secs();
    let now = chrono::Utc::now().timestamp();
    assert!((now + 24 * 3600 - 60..=now + 24 * 3600 + 60).contains(&valid_to));
    server.stop().await;

    // With the server down, leave a token for `stale` whose 24 hours are over.
    let wrapping = rsa::RsaPrivateKey::new(&mut rand_rng(), 2048).expect("RSA");
    let stale_token = b"a token from yesterday".to_vec();
    {
        let storage = cloudemu_storage::Storage::open(cloudemu_storage::StorageMode::Disk(
            dir.path().to_path_buf(),
        ))
        .await
        .expect("open storage");
        let expired = cloudemu_storage::kms::ImportParams {
            key_id: stale.clone(),
            wrapping_algorithm: "RSAES_OAEP_SHA_256".into(),
            wrapping_key_spec: "RSA_2048".into(),
            private_key: wrapping.to_pkcs8_der().expect("pkcs8").as_bytes().to_vec(),
            expires_at: 1.0,
        };
        assert!(storage
            .kms()
            .put_import("000000000000", "us-east-1", &stale_token, &expired, 0.0)
            .await
            .expect("put"));
        storage.close().await;
    }

    let server = TestServer::disk_at(dir.path()).await;
    let kms = client(&server);
    let material = [3u8; 32];
    kms.import_key_material()
        .key_id(&id)
        .import_token(params.import_token().expect("token").clone())
        .encrypted_key_material(Blob::new(wrap_for_import(
            params.public_key().expect("pk").as_ref(),
            &A::RsaAesKeyWrapSha256,
            &material,
        )))
        .send()
        .await
        .expect("a token from before the restart imports");
    kms.encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .expect("Encrypt");
    let public = rsa::RsaPublicKey::from(&wrapping)
        .to_public_key_der()
        .expect("spki");
    let err = kms
        .import_key_material()
        .key_id(&stale)
        .import_token(Blob::new(stale_token))
        .encrypted_key_material(Blob::new(wrap_for_import(
            public.as_bytes(),
            &A::RsaesOaepSha256,
            &material,
        )))
        .send()
        .await
        .expect_err("expired token");
    assert_eq!(err.code(), Some("ExpiredImportTokenException"));
    server.stop().await;
}

/// Poll the data dir (a second storage handle, no KMS request) until `done` holds; the
/// server's sweeper, not a request, must have made the change.
async fn until_stored(
    dir: &std::path::Path,
    what: &str,
    done: impl Fn(
        cloudemu_storage::kms::KmsStore,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool>>>,
) {
    let storage =
        cloudemu_storage::Storage::open(cloudemu_storage::StorageMode::Disk(dir.to_path_buf()))
            .await
            .expect("open storage");
    // Generous: the machine is loaded; the sweeper acts within milliseconds of the date.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !done(storage.kms()).await {
        assert!(std::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    storage.close().await;
}

#[tokio::test]
async fn dates_apply_without_any_request_touching_the_key() {
    use aws_sdk_kms::types::{AlgorithmSpec as A, WrappingKeySpec as W};
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::disk_at(dir.path()).await;
    let kms = client(&server);

    // Imported material with a ValidTo a few seconds ahead.
    let id = kms
        .create_key()
        .origin(aws_sdk_kms::types::OriginType::External)
        .send()
        .await
        .expect("CreateKey")
        .key_metadata()
        .expect("metadata")
        .key_id()
        .to_string();
    let params = kms
        .get_parameters_for_import()
        .key_id(&id)
        .wrapping_algorithm(A::RsaesOaepSha256)
        .wrapping_key_spec(W::Rsa2048)
        .send()
        .await
        .expect("GetParametersForImport");
    let valid_to = chrono::Utc::now().timestamp() + 3;
    kms.import_key_material()
        .key_id(&id)
        .import_token(params.import_token().expect("token").clone())
        .encrypted_key_material(Blob::new(wrap_for_import(
            params.public_key().expect("pk").as_ref(),
            &A::RsaesOaepSha256,
            &[8u8; 32],
        )))
        .valid_to(aws_sdk_kms::primitives::DateTime::from_secs(valid_to))
        .send()
        .await
        .expect("ImportKeyMaterial");
    let d = kms
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("describe");
    let m = d.key_metadata().expect("metadata");
    assert_eq!(m.key_state(), Some(&KeyState::Enabled));
    assert_eq!(m.valid_to().map(|t| t.secs()), Some(valid_to));
    assert_eq!(
        m.expiration_model().map(|e| e.as_str()),
        Some("KEY_MATERIAL_EXPIRES")
    );

    // No request touches the key: the sweeper deletes its material at ValidTo.
    let key = id.clone();
    until_stored(dir.path(), "material deleted at ValidTo", move |kms| {
        let key = key.clone();
        Box::pin(async move {
            kms.list_material("000000000000", "us-east-1", &key)
                .await
                .expect("list")
                .is_empty()
        })
    })
    .await;
    let d = kms
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("describe");
    let m = d.key_metadata().expect("metadata");
    assert_eq!(m.key_state(), Some(&KeyState::PendingImport));
    assert!(m.valid_to().is_none());

    // A deletion date that passed while the server was down is applied at start-up, before
    // any request: the key goes with its alias and grants.
    let doomed = symmetric_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/swept")
        .target_key_id(&doomed)
        .send()
        .await
        .expect("alias");
    kms.create_grant()
        .key_id(&doomed)
        .grantee_principal("arn:aws:iam::000000000000:role/a")
        .retiring_principal("arn:aws:iam::000000000000:role/swept")
        .operations(aws_sdk_kms::types::GrantOperation::Decrypt)
        .send()
        .await
        .expect("grant");
    kms.schedule_key_deletion()
        .key_id(&doomed)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("schedule");
    server.stop().await;
    backdate(dir.path(), &doomed, "deletion_date").await;
    let server = TestServer::disk_at(dir.path()).await;
    let key = doomed.clone();
    until_stored(dir.path(), "key deleted at its deletion date", move |kms| {
        let key = key.clone();
        Box::pin(async move {
            kms.get_key("000000000000", "us-east-1", &key)
                .await
                .expect("get")
                .is_none()
        })
    })
    .await;
    let kms = client(&server);
    let aliases = kms.list_aliases().send().await.expect("ListAliases");
    assert!(aliases
        .aliases()
        .iter()
        .all(|a| a.alias_name() != Some("alias/swept")));
    let retirable = kms
        .list_retirable_grants()
        .retiring_principal("arn:aws:iam::000000000000:role/swept")
        .send()
        .await
        .expect("ListRetirableGrants");
    assert!(retirable.grants().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn every_kind_of_state_survives_restart() {
    use aws_sdk_kms::types::{
        AlgorithmSpec as A, GrantOperation, OriginType, WrappingKeySpec as W,
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::disk_at(dir.path()).await;
    let kms = client(&server);
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"}]}"#;
    // A key with a description, tags, a policy, an alias, a grant and rotations.
    let main = kms
        .create_key()
        .description("kept across restarts")
        .policy(policy)
        .tags(
            Tag::builder()
                .tag_key("team")
                .tag_value("core")
                .build()
                .expect("tag"),
        )
        .multi_region(true)
        .send()
        .await
        .expect("CreateKey")
        .key_metadata()
        .expect("metadata")
        .key_id()
        .to_string();
    kms.create_alias()
        .alias_name("alias/kept")
        .target_key_id(&main)
        .send()
        .await
        .expect("alias");
    let grant = kms
        .create_grant()
        .key_id(&main)
        .grantee_principal("arn:aws:iam::000000000000:role/app")
        .operations(GrantOperation::Decrypt)
        .name("kept-grant")
        .send()
        .await
        .expect("grant");
    let before = kms
        .encrypt()
        .key_id(&main)
        .plaintext(Blob::new(b"v1".to_vec()))
        .send()
        .await
        .expect("Encrypt");
    kms.enable_key_rotation()
        .key_id(&main)
        .rotation_period_in_days(90)
        .send()
        .await
        .expect("enable rotation");
    kms.rotate_key_on_demand()
        .key_id(&main)
        .send()
        .await
        .expect("rotate");
    kms.replicate_key()
        .key_id(&main)
        .replica_region("eu-west-1")
        .send()
        .await
        .expect("replicate");
    // A key pending deletion, a disabled key, an imported key with an expiry, and an import
    // in flight.
    let pending = symmetric_key(&kms).await;
    let deletion = kms
        .schedule_key_deletion()
        .key_id(&pending)
        .pending_window_in_days(9)
        .send()
        .await
        .expect("schedule")
        .deletion_date()
        .expect("date")
        .secs();
    let disabled = symmetric_key(&kms).await;
    kms.disable_key()
        .key_id(&disabled)
        .send()
        .await
        .expect("disable");
    let imported = import_into(
        &kms,
        KeySpec::SymmetricDefault,
        KeyUsageType::EncryptDecrypt,
        A::RsaesOaepSha256,
        W::Rsa2048,
        &[4u8; 32],
    )
    .await;
    let imported_ct = kms
        .encrypt()
        .key_id(&imported)
        .plaintext(Blob::new(b"imp".to_vec()))
        .send()
        .await
        .expect("Encrypt imported");
    let in_flight = kms
        .create_key()
        .origin(OriginType::External)
        .send()
        .await
        .expect("CreateKey")
        .key_metadata()
        .expect("metadata")
        .key_id()
        .to_string();
    let params = kms
        .get_parameters_for_import()
        .key_id(&in_flight)
        .wrapping_algorithm(A::RsaAesKeyWrapSha1)
        .wrapping_key_spec(W::Rsa2048)
        .send()
        .await
        .expect("GetParametersForImport");
    server.stop().await;

    let server = TestServer::disk_at(dir.path()).await;
    let kms = client(&server);
    let west = Client::from_conf(
        aws_sdk_kms::config::Builder::from(&server.sdk_config())
            .region(aws_sdk_kms::config::Region::new("eu-west-1"))
            .build(),
    );
    let d = kms
        .describe_key()
        .key_id("alias/kept")
        .send()
        .await
        .expect("describe");
    let m = d.key_metadata().expect("metadata");
    assert_eq!(m.key_id(), main);
    assert_eq!(m.description(), Some("kept across restarts"));
    let tags = kms
        .list_resource_tags()
        .key_id(&main)
        .send()
        .await
        .expect("tags");
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(tags.tags()[0].tag_value(), "core");
    let p = kms
        .get_key_policy()
        .key_id(&main)
        .send()
        .await
        .expect("policy");
    assert_eq!(p.policy(), Some(policy));
    let grants = kms
        .list_grants()
        .key_id(&main)
        .send()
        .await
        .expect("grants");
    assert_eq!(grants.grants().len(), 1);
    assert_eq!(grants.grants()[0].grant_id(), grant.grant_id());
    assert_eq!(grants.grants()[0].name(), Some("kept-grant"));
    let status = kms
        .get_key_rotation_status()
        .key_id(&main)
        .send()
        .await
        .expect("rotation status");
    assert!(status.key_rotation_enabled());
    assert_eq!(status.rotation_period_in_days(), Some(90));
    let rotations = kms
        .list_key_rotations()
        .key_id(&main)
        .send()
        .await
        .expect("rotations");
    assert_eq!(rotations.rotations().len(), 1);
    let dec = kms
        .decrypt()
        .ciphertext_blob(before.ciphertext_blob().expect("blob").clone())
        .send()
        .await
        .expect("pre-rotation ciphertext");
    assert_eq!(dec.plaintext().map(|b| b.as_ref()), Some(&b"v1"[..]));
    let dec = west
        .decrypt()
        .ciphertext_blob(before.ciphertext_blob().expect("blob").clone())
        .send()
        .await
        .expect("replica decrypts");
    assert_eq!(dec.plaintext().map(|b| b.as_ref()), Some(&b"v1"[..]));

    let d = kms
        .describe_key()
        .key_id(&pending)
        .send()
        .await
        .expect("describe");
    let m = d.key_metadata().expect("metadata");
    assert_eq!(m.key_state(), Some(&KeyState::PendingDeletion));
    assert_eq!(m.deletion_date().map(|t| t.secs()), Some(deletion));
    assert_eq!(m.pending_deletion_window_in_days(), Some(9));
    let d = kms
        .describe_key()
        .key_id(&disabled)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        d.key_metadata().and_then(|m| m.key_state()),
        Some(&KeyState::Disabled)
    );
    let dec = kms
        .decrypt()
        .ciphertext_blob(imported_ct.ciphertext_blob().expect("blob").clone())
        .send()
        .await
        .expect("imported material kept");
    assert_eq!(dec.plaintext().map(|b| b.as_ref()), Some(&b"imp"[..]));
    kms.import_key_material()
        .key_id(&in_flight)
        .import_token(params.import_token().expect("token").clone())
        .encrypted_key_material(Blob::new(wrap_for_import(
            params.public_key().expect("pk").as_ref(),
            &A::RsaAesKeyWrapSha1,
            &[6u8; 32],
        )))
        .send()
        .await
        .expect("the import in flight completes");
    server.stop().await;
}

#[tokio::test]
async fn key_pairs_without_plaintext_and_quotas() {
    use p256::pkcs8::{DecodePrivateKey, DecodePublicKey};
    let server = TestServer::memory().await;
    let kms = client(&server);
    let wrap = symmetric_key(&kms).await;
    let pair = kms
        .generate_data_key_pair_without_plaintext()
        .key_id(&wrap)
        .key_pair_spec(aws_sdk_kms::types::DataKeyPairSpec::EccNistP256)
        .send()
        .await
        .expect("GenerateDataKeyPairWithoutPlaintext");
    assert_eq!(
        pair.key_pair_spec().map(|s| s.as_str()),
        Some("ECC_NIST_P256")
    );
    let private = kms
        .decrypt()
        .ciphertext_blob(pair.private_key_ciphertext_blob().expect("blob").clone())
        .send()
        .await
        .expect("Decrypt private key");
    let private =
        p256::SecretKey::from_pkcs8_der(private.plaintext().expect("pt").as_ref()).expect("PKCS#8");
    let public = p256::PublicKey::from_public_key_der(pair.public_key().expect("pk").as_ref())
        .expect("SPKI");
    assert_eq!(private.public_key(), public);

    // 50 tags per key.
    let tags: Vec<Tag> = (0..50)
        .map(|i| {
            Tag::builder()
                .tag_key(format!("k{i}"))
                .tag_value("v")
                .build()
                .expect("tag")
        })
        .collect();
    kms.tag_resource()
        .key_id(&wrap)
        .set_tags(Some(tags))
        .send()
        .await
        .expect("50 tags");
    let err = kms
        .tag_resource()
        .key_id(&wrap)
        .tags(
            Tag::builder()
                .tag_key("k50")
                .tag_value("v")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect_err("51st tag");
    assert_eq!(err.code(), Some("LimitExceededException"));
    // Re-tagging an existing key is not a new tag.
    kms.tag_resource()
        .key_id(&wrap)
        .tags(
            Tag::builder()
                .tag_key("k0")
                .tag_value("w")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("update a tag");

    // Ten on-demand rotations per key.
    for _ in 0..10 {
        kms.rotate_key_on_demand()
            .key_id(&wrap)
            .send()
            .await
            .expect("RotateKeyOnDemand");
    }
    let err = kms
        .rotate_key_on_demand()
        .key_id(&wrap)
        .send()
        .await
        .expect_err("eleventh rotation");
    assert_eq!(err.code(), Some("LimitExceededException"));
    let rotations = kms
        .list_key_rotations()
        .key_id(&wrap)
        .limit(4)
        .send()
        .await
        .expect("ListKeyRotations");
    assert_eq!(rotations.rotations().len(), 4);
    assert!(rotations.truncated());
    let rest = kms
        .list_key_rotations()
        .key_id(&wrap)
        .marker(rotations.next_marker().expect("marker"))
        .send()
        .await
        .expect("next page");
    assert_eq!(rest.rotations().len(), 6);
    server.stop().await;
}

#[tokio::test]
async fn key_agreement_metadata_and_deletion_window_bounds() {
    let server = TestServer::memory().await;
    let kms = client(&server);
    let ka = kms
        .create_key()
        .key_spec(KeySpec::EccNistP384)
        .key_usage(KeyUsageType::KeyAgreement)
        .send()
        .await
        .expect("CreateKey");
    let m = ka.key_metadata().expect("metadata");
    assert_eq!(
        m.key_agreement_algorithms(),
        &[aws_sdk_kms::types::KeyAgreementAlgorithmSpec::Ecdh]
    );
    assert!(m.signing_algorithms().is_empty());
    assert!(m.encryption_algorithms().is_empty());
    // A key that cannot rotate reports rotation off (Terraform reads this for every key).
    let status = kms
        .get_key_rotation_status()
        .key_id(m.key_id())
        .send()
        .await
        .expect("GetKeyRotationStatus of an asymmetric key");
    assert!(!status.key_rotation_enabled());
    assert!(status.rotation_period_in_days().is_none());
    let err = kms
        .enable_key_rotation()
        .key_id(m.key_id())
        .send()
        .await
        .expect_err("asymmetric keys do not rotate");
    assert_eq!(err.code(), Some("UnsupportedOperationException"));
    for days in [6, 31] {
        let err = kms
            .schedule_key_deletion()
            .key_id(m.key_id())
            .pending_window_in_days(days)
            .send()
            .await
            .expect_err("outside 7-30 days");
        assert_eq!(err.code(), Some("ValidationException"));
        assert!(
            err.message()
                .unwrap_or_default()
                .contains(&format!("Value '{days}' at 'pendingWindowInDays'")),
            "{err:?}"
        );
    }
    let d = kms
        .schedule_key_deletion()
        .key_id(m.key_id())
        .pending_window_in_days(30)
        .send()
        .await
        .expect("30 days");
    let expected = chrono::Utc::now().timestamp() + 30 * 86_400;
    let date = d.deletion_date().expect("date").secs();
    assert!((expected - 120..=expected + 120).contains(&date));
    server.stop().await;
}
