# One-time bootstrap of an account for .github/workflows/deploy.yml (docs/aws.md, "Deploy from
# GitHub"): the Terraform state bucket, GitHub's OIDC identity provider and two roles the workflow
# assumes — a read-only one for plans on pull requests and a deploying one for the "production"
# environment. Applied once by an administrator, with local state (it creates the state bucket).

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

variable "region" {
  type    = string
  default = "eu-west-1"
}
variable "name_prefix" {
  type    = string
  default = "geckolake"
}
variable "github_repository" {
  description = "owner/name of the repository whose workflows may assume the roles."
  type        = string
}

provider "aws" {
  region = var.region
  default_tags {
    tags = { Project = "geckolake", ManagedBy = "terraform", Stack = "${var.name_prefix}-bootstrap" }
  }
}

data "aws_caller_identity" "this" {}
data "aws_partition" "this" {}

locals {
  account   = data.aws_caller_identity.this.account_id
  partition = data.aws_partition.this.partition
  issuer    = "token.actions.githubusercontent.com"
}

resource "aws_kms_key" "state" {
  #checkov:skip=CKV2_AWS_64:the default key policy (the account administers the key, IAM grants its use) is what a state key needs
  description         = "${var.name_prefix}: Terraform state"
  enable_key_rotation = true
}

resource "aws_s3_bucket" "state" {
  #checkov:skip=CKV_AWS_18:state access is audited through CloudTrail, not a log bucket
  #checkov:skip=CKV_AWS_144:state is small and versioned; a cross-region replica is not worth its cost here
  #checkov:skip=CKV2_AWS_62:nothing consumes state-bucket events
  #checkov:skip=CKV2_AWS_61:state versions are kept on purpose (no lifecycle expiry)
  bucket = "${var.name_prefix}-tfstate-${local.account}-${var.region}"
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.state.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_iam_openid_connect_provider" "github" {
  url            = "https://${local.issuer}"
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_policy_document" "trust" {
  for_each = {
    plan   = "repo:${var.github_repository}:pull_request"
    deploy = "repo:${var.github_repository}:environment:production"
  }
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.github.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:sub"
      values   = [each.value]
    }
  }
}

resource "aws_iam_role" "github" {
  for_each             = data.aws_iam_policy_document.trust
  name                 = "${var.name_prefix}-github-${each.key}"
  assume_role_policy   = each.value.json
  max_session_duration = 3600
}

# Plans read everything they refresh; deploys may change everything but IAM, and IAM only for the
# stack's own roles (named <prefix>-*).
resource "aws_iam_role_policy_attachment" "plan" {
  role       = aws_iam_role.github["plan"].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_role_policy_attachment" "deploy" {
  role       = aws_iam_role.github["deploy"].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/PowerUserAccess"
}

data "aws_iam_policy_document" "deploy_iam" {
  statement {
    sid = "OwnRolesOnly"
    actions = [
      "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:TagRole", "iam:UntagRole",
      "iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy", "iam:ListRolePolicies",
      "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:UpdateAssumeRolePolicy", "iam:PassRole",
    ]
    resources = ["arn:${local.partition}:iam::${local.account}:role/${var.name_prefix}-*"]
  }
}

resource "aws_iam_role_policy" "deploy_iam" {
  name   = "${var.name_prefix}-own-roles"
  role   = aws_iam_role.github["deploy"].id
  policy = data.aws_iam_policy_document.deploy_iam.json
}

data "aws_iam_policy_document" "state" {
  statement {
    sid       = "State"
    actions   = ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]
  }
  statement {
    sid       = "StateKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.state.arn]
  }
}

resource "aws_iam_role_policy" "state" {
  for_each = aws_iam_role.github
  name     = "${var.name_prefix}-tfstate"
  role     = each.value.id
  policy   = data.aws_iam_policy_document.state.json
}

output "state_bucket" { value = aws_s3_bucket.state.id }
output "plan_role_arn" { value = aws_iam_role.github["plan"].arn }
output "deploy_role_arn" { value = aws_iam_role.github["deploy"].arn }
