package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

func TestRulePriorityModifier(t *testing.T) {
	ctx := context.Background()
	var sch resource.SchemaResponse
	(&ClonePoolResource{}).Schema(ctx, resource.SchemaRequest{}, &sch)
	typ := sch.Schema.Type().TerraformType(ctx).(tftypes.Object)
	masterType := typ.AttributeTypes["master"].(tftypes.Object)
	const listener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/0123456789abcdef/0123456789abcdef"
	const otherListener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/api/0123456789abcdef/0123456789abcdef"
	// pool is a clone_pool value whose master block has the listener, write
	// paths when paths, and the priority (0 for null); nil master when
	// listenerARN is "".
	pool := func(listenerARN string, paths bool, priority int64) tftypes.Value {
		vals := map[string]tftypes.Value{}
		for k, at := range typ.AttributeTypes {
			vals[k] = tftypes.NewValue(at, nil)
		}
		if listenerARN != "" {
			m := map[string]tftypes.Value{}
			for k, at := range masterType.AttributeTypes {
				m[k] = tftypes.NewValue(at, nil)
			}
			m["instance_id"] = tftypes.NewValue(tftypes.String, "i-0123456789abcdef0")
			m["listener_arn"] = tftypes.NewValue(tftypes.String, listenerARN)
			if paths {
				m["write_paths"] = tftypes.NewValue(tftypes.List{ElementType: tftypes.String}, []tftypes.Value{tftypes.NewValue(tftypes.String, "/upload/*")})
			}
			if priority > 0 {
				m["rule_priority"] = tftypes.NewValue(tftypes.Number, priority)
			}
			vals["master"] = tftypes.NewValue(masterType, m)
		}
		return tftypes.NewValue(typ, vals)
	}
	at := path.Root("master").AtName("rule_priority")
	for _, tc := range []struct {
		name          string
		config, state tftypes.Value
		want          types.Int64
	}{
		{"configured", pool(listener, true, 70), pool(listener, true, 41), types.Int64Value(70)},
		{"new rule", pool(listener, true, 0), tftypes.NewValue(typ, nil), types.Int64Unknown()},
		{"new master block", pool(listener, true, 0), pool("", false, 0), types.Int64Unknown()},
		{"kept", pool(listener, true, 0), pool(listener, true, 41), types.Int64Value(41)},
		{"listener changed", pool(otherListener, true, 0), pool(listener, true, 41), types.Int64Unknown()},
		{"write paths dropped", pool(listener, false, 0), pool(listener, true, 41), types.Int64Null()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := tfsdk.Config{Schema: sch.Schema, Raw: tc.config}
			plan := tfsdk.Plan{Schema: sch.Schema, Raw: tc.config}
			state := tfsdk.State{Schema: sch.Schema, Raw: tc.state}
			req := planmodifier.Int64Request{Path: at, Config: config, Plan: plan, State: state, PlanValue: types.Int64Unknown()}
			if d := config.GetAttribute(ctx, at, &req.ConfigValue); d.HasError() {
				t.Fatal(d)
			}
			if !tc.state.IsNull() {
				if d := state.GetAttribute(ctx, at, &req.StateValue); d.HasError() {
					t.Fatal(d)
				}
			}
			if !req.ConfigValue.IsNull() {
				req.PlanValue = req.ConfigValue
			}
			resp := &planmodifier.Int64Response{PlanValue: req.PlanValue}
			rulePriorityModifier{}.PlanModifyInt64(ctx, req, resp)
			if resp.Diagnostics.HasError() {
				t.Fatal(resp.Diagnostics)
			}
			if !resp.PlanValue.Equal(tc.want) {
				t.Errorf("planned %s, want %s", resp.PlanValue, tc.want)
			}
		})
	}
}
