# `terraform test` (run by make aws-validate): plans the root module against a mocked provider, so
# the stack's promises are checked with no account and no network.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111122223333" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:111122223333:key/mock" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::mock-bucket" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:111122223333:mock" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111122223333:role/mock" }
  }
  mock_resource "aws_sfn_state_machine" {
    defaults = { arn = "arn:aws:states:eu-west-1:111122223333:stateMachine:mock" }
  }
  mock_resource "aws_glue_job" {
    defaults = { arn = "arn:aws:glue:eu-west-1:111122223333:job/mock" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:111122223333:function:mock" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:111122223333:mock" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:mock" }
  }
  mock_resource "aws_ecr_repository" {
    defaults = { repository_url = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/geckolake-jobs" }
  }
  mock_resource "aws_quicksight_data_source" {
    defaults = { arn = "arn:aws:quicksight:eu-west-1:111122223333:datasource/mock" }
  }
}

run "real_aws_defaults" {
  command = apply

  assert {
    condition     = module.kms.rotation
    error_message = "the stack's key rotates"
  }
  assert {
    condition = alltrue([for b in [module.lake_bucket, module.artifacts_bucket, module.athena_results_bucket] :
    b.sse.algorithm == "aws:kms" && b.sse.key == module.kms.arn && b.tls_only && b.versioning == "Enabled" && b.public_access_blocked])
    error_message = "every bucket: SSE-KMS with the stack's key, TLS-only policy, versioning, public access blocked"
  }
  assert {
    condition     = aws_ssm_parameter.api_key.type == "SecureString" && aws_ssm_parameter.api_key.key_id == module.kms.arn
    error_message = "the key parameter is a SecureString under the stack's key"
  }
  assert {
    condition     = alltrue([for db in aws_glue_catalog_database.layer : db.parameters["geckolake.lake"] == local.lake_uri]) && length(aws_glue_catalog_database.layer) == 4
    error_message = "four Glue databases, each naming its lake"
  }
  assert {
    condition     = length(module.glue_job) == 5 && length(module.lambda_job) == 3
    error_message = "five Glue jobs and three Lambda jobs"
  }
  assert {
    condition     = alltrue([for j in module.glue_job : j.glue.version == "5.0" && j.glue.max_retries == 0])
    error_message = "Glue 5.0; retries declared in the state machine only"
  }
  assert {
    condition     = alltrue([for j in module.glue_job : j.glue.engine == "duckdb" && j.glue.formats == "" && j.glue.spark_conf == ""])
    error_message = "every Glue job computes on DuckDB (no Iceberg jars, no Spark catalog) unless glue_engines says spark"
  }
  assert {
    condition     = join(",", sort([for k, j in merge(module.glue_job, module.lambda_job) : k if j.reads_api_key])) == "markets,prices,run"
    error_message = "only the jobs that call CoinGecko may read the key parameter"
  }
  assert {
    condition     = length(module.pipeline.schedule_expressions) == 5 && module.pipeline.schedule_expressions["maintenance"] == "cron(0 19 ? * FRI *)"
    error_message = "five schedules; weekly maintenance at the reference's Friday 19:00 UTC"
  }
  assert {
    condition     = module.athena.enforced_encryption == "SSE_KMS" && module.athena.bytes_scanned_cutoff == 1073741824
    error_message = "Athena enforces encrypted results and caps bytes scanned"
  }
  assert {
    condition     = module.monitoring.topic_kms_key == module.kms.arn && module.monitoring.email_subscriptions == 0
    error_message = "the topic is encrypted; no e-mail unless asked"
  }
  assert {
    condition     = module.analytics.redshift_workgroup == "" && module.analytics.quicksight_dataset == ""
    error_message = "Redshift and QuickSight are off by default"
  }
  assert {
    condition     = length(output.alarms) == 18
    error_message = "a failed-job alarm per job plus the pipeline, freshness, DQ, budget, DLQ and Lambda alarms"
  }
}

run "optional_analytics_and_email" {
  command = apply
  variables {
    redshift_enabled         = true
    quicksight_enabled       = true
    quicksight_principal_arn = "arn:aws:quicksight:eu-west-1:111122223333:group/default/analysts"
    alert_email              = "ops@example.com"
    realtime_enabled         = false
    glue_engines             = { replay = "spark" }
  }
  assert {
    condition     = module.glue_job["replay"].glue.engine == "spark" && module.glue_job["run"].glue.engine == "duckdb"
    error_message = "glue_engines selects the spark engine per job (--engine)"
  }
  assert {
    condition = module.glue_job["replay"].glue.formats == "iceberg" && strcontains(module.glue_job["replay"].glue.spark_conf,
    "spark.sql.catalog.geckolake.warehouse=${local.lake_uri}/warehouse")
    error_message = "a spark job gets Glue's Iceberg and a Spark catalog named as the lake's on its warehouse"
  }
  assert {
    condition     = module.analytics.redshift_workgroup != "" && module.analytics.quicksight_dataset != ""
    error_message = "Redshift Serverless and QuickSight when enabled"
  }
  assert {
    condition     = module.monitoring.email_subscriptions == 1
    error_message = "the e-mail subscription when an address is given"
  }
  assert {
    condition     = length(module.lambda_job) == 0 && length(module.pipeline.schedule_expressions) == 2
    error_message = "without the job image: no Lambda jobs, only the daily pipeline and maintenance schedules"
  }
}

run "emulator_mode" {
  command = plan
  variables {
    aws_endpoint_url = "http://127.0.0.1:5000"
  }
  assert {
    condition     = !module.lake_bucket.tls_only
    error_message = "moto ignores policy conditions, so the TLS-only policy is left out against it"
  }
}
