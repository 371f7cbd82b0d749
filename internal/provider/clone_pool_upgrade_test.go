package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// clonePoolStateV0 is a clone_pool state as schema version 0 wrote it:
// master, rolling_update and scaling as lists of at most one block.
const clonePoolStateV0 = `{
  "id": "web", "name": "web", "image_id": "ami-0123456789abcdef0", "instance_type": "t3.micro",
  "subnet_ids": ["subnet-0123456789abcdef0"], "min_size": 1, "max_size": 4, "desired_capacity": 2,
  "target_group_arns": ["arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef"],
  "wait_for_healthy": true, "launch_template_id": "lt-0123456789abcdef0", "launch_template_version": 3,
  "instance_ids": ["i-0aaaaaaaaaaaaaaa1", "i-0aaaaaaaaaaaaaaa2"], "healthy_count": 2, "outdated_instance_ids": [],
  "master_target_group_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-master/0123456789abcdef",
  "write_rule_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web/0123456789abcdef/0123456789abcdef/0123456789abcdef",
  "master": [{
    "instance_id": "i-0123456789abcdef0", "attach_to_load_balancers": true, "write_paths": ["/upload/*"],
    "listener_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/0123456789abcdef/0123456789abcdef",
    "rule_priority": 10, "env_file": "/etc/clone/master.env", "disable_services": ["mysql"], "recovery_alarm": true
  }],
  "rolling_update": [],
  "scaling": [{"target_cpu_percent": 50, "schedule": [
    {"name": "night", "recurrence": "0 22 * * *", "min_size": null, "max_size": null, "desired_capacity": 1}
  ]}],
  "timeouts": null
}`

// TestClonePoolUpgradeStateV0 upgrades a version 0 state through the
// provider server, as Terraform does when it finds an older version.
func TestClonePoolUpgradeStateV0(t *testing.T) {
	m := upgradeClonePoolState(t, clonePoolStateV0)
	if m.Master == nil || m.Master.InstanceID.ValueString() != "i-0123456789abcdef0" || m.Master.RulePriority.ValueInt64() != 10 ||
		!m.Master.AttachToLoadBalancers.ValueBool() || m.Master.EnvFile.ValueString() != "/etc/clone/master.env" {
		t.Errorf("master after the upgrade: %+v", m.Master)
	}
	if m.RollingUpdate != nil {
		t.Errorf("rolling_update: an empty list became %+v, want null", m.RollingUpdate)
	}
	if m.Scaling == nil || m.Scaling.TargetCPUPercent.ValueFloat64() != 50 || len(m.Scaling.Schedule) != 1 ||
		m.Scaling.Schedule[0].Name.ValueString() != "night" || m.Scaling.Schedule[0].DesiredCapacity.ValueInt64() != 1 {
		t.Errorf("scaling after the upgrade: %+v", m.Scaling)
	}
	if m.LaunchTemplateVersion.ValueInt64() != 3 || m.WriteRuleARN.IsNull() || len(m.InstanceIDs.Elements()) != 2 {
		t.Errorf("attributes outside the blocks changed: version %s, rule %s, instances %s", m.LaunchTemplateVersion, m.WriteRuleARN, m.InstanceIDs)
	}
}

// TestClonePoolUpgradeStateV0NoBlocks: a pool without any of the blocks
// (empty or absent lists) upgrades to null blocks.
func TestClonePoolUpgradeStateV0NoBlocks(t *testing.T) {
	m := upgradeClonePoolState(t, `{"id": "web", "name": "web", "master": [], "scaling": null}`)
	if m.Master != nil || m.RollingUpdate != nil || m.Scaling != nil {
		t.Errorf("blocks after the upgrade: master %+v, rolling_update %+v, scaling %+v; want all null", m.Master, m.RollingUpdate, m.Scaling)
	}
}

func TestClonePoolUpgradeStateV0TwoMasters(t *testing.T) {
	server, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := server.UpgradeResourceState(context.Background(), &tfprotov6.UpgradeResourceStateRequest{
		TypeName: "clone_pool", Version: 0,
		RawState: &tfprotov6.RawState{JSON: []byte(`{"id": "web", "name": "web", "master": [{"instance_id": "i-0123456789abcdef0"}, {"instance_id": "i-0123456789abcdef1"}]}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Diagnostics) == 0 {
		t.Fatal("a state with two master blocks upgraded without an error")
	}
}

func upgradeClonePoolState(t *testing.T, v0 string) clonePoolResourceModel {
	t.Helper()
	ctx := context.Background()
	server, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := server.UpgradeResourceState(ctx, &tfprotov6.UpgradeResourceStateRequest{
		TypeName: "clone_pool", Version: 0, RawState: &tfprotov6.RawState{JSON: []byte(v0)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.Diagnostics {
		t.Fatalf("upgrade: %s: %s", d.Summary, d.Detail)
	}
	var sch resource.SchemaResponse
	(&ClonePoolResource{}).Schema(ctx, resource.SchemaRequest{}, &sch)
	if sch.Schema.Version != 1 {
		t.Fatalf("schema version %d, want 1", sch.Schema.Version)
	}
	raw, err := resp.UpgradedState.Unmarshal(sch.Schema.Type().TerraformType(ctx))
	if err != nil {
		t.Fatal(err)
	}
	var m clonePoolResourceModel
	if diags := (tfsdk.State{Schema: sch.Schema, Raw: raw}).Get(ctx, &m); diags.HasError() {
		t.Fatalf("reading the upgraded state: %v", diags)
	}
	return m
}
