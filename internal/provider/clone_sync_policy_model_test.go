package provider

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
	"github.com/cloneserver/terraform-provider-clone/internal/syncstore"
)

// TestRenderAgentSHA256 holds that the plan carries a 64-character hash of
// the agent, not the agent, that it is the hash of what the policy renders,
// that it follows every agent setting, and that it is unknown while an
// input is.
func TestRenderAgentSHA256(t *testing.T) {
	model := func(interval string) cloneSyncPolicyResourceModel {
		return cloneSyncPolicyResourceModel{
			Name:               types.StringValue("web"),
			MasterAddress:      types.StringValue("10.0.1.10"),
			SSHUser:            types.StringValue("clone-sync"),
			SSHPort:            types.Int64Value(22),
			Interval:           types.StringValue(interval),
			BandwidthLimitKbps: types.Int64Value(0),
		}
	}
	m := model("5m")
	got := m.renderAgentSHA256()
	names := syncstore.NamesOf("web")
	want := agentSHA256(syncagent.RenderCloudInitPart(syncagent.Policy{
		Name: "web", MasterAddress: "10.0.1.10", SSHUser: "clone-sync", SSHPort: 22, Interval: 5 * time.Minute,
		PathsParameter: names.PathsParameter, KeyParameter: names.KeyParameter,
	}.WithDefaults()))
	if got.ValueString() != want || len(want) != 64 || strings.Trim(want, "0123456789abcdef") != "" {
		t.Fatalf("agent_sha256 = %q, want the hex SHA-256 %q of the rendered agent", got.ValueString(), want)
	}

	changed := model("10m")
	if changed.renderAgentSHA256().Equal(got) {
		t.Errorf("agent_sha256 did not change with the interval")
	}
	unknown := model("5m")
	unknown.MasterAddress = types.StringUnknown()
	if !unknown.renderAgentSHA256().IsUnknown() {
		t.Errorf("agent_sha256 known while master_address is unknown")
	}
	unknown = model("5m")
	unknown.SSHPort = types.Int64Unknown()
	if !unknown.renderAgentSHA256().IsUnknown() {
		t.Errorf("agent_sha256 known while ssh_port is unknown")
	}
}
