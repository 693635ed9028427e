"""KMS through boto3 and the AWS CLI; signatures checked with the `cryptography` package."""
import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils


def test_symmetric_round_trip_boto3(server, unique_name):
    kms = server.client("kms")
    key = kms.create_key(Description="sdk test", Tags=[{"TagKey": "t", "TagValue": "v"}])["KeyMetadata"]
    assert key["KeyState"] == "Enabled"
    assert key["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert key["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    alias = f"alias/{unique_name}"
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    enc = kms.encrypt(KeyId=alias, Plaintext=b"hello", EncryptionContext={"app": "sdk"})
    assert enc["KeyId"] == key["Arn"]
    dec = kms.decrypt(CiphertextBlob=enc["CiphertextBlob"], EncryptionContext={"app": "sdk"})
    assert dec["Plaintext"] == b"hello"
    assert dec["KeyId"] == key["Arn"]
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=enc["CiphertextBlob"], EncryptionContext={"app": "other"})
    dk = kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256")
    assert len(dk["Plaintext"]) == 32
    assert kms.decrypt(CiphertextBlob=dk["CiphertextBlob"])["Plaintext"] == dk["Plaintext"]
    policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
    assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::000000000000:root"}
    assert kms.list_resource_tags(KeyId=key["KeyId"])["Tags"] == [{"TagKey": "t", "TagValue": "v"}]


def test_errors_boto3(server):
    kms = server.client("kms")
    missing = "11111111-2222-3333-4444-555555555555"
    with pytest.raises(kms.exceptions.NotFoundException) as e:
        kms.describe_key(KeyId=missing)
    assert e.value.response["Error"]["Message"] == (
        f"Key 'arn:aws:kms:us-east-1:000000000000:key/{missing}' does not exist")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    key = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(kms.exceptions.DisabledException) as e:
        kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    assert e.value.response["Error"]["Message"] == f"{key['Arn']} is disabled."
    kms.enable_key(KeyId=key["KeyId"])
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    with pytest.raises(kms.exceptions.KMSInvalidStateException) as e:
        kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    assert e.value.response["Error"]["Message"] == f"{key['Arn']} is pending deletion."
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(CiphertextBlob=b"\x00" * 40)


@pytest.mark.parametrize("spec,alg,curve,digest", [
    ("ECC_NIST_P256", "ECDSA_SHA_256", ec.SECP256R1, hashes.SHA256),
    ("ECC_NIST_P384", "ECDSA_SHA_384", ec.SECP384R1, hashes.SHA384),
    ("ECC_NIST_P521", "ECDSA_SHA_512", ec.SECP521R1, hashes.SHA512),
    ("ECC_SECG_P256K1", "ECDSA_SHA_256", ec.SECP256K1, hashes.SHA256),
])
def test_ecdsa_signatures_verify_with_cryptography(server, spec, alg, curve, digest):
    kms = server.client("kms")
    key_id = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    assert isinstance(public.curve, curve)
    message = b"signed by CloudEmu"
    sig = kms.sign(KeyId=key_id, Message=message, SigningAlgorithm=alg)["Signature"]
    public.verify(sig, message, ec.ECDSA(digest()))
    # DIGEST: the caller hashes, the signature is over the same message.
    h = hashes.Hash(digest())
    h.update(message)
    sig = kms.sign(KeyId=key_id, Message=h.finalize(), MessageType="DIGEST", SigningAlgorithm=alg)["Signature"]
    public.verify(sig, message, ec.ECDSA(digest()))
    assert kms.verify(KeyId=key_id, Message=message, Signature=sig, SigningAlgorithm=alg)["SignatureValid"]
    with pytest.raises(kms.exceptions.KMSInvalidSignatureException):
        kms.verify(KeyId=key_id, Message=b"other", Signature=sig, SigningAlgorithm=alg)


@pytest.mark.parametrize("alg", [
    "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
    "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512",
])
def test_rsa_signatures_verify_with_cryptography(server, alg):
    kms = server.client("kms")
    key_id = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    digest = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}[alg[-3:]]()
    message = b"rsa message"
    sig = kms.sign(KeyId=key_id, Message=message, SigningAlgorithm=alg)["Signature"]
    if "PSS" in alg:
        pad = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
    else:
        pad = padding.PKCS1v15()
    public.verify(sig, message, pad, digest)


def test_rsa_oaep_with_cryptography(server):
    kms = server.client("kms")
    key_id = kms.create_key(KeySpec="RSA_3072", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    for alg, h in [("RSAES_OAEP_SHA_1", hashes.SHA1), ("RSAES_OAEP_SHA_256", hashes.SHA256)]:
        blob = public.encrypt(b"offline", padding.OAEP(mgf=padding.MGF1(h()), algorithm=h(), label=None))
        out = kms.decrypt(KeyId=key_id, CiphertextBlob=blob, EncryptionAlgorithm=alg)
        assert out["Plaintext"] == b"offline"


def test_ecdh_and_data_key_pairs(server):
    kms = server.client("kms")
    key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["KeyId"]
    kms_public = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    mine = ec.generate_private_key(ec.SECP256R1())
    mine_der = mine.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
    shared = kms.derive_shared_secret(KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=mine_der)
    assert shared["SharedSecret"] == mine.exchange(ec.ECDH(), kms_public)

    wrap = kms.create_key()["KeyMetadata"]["KeyId"]
    pair = kms.generate_data_key_pair(KeyId=wrap, KeyPairSpec="RSA_2048")
    private = serialization.load_der_private_key(pair["PrivateKeyPlaintext"], password=None)
    assert private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == pair["PublicKey"]


def test_hmac_boto3(server):
    import hmac as pyhmac
    import hashlib
    kms = server.client("kms")
    key_id = kms.create_key(KeySpec="HMAC_384", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    mac = kms.generate_mac(KeyId=key_id, Message=b"m", MacAlgorithm="HMAC_SHA_384")["Mac"]
    assert len(mac) == hashlib.sha384().digest_size
    assert kms.verify_mac(KeyId=key_id, Message=b"m", Mac=mac, MacAlgorithm="HMAC_SHA_384")["MacValid"]
    with pytest.raises(kms.exceptions.KMSInvalidMacException):
        kms.verify_mac(KeyId=key_id, Message=b"n", Mac=mac, MacAlgorithm="HMAC_SHA_384")
    assert pyhmac  # the key never leaves KMS, so the MAC is checked through VerifyMac only


def test_cli(server, unique_name, tmp_path):
    _, key, _ = server.cli("kms", "create-key", "--description", "from the cli")
    key_id = key["KeyMetadata"]["KeyId"]
    server.cli("kms", "create-alias", "--alias-name", f"alias/{unique_name}", "--target-key-id", key_id)
    _, aliases, _ = server.cli("kms", "list-aliases", "--key-id", key_id)
    assert [a["AliasName"] for a in aliases["Aliases"]] == [f"alias/{unique_name}"]
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"cli secret")
    _, enc, _ = server.cli("kms", "encrypt", "--key-id", f"alias/{unique_name}",
                           "--plaintext", f"fileb://{plain}")
    blob = tmp_path / "blob.bin"
    blob.write_bytes(base64.b64decode(enc["CiphertextBlob"]))
    _, dec, _ = server.cli("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}")
    assert base64.b64decode(dec["Plaintext"]) == b"cli secret"
    _, desc, _ = server.cli("kms", "describe-key", "--key-id", key_id)
    assert desc["KeyMetadata"]["Description"] == "from the cli"
    code, _, err = server.cli("kms", "describe-key", "--key-id", "alias/does-not-exist", check=False)
    assert code != 0 and "NotFoundException" in err
    _, keys, _ = server.cli("kms", "list-keys")
    assert key_id in [k["KeyId"] for k in keys["Keys"]]


@pytest.mark.parametrize("alg", ["RSA_AES_KEY_WRAP_SHA_256", "RSA_AES_KEY_WRAP_SHA_1", "RSAES_OAEP_SHA_256"])
def test_import_key_material_wrapped_by_cryptography(server, alg):
    """Key material wrapped as AWS documents it, by an independent implementation."""
    import os

    from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

    kms = server.client("kms")
    signing = alg.startswith("RSA_AES")
    if signing:
        # An EC private key (PKCS#8): KMS must sign with it and GetPublicKey must return ours.
        private = ec.generate_private_key(ec.SECP256R1())
        material = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
        key = kms.create_key(Origin="EXTERNAL", KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    else:
        material = os.urandom(32)
        key = kms.create_key(Origin="EXTERNAL")
    key_id = key["KeyMetadata"]["KeyId"]
    assert key["KeyMetadata"]["KeyState"] == "PendingImport"
    params = kms.get_parameters_for_import(KeyId=key_id, WrappingAlgorithm=alg, WrappingKeySpec="RSA_3072")
    wrapping = serialization.load_der_public_key(params["PublicKey"])
    assert wrapping.key_size == 3072
    sha = hashes.SHA1() if alg.endswith("SHA_1") else hashes.SHA256()
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=sha), algorithm=sha, label=None)
    if signing:
        aes = os.urandom(32)
        wrapped = wrapping.encrypt(aes, oaep) + aes_key_wrap_with_padding(aes, material)
    else:
        wrapped = wrapping.encrypt(material, oaep)
    kms.import_key_material(KeyId=key_id, ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped,
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert meta["KeyState"] == "Enabled"
    assert meta["Origin"] == "EXTERNAL"
    if signing:
        public = kms.get_public_key(KeyId=key_id)["PublicKey"]
        assert public == private.public_key().public_bytes(serialization.Encoding.DER,
                                                           serialization.PublicFormat.SubjectPublicKeyInfo)
        sig = kms.sign(KeyId=key_id, Message=b"imported", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
        private.public_key().verify(sig, b"imported", ec.ECDSA(hashes.SHA256()))
    else:
        enc = kms.encrypt(KeyId=key_id, Plaintext=b"imported")
        assert kms.decrypt(CiphertextBlob=enc["CiphertextBlob"])["Plaintext"] == b"imported"
    with pytest.raises(kms.exceptions.UnsupportedOperationException):
        kms.get_parameters_for_import(KeyId=key_id, WrappingAlgorithm="RSAES_PKCS1_V1_5",
                                      WrappingKeySpec="RSA_2048")
