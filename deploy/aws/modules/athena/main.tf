# Athena over the Glue catalog: a workgroup that enforces its settings (results SSE-KMS with the
# stack's key, a bytes-scanned cutoff per query) and the docs' example queries as named queries.

variable "name_prefix" { type = string }
variable "results_bucket" { type = string }
variable "kms_key_arn" { type = string }
variable "bytes_scanned_cutoff" { type = number }
variable "databases" {
  description = "Layer → Glue database name."
  type        = map(string)
}
variable "force_destroy" { type = bool }

resource "aws_athena_workgroup" "this" {
  name          = var.name_prefix
  description   = "geckolake: the lake's Glue databases, results encrypted, scans capped"
  force_destroy = var.force_destroy

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.bytes_scanned_cutoff
    engine_version {
      selected_engine_version = "Athena engine version 3"
    }
    result_configuration {
      output_location = "s3://${var.results_bucket}/results/"
      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }
}

locals {
  gold = var.databases["gold"]
  ops  = var.databases["ops"]
  queries = {
    latest-closes = {
      description = "The latest daily closes (README's first query)"
      database    = local.gold
      query       = "SELECT coin_id, date, close FROM ${local.gold}.coin_daily ORDER BY date DESC LIMIT 5"
    }
    top-movers-30d = {
      description = "Top 30-day mover on the latest day (docs/metrics.md)"
      database    = local.gold
      query       = "SELECT coin_id, period_return FROM ${local.gold}.top_movers WHERE vs_currency = 'usd' AND horizon = '30d' AND direction = 'top' AND position = 1 AND date = (SELECT max(date) FROM ${local.gold}.top_movers)"
    }
    volatility-30d = {
      description = "Coins by 30-day volatility on the latest day (docs/metrics.md)"
      database    = local.gold
      query       = "SELECT coin_id, vol_30d FROM ${local.gold}.coin_risk WHERE date = (SELECT max(date) FROM ${local.gold}.coin_risk) AND vol_30d IS NOT NULL ORDER BY vol_30d DESC"
    }
    btc-dominance-90d = {
      description = "Bitcoin dominance over the last 90 days (docs/metrics.md)"
      database    = local.gold
      query       = "SELECT date, btc_dominance FROM ${local.gold}.market_daily WHERE vs_currency = 'usd' AND date > (SELECT date_add('day', -90, max(date)) FROM ${local.gold}.market_daily) ORDER BY date"
    }
    eth-correlations-90d = {
      description = "Coins most correlated with ether over 90 days (docs/metrics.md)"
      database    = local.gold
      query       = "SELECT coin_b, corr FROM ${local.gold}.correlations WHERE coin_a = 'ethereum' AND window_days = 90 AND date = (SELECT max(date) FROM ${local.gold}.correlations) ORDER BY corr DESC LIMIT 5"
    }
    recent-runs = {
      description = "The last pipeline runs (what geckolake runs shows)"
      database    = local.ops
      query       = "SELECT run_id, command, started_at, status, api_calls, rate_limited, error FROM ${local.ops}.pipeline_runs ORDER BY started_at DESC LIMIT 20"
    }
  }
}

resource "aws_athena_named_query" "this" {
  for_each    = local.queries
  name        = "${var.name_prefix}-${each.key}"
  description = each.value.description
  workgroup   = aws_athena_workgroup.this.id
  database    = each.value.database
  query       = each.value.query
}

output "workgroup" { value = aws_athena_workgroup.this.name }
output "named_queries" { value = [for q in aws_athena_named_query.this : q.name] }
output "enforced_encryption" {
  value = aws_athena_workgroup.this.configuration[0].enforce_workgroup_configuration ? aws_athena_workgroup.this.configuration[0].result_configuration[0].encryption_configuration[0].encryption_option : "not enforced"
}
output "bytes_scanned_cutoff" { value = aws_athena_workgroup.this.configuration[0].bytes_scanned_cutoff_per_query }
