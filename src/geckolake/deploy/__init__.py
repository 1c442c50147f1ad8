"""``deploy``: what the AWS deployment (``deploy/aws/``, docs/aws.md) runs and is generated from.

``jobs`` names every deployed job and the flow it calls (the same functions as the CLI and the local
scheduler); ``graph`` is the daily pipeline's job graph; ``states`` turns that graph into the Step
Functions definition Terraform reads; ``entry`` is the process entry point of a Glue job or Lambda
function; ``cloudwatch`` publishes a job's metrics.
"""
