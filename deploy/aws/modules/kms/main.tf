# The one customer-managed key of the stack: S3 (lake, artifacts, Athena results), SSM, SNS, SQS,
# CloudWatch Logs and the schedules. Rotation on. Services that are not an IAM role of this stack
# (CloudWatch Logs, CloudWatch alarms publishing to the encrypted topic) are named in the key policy.

variable "name_prefix" { type = string }
variable "account_id" { type = string }
variable "region" { type = string }
variable "partition" { type = string }

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_111:a key policy's "*" resource is this key itself
  #checkov:skip=CKV_AWS_356:a key policy's "*" resource is this key itself
  #checkov:skip=CKV_AWS_109:the account root administers its own key (AWS's default key policy); IAM then scopes use per role
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${var.partition}:iam::${var.account_id}:root"]
    }
  }
  statement {
    sid       = "CloudWatchLogsEncrypts"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${var.partition}:logs:${var.region}:${var.account_id}:log-group:*"]
    }
  }
  statement {
    sid       = "AlarmsPublishToEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name_prefix}: lake, key parameter, alerts and logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key.json
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}"
  target_key_id = aws_kms_key.this.key_id
}

output "arn" { value = aws_kms_key.this.arn }
output "id" { value = aws_kms_key.this.key_id }
output "rotation" { value = aws_kms_key.this.enable_key_rotation }
