terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

# A table as applications declare them: composite key, a GSI, TTL, point-in-time recovery,
# a stream, deletion protection off so `terraform destroy` works, and tags.
resource "aws_dynamodb_table" "orders" {
  name         = "cloudemu-example-orders"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "customer"
  range_key    = "order_id"

  attribute {
    name = "customer"
    type = "S"
  }
  attribute {
    name = "order_id"
    type = "S"
  }
  attribute {
    name = "status"
    type = "S"
  }

  global_secondary_index {
    name            = "by-status"
    hash_key        = "status"
    range_key       = "order_id"
    projection_type = "INCLUDE"
    non_key_attributes = ["total"]
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  tags = {
    team = "orders"
  }
}

resource "aws_dynamodb_table_item" "first" {
  table_name = aws_dynamodb_table.orders.name
  hash_key   = aws_dynamodb_table.orders.hash_key
  range_key  = aws_dynamodb_table.orders.range_key
  item = jsonencode({
    customer = { S = "c-1" }
    order_id = { S = "o-1" }
    status   = { S = "open" }
    total    = { N = "42.5" }
  })
}

output "stream_arn" {
  value = aws_dynamodb_table.orders.stream_arn
}
