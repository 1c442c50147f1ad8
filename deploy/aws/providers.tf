locals {
  emulated = var.aws_endpoint_url != ""
  # Every service this stack calls, sent to the emulator when aws_endpoint_url is set.
  emulated_services = [
    "athena", "cloudwatch", "ecr", "glue", "iam", "kms", "lambda", "logs", "quicksight",
    "redshiftserverless", "s3", "scheduler", "sfn", "sns", "sqs", "ssm", "sts",
  ]
}

provider "aws" {
  region = var.region

  # Emulator mode (docs/aws.md, "Proven offline"): fail fast on an unsupported call (3 attempts ride
  # out a dropped local connection; the default 25 would take ~10 minutes), no EC2 metadata look-up,
  # path-style S3. The account id is still learnt from the emulator's STS.
  max_retries                 = local.emulated ? 3 : null
  skip_credentials_validation = local.emulated
  skip_metadata_api_check     = local.emulated
  s3_use_path_style           = local.emulated

  dynamic "endpoints" {
    for_each = local.emulated ? [var.aws_endpoint_url] : []
    content {
      athena             = endpoints.value
      cloudwatch         = endpoints.value
      ecr                = endpoints.value
      glue               = endpoints.value
      iam                = endpoints.value
      kms                = endpoints.value
      lambda             = endpoints.value
      logs               = endpoints.value
      quicksight         = endpoints.value
      redshiftserverless = endpoints.value
      s3                 = endpoints.value
      scheduler          = endpoints.value
      sfn                = endpoints.value
      sns                = endpoints.value
      sqs                = endpoints.value
      ssm                = endpoints.value
      sts                = endpoints.value
    }
  }

  default_tags {
    tags = merge({ Project = "geckolake", ManagedBy = "terraform", Stack = var.name_prefix }, var.tags)
  }
}
