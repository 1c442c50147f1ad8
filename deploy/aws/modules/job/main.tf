# One deployed geckolake job (deploy.jobs.RUNNERS): its least-privilege role, its log group and its
# compute — a Glue 5.0 job (runtime "glue") or a Lambda function from the job image ("lambda").
# Both call geckolake.deploy.entry (geckolake's one Glue entry point), which runs the same flow as the CLI.

variable "name_prefix" { type = string }
variable "job" { type = string }
variable "runtime" {
  type = string
  validation {
    condition     = contains(["glue", "lambda"], var.runtime)
    error_message = "runtime: glue or lambda."
  }
}
variable "environment" {
  description = "GECKOLAKE_* settings of the job (no secret: the key is read from SSM at run time)."
  type        = map(string)
}
variable "metrics_namespace" { type = string }
variable "account_id" { type = string }
variable "region" { type = string }
variable "partition" { type = string }
variable "kms_key_arn" { type = string }
variable "lake_bucket_arn" { type = string }
variable "lake_prefix" { type = string }
variable "glue_database_prefix" { type = string }
variable "alerts_topic_arn" { type = string }
variable "reads_api_key" {
  description = "The job calls CoinGecko, so it may read the key parameter."
  type        = bool
}
variable "api_key_parameter_arn" { type = string }
variable "deletes_lake_files" {
  description = "The job deletes lake files beyond its lock (snapshot expiry, orphan sweep, replay's purge)."
  type        = bool
  default     = false
}
variable "artifacts_bucket_arn" { type = string }
variable "script_location" {
  type    = string
  default = ""
}
variable "wheel_location" {
  type    = string
  default = ""
}
variable "glue_security_configuration" {
  description = "Glue security configuration (KMS for logs, bookmarks and S3 writes)."
  type        = string
}
variable "workers" {
  type    = number
  default = 2
}
variable "engine" {
  description = "Glue: where silver and gold are computed, passed as --engine (duckdb on the driver, spark on the job's Spark)."
  type        = string
  default     = "duckdb"
  validation {
    condition     = contains(["duckdb", "spark"], var.engine)
    error_message = "engine: duckdb or spark."
  }
}
variable "iceberg_warehouse" {
  description = "The lake's Iceberg warehouse (s3://…/warehouse): where Spark's own Iceberg catalog writes when engine = spark."
  type        = string
  default     = ""
}
variable "catalog_name" {
  description = "The lake's catalog name (GECKOLAKE_CATALOG_NAME): Spark's Iceberg catalog must bear it to be chosen."
  type        = string
  default     = "geckolake"
}
variable "timeout_minutes" {
  type    = number
  default = 30
}
variable "image_uri" {
  type    = string
  default = ""
}
variable "memory_mb" {
  type    = number
  default = 2048
}
variable "log_retention_days" { type = number }
variable "dead_letter_arn" {
  description = "SQS queue for asynchronous invocations that failed for good (Lambda jobs)."
  type        = string
  default     = ""
}

locals {
  name      = "${var.name_prefix}-${var.job}"
  glue      = var.runtime == "glue"
  lake_objs = "${var.lake_bucket_arn}/${var.lake_prefix}"
  log_group = local.glue ? "/aws-glue/${local.name}" : "/aws/lambda/${local.name}"
  catalog   = "arn:${var.partition}:glue:${var.region}:${var.account_id}"
  # engine = spark: Glue's Iceberg (--datalake-formats) and a Spark catalog on the Glue Data Catalog
  # named as the lake's, so Spark commits the rebuilt tables itself (geckolake.transform.spark_iceberg).
  # Glue takes one --conf parameter; further settings ride in its value, as Glue documents.
  spark_catalog = "spark.sql.catalog.${var.catalog_name}"
  spark_arguments = var.engine == "spark" ? {
    "--datalake-formats" = "iceberg"
    "--conf" = join(" --conf ", [
      "spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
      "${local.spark_catalog}=org.apache.iceberg.spark.SparkCatalog",
      "${local.spark_catalog}.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog",
      "${local.spark_catalog}.io-impl=org.apache.iceberg.aws.s3.S3FileIO",
      "${local.spark_catalog}.warehouse=${var.iceberg_warehouse}",
    ])
  } : {}
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [local.glue ? "glue.amazonaws.com" : "lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = local.name
  description        = "geckolake job ${var.job}"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

data "aws_iam_policy_document" "job" {
  statement {
    sid       = "ListLakePrefix"
    actions   = ["s3:ListBucket"]
    resources = [var.lake_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [var.lake_prefix, "${var.lake_prefix}/*"]
    }
  }
  statement {
    sid       = "ReadWriteLake"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["${local.lake_objs}/*"]
  }
  statement {
    sid       = "DeleteLocksOrLakeFiles"
    actions   = ["s3:DeleteObject"]
    resources = var.deletes_lake_files ? ["${local.lake_objs}/*"] : ["${local.lake_objs}/locks/*"]
  }
  statement {
    sid = "GlueCatalogOfTheLake"
    actions = [
      "glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables", "glue:CreateTable",
      "glue:UpdateTable", "glue:DeleteTable", "glue:GetPartitions",
    ]
    resources = [
      "${local.catalog}:catalog",
      "${local.catalog}:database/${var.glue_database_prefix}*",
      "${local.catalog}:table/${var.glue_database_prefix}*/*",
    ]
  }
  statement {
    sid       = "UseTheStackKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
  statement {
    sid       = "Alert"
    actions   = ["sns:Publish"]
    resources = [var.alerts_topic_arn]
  }
  statement {
    sid       = "Metrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.metrics_namespace]
    }
  }
  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
  dynamic "statement" {
    for_each = var.reads_api_key ? [1] : []
    content {
      sid       = "ReadTheApiKey"
      actions   = ["ssm:GetParameter"]
      resources = [var.api_key_parameter_arn]
    }
  }
  dynamic "statement" {
    for_each = local.glue ? [] : [1]
    content {
      sid       = "DeadLetters"
      actions   = ["sqs:SendMessage"]
      resources = [var.dead_letter_arn]
    }
  }
  dynamic "statement" {
    for_each = local.glue ? [1] : []
    content {
      sid       = "ReadJobArtifacts"
      actions   = ["s3:GetObject"]
      resources = ["${var.artifacts_bucket_arn}/jobs/*", "${var.artifacts_bucket_arn}/wheels/*"]
    }
  }
  dynamic "statement" {
    for_each = local.glue ? [1] : []
    content {
      sid       = "GlueOwnLogGroups"
      actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]
      resources = ["arn:${var.partition}:logs:${var.region}:${var.account_id}:log-group:/aws-glue/*"]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = local.name
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.job.json
}

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_glue_job" "this" {
  count             = local.glue ? 1 : 0
  name              = local.name
  description       = "geckolake job ${var.job} (geckolake.deploy.entry)"
  role_arn          = aws_iam_role.this.arn
  glue_version      = "5.0"
  worker_type       = "G.1X"
  number_of_workers = var.workers
  timeout           = var.timeout_minutes
  max_retries       = 0 # retries are declared once, in the state machine
  execution_class   = "STANDARD"

  security_configuration = var.glue_security_configuration

  command {
    name            = "glueetl"
    python_version  = "3"
    script_location = var.script_location
  }

  execution_property {
    max_concurrent_runs = 1
  }

  default_arguments = merge(
    {
      "--geckolake-job"                    = var.job
      "--engine"                           = var.engine
      "--metrics-namespace"                = var.metrics_namespace
      "--additional-python-modules"        = var.wheel_location
      "--enable-continuous-cloudwatch-log" = "true"
      "--continuous-log-logGroup"          = local.log_group
      "--enable-metrics"                   = "true"
    },
    local.spark_arguments,
    { for k, v in var.environment : "--${k}" => v },
  )
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_272:code signing applies to .zip packages; this is a container image from the stack's ECR repository
  #checkov:skip=CKV_AWS_117:no VPC: the job reaches the public CoinGecko API and AWS endpoints; a VPC would add a NAT gateway (~32 USD/month) for no isolation gain
  #checkov:skip=CKV_AWS_116:asynchronous failures go to the dead-letter queue through an on-failure destination (aws_lambda_function_event_invoke_config below)
  #checkov:skip=CKV_AWS_115:no reserved concurrency (new accounts cannot reserve below 10 unreserved); concurrent writers are serialised by the lake's lock object
  count         = local.glue ? 0 : 1
  function_name = local.name
  description   = "geckolake job ${var.job} (geckolake.deploy.entry.handler)"
  role          = aws_iam_role.this.arn
  package_type  = "Image"
  image_uri     = var.image_uri
  memory_size   = var.memory_mb
  timeout       = min(var.timeout_minutes * 60, 900)
  kms_key_arn   = var.kms_key_arn

  image_config {
    command = ["geckolake.deploy.entry.handler"]
  }

  ephemeral_storage {
    size = 2048
  }

  tracing_config {
    mode = "PassThrough"
  }

  environment {
    variables = merge(var.environment, { GECKOLAKE_METRICS_NAMESPACE = var.metrics_namespace, HOME = "/tmp" })
  }

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}

# Scheduled invocations are asynchronous: no retry (the next fire is minutes away); a failure is
# recorded in the dead-letter queue, which is alarmed.
resource "aws_lambda_function_event_invoke_config" "this" {
  count                        = local.glue ? 0 : 1
  function_name                = aws_lambda_function.this[0].function_name
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = 3600
  destination_config {
    on_failure {
      destination = var.dead_letter_arn
    }
  }
}

output "role_arn" { value = aws_iam_role.this.arn }
output "name" { value = local.name }
output "arn" {
  value = local.glue ? aws_glue_job.this[0].arn : aws_lambda_function.this[0].arn
}
output "log_group" { value = aws_cloudwatch_log_group.this.name }
output "glue" {
  description = "Glue version, retries and engine (null for a Lambda job)."
  value = local.glue ? {
    version     = aws_glue_job.this[0].glue_version
    max_retries = aws_glue_job.this[0].max_retries
    engine      = aws_glue_job.this[0].default_arguments["--engine"]
    formats     = lookup(aws_glue_job.this[0].default_arguments, "--datalake-formats", "")
    spark_conf  = lookup(aws_glue_job.this[0].default_arguments, "--conf", "")
  } : null
}
output "reads_api_key" { value = var.reads_api_key }
