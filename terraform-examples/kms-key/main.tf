terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

# Checked against CloudEmu with provider 5.100 (from a local provider mirror: the Terraform
# registry is not reachable from the build machine): apply, an empty second plan, destroy.

# A symmetric key with rotation, a description and tags, and an alias for it. Terraform reads
# the key back (DescribeKey, GetKeyPolicy with the default policy CloudEmu writes as AWS does,
# GetKeyRotationStatus, ListResourceTags) and waits for the alias in ListAliases.
resource "aws_kms_key" "app" {
  description             = "CloudEmu example key"
  deletion_window_in_days = 7
  enable_key_rotation     = true
  rotation_period_in_days = 180
  tags = {
    team = "platform"
  }
}

resource "aws_kms_alias" "app" {
  name          = "alias/cloudemu-example"
  target_key_id = aws_kms_key.app.key_id
}

# An asymmetric signing key: GetPublicKey's DER verifies its signatures with any library.
resource "aws_kms_key" "signing" {
  description              = "CloudEmu example signing key"
  customer_master_key_spec = "ECC_NIST_P256"
  key_usage                = "SIGN_VERIFY"
  deletion_window_in_days  = 7
}

data "aws_kms_public_key" "signing" {
  key_id = aws_kms_key.signing.arn
}

output "key_arn" {
  value = aws_kms_key.app.arn
}

output "alias_arn" {
  value = aws_kms_alias.app.arn
}

output "signing_public_key_pem" {
  value = data.aws_kms_public_key.signing.public_key_pem
}
