# Point the AWS provider at CloudEmu. Credentials can be anything; a 12-digit access key selects
# that account.
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true

  endpoints {
    sts        = "http://localhost:4566"
    iam        = "http://localhost:4566"
    sqs        = "http://localhost:4566"
    s3         = "http://localhost:4566"
    s3control  = "http://localhost:4566"
    dynamodb   = "http://localhost:4566"
    kms        = "http://localhost:4566"
    lambda     = "http://localhost:4566"
  }
}
