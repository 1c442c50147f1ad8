variable "region" {
  description = "AWS region of the whole stack."
  type        = string
  default     = "eu-west-1"
}

variable "name_prefix" {
  description = "Prefix of every resource name (buckets get the account id and region appended)."
  type        = string
  default     = "geckolake"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name_prefix))
    error_message = "name_prefix: 2-21 lower-case letters, digits or dashes, starting with a letter."
  }
}

variable "tags" {
  description = "Extra tags on every resource (default_tags)."
  type        = map(string)
  default     = {}
}

variable "aws_endpoint_url" {
  description = "Empty for real AWS; an emulator's URL (moto server) for offline tests."
  type        = string
  default     = ""
}

variable "lake_prefix" {
  description = "Key prefix of the lake in its bucket: s3://<lake bucket>/<lake_prefix>."
  type        = string
  default     = "lake"
}

variable "glue_database_prefix" {
  description = "Glue databases are <prefix>bronze, <prefix>silver, <prefix>gold, <prefix>ops."
  type        = string
  default     = "geckolake_"
}

variable "coingecko_plan" {
  description = "CoinGecko plan the jobs use (public, demo, analyst, lite, pro, enterprise)."
  type        = string
  default     = "demo"
}

variable "api_key_parameter_name" {
  description = "SSM parameter (SecureString) holding the CoinGecko key; its value is set outside Terraform."
  type        = string
  default     = "/geckolake/coingecko-key"
}

variable "wheel_key" {
  description = "Key of the geckolake wheel in the artifacts bucket (uploaded by the deploy workflow)."
  type        = string
  default     = "wheels/geckolake-0.1.0-py3-none-any.whl"
}

variable "job_image_uri" {
  description = "Container image of the Lambda jobs; empty = <the stack's ECR repository>:<job_image_tag>."
  type        = string
  default     = ""
}

variable "job_image_tag" {
  description = "Tag of the job image in the stack's ECR repository."
  type        = string
  default     = "latest"
}

variable "realtime_enabled" {
  description = "Create the Lambda jobs (prices, markets, watch) and their schedules; needs the job image pushed."
  type        = bool
  default     = true
}

variable "glue_workers" {
  description = "G.1X workers of each Glue job (2 is Glue's minimum); geckolake runs on the driver."
  type        = map(number)
  default     = { run = 2, forecast = 2, check = 2, replay = 2, maintenance = 2 }
}

variable "glue_engines" {
  description = "Where each Glue job computes silver and gold (its --engine): duckdb on the driver, or spark on the job's own Spark (run, replay). Jobs not named use duckdb."
  type        = map(string)
  default     = {}
  validation {
    condition     = alltrue([for engine in values(var.glue_engines) : contains(["duckdb", "spark"], engine)])
    error_message = "glue_engines: each value is duckdb or spark."
  }
  validation {
    condition     = alltrue([for job in keys(var.glue_engines) : contains(["run", "forecast", "check", "replay", "maintenance"], job)])
    error_message = "glue_engines: keys are Glue jobs (run, forecast, check, replay, maintenance)."
  }
}

variable "glue_timeout_minutes" {
  description = "Timeout of each Glue job run, minutes."
  type        = map(number)
  default     = { run = 60, forecast = 30, check = 15, replay = 240, maintenance = 60 }
}

variable "lambda_memory_mb" {
  description = "Memory of the Lambda jobs, MB."
  type        = number
  default     = 2048
}

variable "schedules" {
  description = "EventBridge Scheduler expressions (UTC). The reference design's weekly run was cron(0 19 ? * FRI *)."
  type = object({
    daily_pipeline = string
    prices         = string
    markets        = string
    watch          = string
    maintenance    = string
  })
  default = {
    daily_pipeline = "cron(40 0 * * ? *)"
    prices         = "rate(5 minutes)"
    markets        = "rate(1 hour)"
    watch          = "rate(15 minutes)"
    maintenance    = "cron(0 19 ? * FRI *)"
  }
}

variable "alert_email" {
  description = "Optional e-mail subscribed to the alerts topic (confirm the subscription mail)."
  type        = string
  default     = ""
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the jobs' metrics."
  type        = string
  default     = "Geckolake"
}

variable "freshness_sla_tables_max" {
  description = "Alarm when more tables than this are older than their freshness SLA."
  type        = number
  default     = 0
}

variable "credit_budget_ratio_max" {
  description = "Alarm when this month's API credits used exceed this fraction of the plan."
  type        = number
  default     = 0.8
}

variable "athena_bytes_scanned_cutoff" {
  description = "Athena: a query scanning more than this many bytes is cancelled."
  type        = number
  default     = 1073741824
}

variable "raw_expiration_days" {
  description = "Raw API bodies (raw/) move to Glacier Instant Retrieval after 30 days and expire after this many."
  type        = number
  default     = 365
}

variable "noncurrent_version_days" {
  description = "Noncurrent object versions expire after this many days."
  type        = number
  default     = 30
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention of the jobs' and state machine's log groups."
  type        = number
  default     = 90
}

variable "force_destroy" {
  description = "Let destroy delete non-empty buckets (tests, throw-away stacks). Keep false in production."
  type        = bool
  default     = false
}

variable "redshift_enabled" {
  description = "Optional: Redshift Serverless (IAM auth) with an external schema over the Glue catalog."
  type        = bool
  default     = false
}

variable "quicksight_enabled" {
  description = "Optional: a QuickSight Athena data source and dataset (needs a QuickSight subscription)."
  type        = bool
  default     = false
}

variable "quicksight_principal_arn" {
  description = "QuickSight user or group ARN granted the data source and dataset (when quicksight_enabled)."
  type        = string
  default     = ""
}
