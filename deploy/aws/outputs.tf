output "lake_uri" {
  description = "GECKOLAKE_LAKE for the pipeline, geckolake sql and the dashboard."
  value       = local.lake_uri
}
output "lake_bucket" { value = module.lake_bucket.name }
output "artifacts_bucket" { value = module.artifacts_bucket.name }
output "athena_results_bucket" { value = module.athena_results_bucket.name }
output "kms_key_arn" { value = module.kms.arn }
output "api_key_parameter" { value = aws_ssm_parameter.api_key.name }
output "glue_databases" { value = local.databases }
output "glue_jobs" { value = { for job, m in module.glue_job : job => m.name } }
output "lambda_jobs" { value = { for job, m in module.lambda_job : job => m.name } }
output "job_roles" { value = merge({ for job, m in module.glue_job : job => m.role_arn }, { for job, m in module.lambda_job : job => m.role_arn }) }
output "job_environment" {
  description = "The settings every job runs with (no secret)."
  value       = local.job_environment
}
output "state_machine_arn" { value = module.pipeline.state_machine_arn }
output "states_role_arn" { value = module.pipeline.states_role_arn }
output "schedule_group" { value = module.pipeline.schedule_group }
output "schedules" { value = module.pipeline.schedule_names }
output "alerts_topic_arn" { value = module.monitoring.topic_arn }
output "alarms" { value = module.monitoring.alarm_names }
output "dashboard" { value = module.monitoring.dashboard_name }
output "athena_workgroup" { value = module.athena.workgroup }
output "athena_named_queries" { value = module.athena.named_queries }
output "ecr_repository" { value = aws_ecr_repository.jobs.repository_url }
output "metrics_namespace" { value = var.metrics_namespace }
