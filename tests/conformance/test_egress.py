"""The official Python SDK's egress methods against osb-runtime, which answers the egress sidecar's
/policy API itself at port 18080 of the sandbox's endpoint: get_egress_policy,
patch_egress_rules (merge: the patch first, the first rule of a target wins) and
delete_egress_rules (unknown targets ignored)."""

from __future__ import annotations

import shutil

import pytest
from opensandbox.exceptions import SandboxException
from opensandbox.models.sandboxes import NetworkPolicy, NetworkRule

pytestmark = pytest.mark.skipif(shutil.which("pasta") is None,
                                reason="egress needs pasta (Debian package passt)")


def rules(policy: NetworkPolicy) -> list[tuple[str, str]]:
    return [(r.action, r.target) for r in policy.egress or []]


def test_egress_rules_change_while_the_sandbox_runs(create):
    sbx = create(network_policy=NetworkPolicy(
        default_action="deny", egress=[NetworkRule(action="allow", target="pypi.org")]))
    policy = sbx.get_egress_policy()
    assert policy.default_action == "deny"
    assert rules(policy) == [("allow", "pypi.org")]

    sbx.patch_egress_rules([NetworkRule(action="allow", target="*.github.com"),
                            NetworkRule(action="deny", target="pypi.org"),
                            NetworkRule(action="allow", target="pypi.org")])
    policy = sbx.get_egress_policy()
    assert policy.default_action == "deny"
    assert rules(policy) == [("allow", "*.github.com"), ("deny", "pypi.org")]

    sbx.delete_egress_rules(["pypi.org", "never.there"])
    assert rules(sbx.get_egress_policy()) == [("allow", "*.github.com")]


def test_a_policy_made_without_rules_cannot_change(create):
    sbx = create(network_policy=NetworkPolicy(default_action="allow"))
    assert sbx.get_egress_policy().default_action == "allow"
    with pytest.raises(SandboxException):
        sbx.patch_egress_rules([NetworkRule(action="deny", target="example.com")])
