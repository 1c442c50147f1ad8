# Optional, off by default: Redshift Serverless with IAM authentication (the reference design's
# Spectrum route; query the lake with `CREATE EXTERNAL SCHEMA ... FROM DATA CATALOG`, see
# docs/aws.md) and a QuickSight data source + dataset over the Athena workgroup.

variable "name_prefix" { type = string }
variable "redshift_enabled" { type = bool }
variable "quicksight_enabled" { type = bool }
variable "quicksight_principal_arn" { type = string }
variable "kms_key_arn" { type = string }
variable "lake_bucket_arn" { type = string }
variable "lake_prefix" { type = string }
variable "glue_database_prefix" { type = string }
variable "athena_workgroup" { type = string }
variable "gold_database" { type = string }
variable "account_id" { type = string }
variable "region" { type = string }
variable "partition" { type = string }

# --- Redshift Serverless + Spectrum ---------------------------------------------------------

data "aws_iam_policy_document" "redshift_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "spectrum" {
  count              = var.redshift_enabled ? 1 : 0
  name               = "${var.name_prefix}-spectrum"
  assume_role_policy = data.aws_iam_policy_document.redshift_trust.json
}

data "aws_iam_policy_document" "spectrum" {
  statement {
    sid       = "ReadTheLake"
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = [var.lake_bucket_arn, "${var.lake_bucket_arn}/${var.lake_prefix}/*"]
  }
  statement {
    sid     = "ReadTheCatalog"
    actions = ["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables", "glue:GetPartitions"]
    resources = [
      "arn:${var.partition}:glue:${var.region}:${var.account_id}:catalog",
      "arn:${var.partition}:glue:${var.region}:${var.account_id}:database/${var.glue_database_prefix}*",
      "arn:${var.partition}:glue:${var.region}:${var.account_id}:table/${var.glue_database_prefix}*/*",
    ]
  }
  statement {
    sid       = "DecryptTheLake"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "spectrum" {
  count  = var.redshift_enabled ? 1 : 0
  name   = "${var.name_prefix}-spectrum"
  role   = aws_iam_role.spectrum[0].id
  policy = data.aws_iam_policy_document.spectrum.json
}

resource "aws_redshiftserverless_namespace" "this" {
  count                = var.redshift_enabled ? 1 : 0
  namespace_name       = var.name_prefix
  db_name              = "geckolake"
  kms_key_id           = var.kms_key_arn
  iam_roles            = [aws_iam_role.spectrum[0].arn]
  default_iam_role_arn = aws_iam_role.spectrum[0].arn
  log_exports          = ["userlog", "connectionlog", "useractivitylog"]
}

resource "aws_redshiftserverless_workgroup" "this" {
  count               = var.redshift_enabled ? 1 : 0
  namespace_name      = aws_redshiftserverless_namespace.this[0].namespace_name
  workgroup_name      = var.name_prefix
  base_capacity       = 8
  publicly_accessible = false
}

# --- QuickSight -------------------------------------------------------------------------------

resource "aws_quicksight_data_source" "athena" {
  count          = var.quicksight_enabled ? 1 : 0
  data_source_id = "${var.name_prefix}-athena"
  name           = "${var.name_prefix} (Athena)"
  type           = "ATHENA"
  parameters {
    athena {
      work_group = var.athena_workgroup
    }
  }
  permission {
    principal = var.quicksight_principal_arn
    actions = [
      "quicksight:DescribeDataSource", "quicksight:DescribeDataSourcePermissions",
      "quicksight:PassDataSource", "quicksight:UpdateDataSource",
    ]
  }
}

resource "aws_quicksight_data_set" "coin_daily" {
  count       = var.quicksight_enabled ? 1 : 0
  data_set_id = "${var.name_prefix}-coin-daily"
  name        = "${var.name_prefix} gold.coin_daily"
  import_mode = "DIRECT_QUERY"
  physical_table_map {
    physical_table_map_id = "coin-daily"
    relational_table {
      data_source_arn = aws_quicksight_data_source.athena[0].arn
      catalog         = "AwsDataCatalog"
      schema          = var.gold_database
      name            = "coin_daily"
      input_columns {
        name = "coin_id"
        type = "STRING"
      }
      input_columns {
        name = "date"
        type = "DATETIME"
      }
      input_columns {
        name = "close"
        type = "DECIMAL"
      }
    }
  }
  permissions {
    principal = var.quicksight_principal_arn
    actions = [
      "quicksight:DescribeDataSet", "quicksight:DescribeDataSetPermissions", "quicksight:PassDataSet",
      "quicksight:DescribeIngestion", "quicksight:ListIngestions",
    ]
  }
}

output "redshift_workgroup" { value = var.redshift_enabled ? aws_redshiftserverless_workgroup.this[0].workgroup_name : "" }
output "spectrum_role_arn" { value = var.redshift_enabled ? aws_iam_role.spectrum[0].arn : "" }
output "quicksight_dataset" { value = var.quicksight_enabled ? aws_quicksight_data_set.coin_daily[0].data_set_id : "" }
