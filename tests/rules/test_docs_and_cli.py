"""The generated catalogue reference and the `fintropy rules` commands."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fintropy.commands.rules import app
from rules import load_catalogue
from rules.docs import render_markdown

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "rules" / "aws.md"
runner = CliRunner()


def test_committed_catalogue_doc_equals_a_fresh_render():
    fresh = render_markdown(load_catalogue(), "aws")

    assert DOC.read_text(encoding="utf-8") == fresh, (
        "docs/rules/aws.md is stale: run `fintropy rules doc` and commit it"
    )


def test_doc_lists_every_rule_with_version_params_permissions_and_limits():
    catalogue = load_catalogue()
    text = render_markdown(catalogue, "aws")

    for rule in catalogue.rules:
        assert f"### {rule.id}" in text
        assert f"version {rule.version}" in text
        for name in rule.params:
            assert f"`{name}`" in text
        for permission in rule.permissions:
            assert f"`{permission}`" in text
        assert rule.limitations[0] in text


def test_list_json_filters_by_service_and_severity():
    result = runner.invoke(app, ["list", "--service", "ebs", "--severity", "medium", "--json"])

    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows and {r["service"] for r in rows} == {"ebs"}
    assert {r["severity"] for r in rows} == {"medium"}
    assert "AWS-EBS-UNATTACHED" in {r["id"] for r in rows}


def test_list_table_shows_the_rules():
    result = runner.invoke(app, ["list", "--provider", "aws"])

    assert result.exit_code == 0
    assert "AWS-NAT-UNUSED" in result.output
    assert f"{len(load_catalogue().rules)} rule(s)" in result.output


def test_list_refuses_an_unknown_severity_listing_the_choices():
    result = runner.invoke(app, ["list", "--severity", "urgent"])

    assert result.exit_code == 2
    assert "low, medium, high, critical" in result.output


def test_show_json_gives_params_defaults_and_permissions():
    result = runner.invoke(app, ["show", "AWS-EC2-STOPPED", "--json"])

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["params"]["allowed_days"]["default"] == 30
    assert data["permissions"] == ["ec2:DescribeInstances", "ec2:DescribeVolumes"]
    assert data["version"] == "1.0.0" and data["action"] is None


def test_show_text_and_unknown_id():
    shown = runner.invoke(app, ["show", "aws-ebs-gp2"])
    missing = runner.invoke(app, ["show", "AWS-EBS-GP3"])

    assert shown.exit_code == 0 and "modify_volume_to_gp3" in shown.output
    assert missing.exit_code == 1
    assert "did you mean 'AWS-EBS-GP2'" in " ".join(missing.output.split())


def test_explain_walks_through_the_worked_example():
    result = runner.invoke(app, ["explain", "AWS-EBS-UNATTACHED"])
    text = " ".join(result.output.split())

    assert result.exit_code == 0, result.output
    assert "Worked example" in text
    assert "Volume data-archive (100 GB gp3)" in text
    assert "Saving: $16.00/month" in text
    assert "practitioner practice" in text  # min_age_days is an inferred default


def test_doc_command_writes_the_reference(tmp_path):
    out = tmp_path / "aws.md"

    result = runner.invoke(app, ["doc", "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == DOC.read_text(encoding="utf-8")


def test_rules_cli_module_imports_nothing_heavy():
    import subprocess
    import sys

    code = (
        "import sys; import fintropy.commands.rules; "
        "heavy = {'rules', 'yaml', 'jsonschema', 'rich', 'boto3'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)

    assert out.stdout.strip() == "[]", out.stdout + out.stderr
