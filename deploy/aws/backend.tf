# Remote state for real deployments: an S3 bucket with native locking (Terraform >= 1.10), given at
# init time (`terraform init -backend-config=...`, see docs/aws.md and .github/workflows/deploy.yml).
# Local checks run `init -backend=false`; the emulator tests use a copy of the module without this file.
terraform {
  backend "s3" {}
}
