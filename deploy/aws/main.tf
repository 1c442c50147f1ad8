# geckolake on AWS: the reference system (docs/aws.md). Names derive from var.name_prefix and the
# account/region the provider reports; no account id or ARN is written here.

data "aws_caller_identity" "this" {}
data "aws_partition" "this" {}
data "aws_region" "this" {}

locals {
  account   = data.aws_caller_identity.this.account_id
  partition = data.aws_partition.this.partition
  region    = data.aws_region.this.name
  suffix    = "${local.account}-${local.region}"
  lake_uri  = "s3://${module.lake_bucket.name}/${var.lake_prefix}"
  layers    = ["bronze", "silver", "gold", "ops"]
  databases = { for layer in local.layers : layer => "${var.glue_database_prefix}${layer}" }

  api_key_parameter_arn = "arn:${local.partition}:ssm:${local.region}:${local.account}:parameter/${trimprefix(var.api_key_parameter_name, "/")}"

  # The settings every job runs with (docs/configuration.md); the key itself is read from SSM at run time.
  job_environment = {
    GECKOLAKE_LAKE                 = local.lake_uri
    GECKOLAKE_CATALOG              = "glue"
    GECKOLAKE_GLUE_DATABASE_PREFIX = var.glue_database_prefix
    GECKOLAKE_PLAN                 = var.coingecko_plan
    GECKOLAKE_API_KEY_SOURCE       = "ssm:${var.api_key_parameter_name}"
    GECKOLAKE_AWS_REGION           = local.region
    GECKOLAKE_ALERTS               = jsonencode({ sns_topic_arn = module.monitoring.topic_arn })
  }

  # Deployed job → how it runs. Glue 5.0 for the daily pipeline's steps, replay and maintenance
  # (minutes of work, Python 3.11, Iceberg and Spark there); Lambda for the frequent small jobs.
  # reads_key: the job calls CoinGecko; deletes: it deletes lake files beyond its lock.
  glue_jobs = {
    run         = { reads_key = true, deletes = false }
    forecast    = { reads_key = false, deletes = false }
    check       = { reads_key = false, deletes = false }
    replay      = { reads_key = false, deletes = true }
    maintenance = { reads_key = false, deletes = true }
  }
  lambda_jobs = var.realtime_enabled ? {
    prices  = { reads_key = true }
    markets = { reads_key = true }
    watch   = { reads_key = false }
  } : {}
  job_image_uri = var.job_image_uri != "" ? var.job_image_uri : "${aws_ecr_repository.jobs.repository_url}:${var.job_image_tag}"
}

module "kms" {
  source      = "./modules/kms"
  name_prefix = var.name_prefix
  account_id  = local.account
  region      = local.region
  partition   = local.partition
}

# --- storage --------------------------------------------------------------------------------

module "lake_bucket" {
  source                  = "./modules/bucket"
  name                    = "${var.name_prefix}-lake-${local.suffix}"
  kms_key_arn             = module.kms.arn
  force_destroy           = var.force_destroy
  tls_only                = !local.emulated
  noncurrent_version_days = var.noncurrent_version_days
  archive_prefixes        = { "${var.lake_prefix}/raw/" = 30 }
  expire_prefixes         = { "${var.lake_prefix}/raw/" = var.raw_expiration_days }
}

module "artifacts_bucket" {
  source                  = "./modules/bucket"
  name                    = "${var.name_prefix}-artifacts-${local.suffix}"
  kms_key_arn             = module.kms.arn
  force_destroy           = var.force_destroy
  tls_only                = !local.emulated
  noncurrent_version_days = var.noncurrent_version_days
}

module "athena_results_bucket" {
  source                  = "./modules/bucket"
  name                    = "${var.name_prefix}-athena-${local.suffix}"
  kms_key_arn             = module.kms.arn
  force_destroy           = var.force_destroy
  tls_only                = !local.emulated
  noncurrent_version_days = 7
  expire_prefixes         = { "results/" = 30 }
}

resource "aws_s3_object" "glue_entry" {
  bucket                 = module.artifacts_bucket.name
  key                    = "jobs/glue_entry.py"
  source                 = "${path.module}/jobs/glue_entry.py"
  source_hash            = filemd5("${path.module}/jobs/glue_entry.py")
  server_side_encryption = "aws:kms"
  kms_key_id             = module.kms.arn
}

# --- catalog and key ------------------------------------------------------------------------

# Tables are created by the pipeline's Iceberg commits; the parameter marks the databases as the lake's.
resource "aws_glue_catalog_database" "layer" {
  for_each     = local.databases
  name         = each.value
  description  = "geckolake ${each.key} layer (Iceberg tables written by the pipeline)"
  location_uri = "${local.lake_uri}/warehouse/${each.key}"
  parameters   = { "geckolake.lake" = local.lake_uri }
}

resource "aws_ssm_parameter" "api_key" {
  name        = var.api_key_parameter_name
  description = "CoinGecko API key for geckolake; set with aws ssm put-parameter --overwrite (docs/aws.md)"
  type        = "SecureString"
  key_id      = module.kms.arn
  # Write-only: the value is sent once and never stored in state; the real key is put outside Terraform.
  value_wo         = "unset"
  value_wo_version = 1
}

resource "aws_glue_security_configuration" "jobs" {
  name = "${var.name_prefix}-jobs"
  encryption_configuration {
    cloudwatch_encryption {
      cloudwatch_encryption_mode = "SSE-KMS"
      kms_key_arn                = module.kms.arn
    }
    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "CSE-KMS"
      kms_key_arn                   = module.kms.arn
    }
    s3_encryption {
      s3_encryption_mode = "SSE-KMS"
      kms_key_arn        = module.kms.arn
    }
  }
}

resource "aws_ecr_repository" "jobs" {
  name                 = "${var.name_prefix}-jobs"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.force_destroy
  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = module.kms.arn
  }
}

# --- jobs -----------------------------------------------------------------------------------

module "glue_job" {
  source   = "./modules/job"
  for_each = local.glue_jobs

  name_prefix                 = var.name_prefix
  job                         = each.key
  runtime                     = "glue"
  environment                 = local.job_environment
  metrics_namespace           = var.metrics_namespace
  account_id                  = local.account
  region                      = local.region
  partition                   = local.partition
  kms_key_arn                 = module.kms.arn
  lake_bucket_arn             = module.lake_bucket.arn
  lake_prefix                 = var.lake_prefix
  glue_database_prefix        = var.glue_database_prefix
  alerts_topic_arn            = module.monitoring.topic_arn
  reads_api_key               = each.value.reads_key
  api_key_parameter_arn       = local.api_key_parameter_arn
  deletes_lake_files          = each.value.deletes
  artifacts_bucket_arn        = module.artifacts_bucket.arn
  script_location             = "s3://${module.artifacts_bucket.name}/${aws_s3_object.glue_entry.key}"
  wheel_location              = "s3://${module.artifacts_bucket.name}/${var.wheel_key}"
  glue_security_configuration = aws_glue_security_configuration.jobs.name
  dead_letter_arn             = module.monitoring.dead_letter_arn
  workers                     = lookup(var.glue_workers, each.key, 2)
  engine                      = lookup(var.glue_engines, each.key, "duckdb")
  iceberg_warehouse           = "${local.lake_uri}/warehouse"
  timeout_minutes             = lookup(var.glue_timeout_minutes, each.key, 60)
  log_retention_days          = var.log_retention_days
}

module "lambda_job" {
  source   = "./modules/job"
  for_each = local.lambda_jobs

  name_prefix                 = var.name_prefix
  job                         = each.key
  runtime                     = "lambda"
  environment                 = local.job_environment
  metrics_namespace           = var.metrics_namespace
  account_id                  = local.account
  region                      = local.region
  partition                   = local.partition
  kms_key_arn                 = module.kms.arn
  lake_bucket_arn             = module.lake_bucket.arn
  lake_prefix                 = var.lake_prefix
  glue_database_prefix        = var.glue_database_prefix
  alerts_topic_arn            = module.monitoring.topic_arn
  reads_api_key               = each.value.reads_key
  api_key_parameter_arn       = local.api_key_parameter_arn
  artifacts_bucket_arn        = module.artifacts_bucket.arn
  image_uri                   = local.job_image_uri
  dead_letter_arn             = module.monitoring.dead_letter_arn
  glue_security_configuration = aws_glue_security_configuration.jobs.name
  memory_mb                   = var.lambda_memory_mb
  timeout_minutes             = 5
  log_retention_days          = var.log_retention_days
}

# --- orchestration, alerts, query -------------------------------------------------------------

module "pipeline" {
  source          = "./modules/pipeline"
  name_prefix     = var.name_prefix
  definition_file = "${path.module}/state_machine/daily.asl.json"
  glue_jobs       = { for job, m in module.glue_job : job => { name = m.name, arn = m.arn } }
  lambda_jobs     = { for job, m in module.lambda_job : job => m.arn }
  schedules = {
    daily_pipeline = var.schedules.daily_pipeline
    prices         = var.schedules.prices
    markets        = var.schedules.markets
    watch          = var.schedules.watch
    maintenance    = var.schedules.maintenance
  }
  alerts_topic_arn   = module.monitoring.topic_arn
  dead_letter_arn    = module.monitoring.dead_letter_arn
  kms_key_arn        = module.kms.arn
  log_retention_days = var.log_retention_days
  account_id         = local.account
  partition          = local.partition
}

module "monitoring" {
  source                   = "./modules/monitoring"
  name_prefix              = var.name_prefix
  kms_key_arn              = module.kms.arn
  alert_email              = var.alert_email
  namespace                = var.metrics_namespace
  account_id               = local.account
  region                   = local.region
  jobs                     = concat(keys(local.glue_jobs), keys(local.lambda_jobs))
  lambda_functions         = { for job, m in module.lambda_job : job => m.name }
  state_machine_arn        = module.pipeline.state_machine_arn
  freshness_sla_tables_max = var.freshness_sla_tables_max
  credit_budget_ratio_max  = var.credit_budget_ratio_max
}

module "athena" {
  source               = "./modules/athena"
  name_prefix          = var.name_prefix
  results_bucket       = module.athena_results_bucket.name
  kms_key_arn          = module.kms.arn
  bytes_scanned_cutoff = var.athena_bytes_scanned_cutoff
  databases            = local.databases
  force_destroy        = var.force_destroy
}

module "analytics" {
  source                   = "./modules/analytics"
  name_prefix              = var.name_prefix
  redshift_enabled         = var.redshift_enabled
  quicksight_enabled       = var.quicksight_enabled
  quicksight_principal_arn = var.quicksight_principal_arn
  kms_key_arn              = module.kms.arn
  lake_bucket_arn          = module.lake_bucket.arn
  lake_prefix              = var.lake_prefix
  glue_database_prefix     = var.glue_database_prefix
  athena_workgroup         = module.athena.workgroup
  gold_database            = local.databases["gold"]
  account_id               = local.account
  region                   = local.region
  partition                = local.partition
}
