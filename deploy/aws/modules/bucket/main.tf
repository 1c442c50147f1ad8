# One private bucket: SSE-KMS with the stack's key (bucket key on), versioning, all public access
# blocked, owner-enforced objects, TLS-only and SSE-KMS-only policy, lifecycle rules.

variable "name" { type = string }
variable "kms_key_arn" { type = string }
variable "force_destroy" { type = bool }
variable "tls_only" {
  description = "Attach the policy denying requests without TLS (off only against an emulator: moto ignores policy conditions)."
  type        = bool
  default     = true
}
variable "noncurrent_version_days" { type = number }
variable "expire_prefixes" {
  description = "Prefix → days after which objects there expire (raw/, Athena results)."
  type        = map(number)
  default     = {}
}
variable "archive_prefixes" {
  description = "Prefix → days after which objects there move to Glacier Instant Retrieval."
  type        = map(number)
  default     = {}
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:access is audited with CloudTrail data events where wanted (docs/aws.md), not a log bucket per bucket
  #checkov:skip=CKV_AWS_144:no cross-region replica: the lake is rebuilt from raw/ (versioned) and the API; a replica doubles storage
  #checkov:skip=CKV2_AWS_62:nothing consumes bucket events: the jobs are scheduled, and Iceberg commits are tracked by the catalog
  bucket        = var.name
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  dynamic "rule" {
    for_each = var.archive_prefixes
    content {
      id     = "archive-${trim(replace(rule.key, "/", "-"), "-")}"
      status = "Enabled"
      filter {
        prefix = rule.key
      }
      transition {
        days          = rule.value
        storage_class = "GLACIER_IR"
      }
    }
  }

  dynamic "rule" {
    for_each = var.expire_prefixes
    content {
      id     = "expire-${trim(replace(rule.key, "/", "-"), "-")}"
      status = "Enabled"
      filter {
        prefix = rule.key
      }
      expiration {
        days = rule.value
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "TlsOnly"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  count      = var.tls_only ? 1 : 0
  bucket     = aws_s3_bucket.this.id
  policy     = data.aws_iam_policy_document.this.json
  depends_on = [aws_s3_bucket_public_access_block.this]
}

output "name" { value = aws_s3_bucket.this.id }
output "arn" { value = aws_s3_bucket.this.arn }
output "sse" {
  description = "The default encryption: algorithm and key."
  value = {
    algorithm = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].sse_algorithm
    key       = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].kms_master_key_id
  }
}
output "tls_only" { value = length(aws_s3_bucket_policy.this) == 1 }
output "versioning" { value = aws_s3_bucket_versioning.this.versioning_configuration[0].status }
output "public_access_blocked" {
  value = alltrue([
    aws_s3_bucket_public_access_block.this.block_public_acls, aws_s3_bucket_public_access_block.this.block_public_policy,
    aws_s3_bucket_public_access_block.this.ignore_public_acls, aws_s3_bucket_public_access_block.this.restrict_public_buckets,
  ])
}
