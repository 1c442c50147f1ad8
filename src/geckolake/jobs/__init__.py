"""Entry points for jobs a cluster runs (AWS Glue): they parse the cluster's arguments and call the flows."""
