# Alerts and observability: the KMS-encrypted SNS topic (geckolake's SnsNotifier, the state machine
# and the alarms publish to it; optional e-mail), CloudWatch alarms and one dashboard over the
# metrics geckolake.deploy.cloudwatch publishes.

variable "name_prefix" { type = string }
variable "kms_key_arn" { type = string }
variable "alert_email" { type = string }
variable "namespace" { type = string }
variable "account_id" { type = string }
variable "region" { type = string }
variable "jobs" {
  description = "Every deployed job name (its JobFailed alarm)."
  type        = list(string)
}
variable "lambda_functions" {
  description = "Lambda job → function name (errors and timeouts alarm)."
  type        = map(string)
}
variable "state_machine_arn" { type = string }
variable "freshness_sla_tables_max" { type = number }
variable "credit_budget_ratio_max" { type = number }

# Dead letters: schedule deliveries and asynchronous Lambda invocations that failed for good.
resource "aws_sqs_queue" "dead_letters" {
  name                      = "${var.name_prefix}-dead-letters"
  kms_master_key_id         = var.kms_key_arn
  message_retention_seconds = 1209600
}

resource "aws_sns_topic" "alerts" {
  name              = "${var.name_prefix}-alerts"
  kms_master_key_id = var.kms_key_arn
}

data "aws_iam_policy_document" "alerts" {
  statement {
    sid       = "AccountPublishes"
    actions   = ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes"]
    resources = [aws_sns_topic.alerts.arn]
    principals {
      type        = "AWS"
      identifiers = [var.account_id]
    }
  }
  statement {
    sid       = "AlarmsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "alerts" {
  arn    = aws_sns_topic.alerts.arn
  policy = data.aws_iam_policy_document.alerts.json
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.alert_email != "" ? 1 : 0
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = var.alert_email
}

locals {
  actions = [aws_sns_topic.alerts.arn]
}

resource "aws_cloudwatch_metric_alarm" "job_failed" {
  for_each            = toset(var.jobs)
  alarm_name          = "${var.name_prefix}-job-failed-${each.key}"
  alarm_description   = "geckolake job ${each.key} failed (JobFailed from geckolake.deploy.entry)"
  namespace           = var.namespace
  metric_name         = "JobFailed"
  dimensions          = { Job = each.key }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
}

resource "aws_cloudwatch_metric_alarm" "pipeline_failed" {
  alarm_name          = "${var.name_prefix}-daily-pipeline-failed"
  alarm_description   = "The daily pipeline's state machine failed or timed out"
  namespace           = "AWS/States"
  metric_name         = "ExecutionsFailed"
  dimensions          = { StateMachineArn = var.state_machine_arn }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
}

resource "aws_cloudwatch_metric_alarm" "pipeline_timed_out" {
  alarm_name          = "${var.name_prefix}-daily-pipeline-timed-out"
  alarm_description   = "The daily pipeline's state machine timed out"
  namespace           = "AWS/States"
  metric_name         = "ExecutionsTimedOut"
  dimensions          = { StateMachineArn = var.state_machine_arn }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
}

resource "aws_cloudwatch_metric_alarm" "no_successful_run" {
  alarm_name          = "${var.name_prefix}-no-successful-run"
  alarm_description   = "No successful daily run in 24 hours (also fires when the jobs stopped reporting)"
  namespace           = var.namespace
  metric_name         = "JobSucceeded"
  dimensions          = { Job = "run" }
  statistic           = "Sum"
  period              = 86400
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = local.actions
}

resource "aws_cloudwatch_metric_alarm" "freshness" {
  alarm_name          = "${var.name_prefix}-freshness-over-sla"
  alarm_description   = "Tables older than their freshness SLA (geckolake status)"
  namespace           = var.namespace
  metric_name         = "TablesOverFreshnessSla"
  statistic           = "Maximum"
  period              = 900
  evaluation_periods  = 2
  threshold           = var.freshness_sla_tables_max
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "missing"
  alarm_actions       = local.actions
}

resource "aws_cloudwatch_metric_alarm" "dq_failures" {
  alarm_name          = "${var.name_prefix}-dq-checks-failing"
  alarm_description   = "Data-quality checks failing at their last evaluation (ops.dq_results)"
  namespace           = var.namespace
  metric_name         = "DQChecksFailing"
  statistic           = "Maximum"
  period              = 900
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "missing"
  alarm_actions       = local.actions
}

resource "aws_cloudwatch_metric_alarm" "credit_budget" {
  alarm_name          = "${var.name_prefix}-credit-budget"
  alarm_description   = "This month's CoinGecko credits used over the budgeted fraction of the plan"
  namespace           = var.namespace
  metric_name         = "CreditBudgetUsedRatio"
  statistic           = "Maximum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = var.credit_budget_ratio_max
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "missing"
  alarm_actions       = local.actions
}

resource "aws_cloudwatch_metric_alarm" "dlq" {
  alarm_name          = "${var.name_prefix}-dead-letters"
  alarm_description   = "Schedule deliveries or Lambda invocations that failed for good (dead-letter queue)"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dead_letters.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
}

resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  for_each            = var.lambda_functions
  alarm_name          = "${var.name_prefix}-lambda-errors-${each.key}"
  alarm_description   = "Lambda job ${each.key} errors or timeouts (3 in 15 minutes)"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 900
  evaluation_periods  = 1
  threshold           = 3
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
}

locals {
  ns = var.namespace
  widgets = [
    { title = "Job runs", metrics = concat(
      [for j in var.jobs : [local.ns, "JobSucceeded", "Job", j, { stat = "Sum" }]],
      [for j in var.jobs : [local.ns, "JobFailed", "Job", j, { stat = "Sum" }]],
    ) },
    { title = "API calls and 429s", metrics = [
      [local.ns, "ApiCalls", "Job", "run", { stat = "Sum" }],
      [local.ns, "RateLimited", "Job", "run", { stat = "Sum" }],
      [local.ns, "Retries", "Job", "run", { stat = "Sum" }],
      [local.ns, "ApiCalls", "Job", "prices", { stat = "Sum" }],
      [local.ns, "RateLimited", "Job", "prices", { stat = "Sum" }],
    ] },
    { title = "Rows written", metrics = [for j in ["run", "prices", "markets"] : [local.ns, "RowsWritten", "Job", j, { stat = "Sum" }]] },
    { title = "Data-quality failures", metrics = [[local.ns, "DQChecksFailing", { stat = "Maximum" }]] },
    { title = "Freshness: tables over SLA", metrics = [[local.ns, "TablesOverFreshnessSla", { stat = "Maximum" }]] },
    { title = "API credits this month", metrics = [
      [local.ns, "CreditsUsedMonth", { stat = "Maximum" }],
      [local.ns, "CreditBudgetUsedRatio", { stat = "Maximum", yAxis = "right" }],
    ] },
    { title = "Daily pipeline (Step Functions)", metrics = [
      ["AWS/States", "ExecutionsSucceeded", "StateMachineArn", var.state_machine_arn, { stat = "Sum" }],
      ["AWS/States", "ExecutionsFailed", "StateMachineArn", var.state_machine_arn, { stat = "Sum" }],
    ] },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name_prefix
  dashboard_body = jsonencode({
    widgets = [for i, w in local.widgets : {
      type   = "metric"
      x      = (i % 2) * 12
      y      = floor(i / 2) * 6
      width  = 12
      height = 6
      properties = {
        title   = w.title
        region  = var.region
        view    = "timeSeries"
        stacked = false
        period  = 300
        metrics = w.metrics
      }
    }]
  })
}

output "topic_arn" { value = aws_sns_topic.alerts.arn }
output "dashboard_name" { value = aws_cloudwatch_dashboard.this.dashboard_name }
output "alarm_names" {
  value = concat(
    [for a in aws_cloudwatch_metric_alarm.job_failed : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.lambda_errors : a.alarm_name],
    [
      aws_cloudwatch_metric_alarm.pipeline_failed.alarm_name, aws_cloudwatch_metric_alarm.pipeline_timed_out.alarm_name,
      aws_cloudwatch_metric_alarm.no_successful_run.alarm_name, aws_cloudwatch_metric_alarm.freshness.alarm_name,
      aws_cloudwatch_metric_alarm.dq_failures.alarm_name, aws_cloudwatch_metric_alarm.credit_budget.alarm_name,
      aws_cloudwatch_metric_alarm.dlq.alarm_name,
    ],
  )
}
output "topic_kms_key" { value = aws_sns_topic.alerts.kms_master_key_id }
output "email_subscriptions" { value = length(aws_sns_topic_subscription.email) }
output "dead_letter_arn" { value = aws_sqs_queue.dead_letters.arn }
