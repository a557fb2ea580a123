"""Metric summaries and error translation: the arithmetic and the wording, without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from adapters.aws.errors import error_kind, iam_action, read_error, translate
from adapters.aws.inventory.ec2 import stopped_since
from adapters.aws.inventory.metrics import GB, MB, SUMMARISERS, lb_dimension
from adapters.aws.session import client_config
from fintropy.errors import AdapterError, PermissionDeniedError

DAY0 = datetime(2026, 3, 1, tzinfo=UTC)


def _days(*values: float) -> list[tuple[datetime, float]]:
    return [(DAY0 + timedelta(days=n), v) for n, v in enumerate(values)]


def _error(code: str, operation: str = "DescribeVolumes", status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "no"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


def test_instance_summary_means_days_and_converts_bytes_to_mb() -> None:
    series = {
        "cpu_avg": _days(2.0, 4.0, 6.0),
        "cpu_max": _days(3.0, 9.5, 7.0),
        "net_in": _days(MB, 3 * MB),
        "net_out": _days(MB, MB),
    }

    summary = SUMMARISERS["aws.ec2.instance"](series)

    assert summary == {
        "cpu_avg_14d": 4.0,
        "cpu_max_14d": 9.5,
        "metric_days": 3,
        "network_mb_per_day_14d": 3.0,
    }


def test_summaries_leave_out_metrics_without_datapoints() -> None:
    empty = {"cpu_avg": [], "cpu_max": [], "net_in": [], "net_out": [], "conns": []}

    assert SUMMARISERS["aws.ec2.instance"](empty) == {}
    assert SUMMARISERS["aws.rds.instance"](empty) == {}
    assert SUMMARISERS["aws.ebs.volume"]({"read_ops": _days(10, 30), "write_ops": []}) == {
        "read_ops_per_day_14d": 20.0,
        "metric_days": 2,
    }


def test_function_summary_means_invocations_errors_and_duration_per_day() -> None:
    series = {
        "invocations": _days(100.0, 300.0),
        "errors": _days(10.0),
        "duration": _days(200.0, 400.0),
    }

    summary = SUMMARISERS["aws.lambda.function"](series)

    assert summary == {
        "invocations_per_day_14d": 200.0,
        "metric_days": 2,
        "errors_per_day_14d": 10.0,
        "duration_avg_ms_14d": 300.0,
    }
    assert (
        SUMMARISERS["aws.lambda.function"]({"invocations": [], "errors": [], "duration": []}) == {}
    )


def test_table_summary_counts_days_with_either_read_or_write_datapoints() -> None:
    series = {"rcu": _days(8640.0, 0.0, 4320.0), "wcu": []}

    assert SUMMARISERS["aws.dynamodb.table"](series) == {
        "consumed_rcu_per_day_14d": 4320.0,
        "metric_days": 3,
    }
    assert SUMMARISERS["aws.dynamodb.table"]({"rcu": [], "wcu": []}) == {}


def test_bucket_summary_takes_the_latest_datapoint_in_gb() -> None:
    series = {"size": _days(10 * GB, 12 * GB), "objects": _days(100, 90)}

    assert SUMMARISERS["aws.s3.bucket"](series) == {"size_gb": 12.0, "object_count": 90}


def test_load_balancer_dimension_is_the_arn_suffix() -> None:
    arn = (
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
    )

    assert lb_dimension(arn) == "app/web/50dc6c495c0c9188"


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("User initiated (2026-02-03 04:05:06 GMT)", "2026-02-03T04:05:06+00:00"),
        ("User initiated (2026-02-03 04:05:06 UTC)", "2026-02-03T04:05:06+00:00"),
        ("Server.SpotInstanceShutdown", None),
    ],
)
def test_stop_time_comes_from_the_state_transition_reason(
    reason: str, expected: str | None
) -> None:
    instance = {"State": {"Name": "stopped"}, "StateTransitionReason": reason}

    assert stopped_since(instance) == expected


def test_iam_actions_use_the_iam_prefix_and_s3_action_names() -> None:
    assert iam_action("ec2", "DeleteVolume") == "ec2:DeleteVolume"
    assert iam_action("elbv2", "DescribeTags") == "elasticloadbalancing:DescribeTags"
    assert iam_action("s3", "ListBuckets") == "s3:ListAllMyBuckets"
    assert iam_action("s3", "GetBucketLifecycleConfiguration") == "s3:GetLifecycleConfiguration"


def test_error_codes_are_sorted_into_the_kinds_fintropy_reports() -> None:
    assert error_kind("UnauthorizedOperation") == "AccessDenied"
    assert error_kind("RequestLimitExceeded") == "Throttling"
    assert error_kind("OptInRequired") == "OptInRequired"
    assert error_kind("InvalidParameterValue") == "InvalidParameterValue"


def test_read_errors_name_the_refused_action() -> None:
    error = read_error("111111111111", "eu-west-1", "ec2", "DescribeVolumes", _error("AuthFailure"))

    assert (error.service, error.code) == ("ec2", "AccessDenied")
    assert error.message == "ec2:DescribeVolumes was refused (AuthFailure): no"


def test_translated_errors_carry_permission_and_retry_information() -> None:
    denied = translate(_error("AccessDenied", "CreateSnapshot"), service="ec2", operation="x")
    throttled = translate(_error("Throttling"), service="ec2", operation="DescribeVolumes")
    broken = translate(_error("InternalError", status=500), service="ec2", operation="x")
    invalid = translate(_error("InvalidParameterValue"), service="ec2", operation="x")

    assert isinstance(denied, PermissionDeniedError)
    assert denied.operation == "ec2:CreateSnapshot"
    assert (
        denied.remediation
        == "Grant ec2:CreateSnapshot to the role Fintropy assumes in this account."
    )
    assert isinstance(throttled, AdapterError)
    assert throttled.retryable
    assert broken.retryable
    assert not invalid.retryable


def test_retry_configuration_counts_the_first_attempt_and_checks_its_input() -> None:
    config = client_config(4, "adaptive")

    assert config.retries == {"total_max_attempts": 4, "mode": "adaptive"}
    with pytest.raises(ValueError, match="retry_mode must be"):
        client_config(3, "legacy")
    with pytest.raises(ValueError, match="at least 1"):
        client_config(0)
