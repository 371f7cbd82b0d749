package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// rulePriorityModifier plans master.rule_priority when the configuration
// leaves it out: the apply then takes the next free priority on the
// listener (as hashicorp/aws's aws_lb_listener_rule does), so it is unknown
// for a new write rule or one moving to another listener, the state's
// value for the rule state holds (stable across applies), and null without
// write paths.
type rulePriorityModifier struct{}

var _ planmodifier.Int64 = rulePriorityModifier{}

func (rulePriorityModifier) Description(context.Context) string {
	return "Without a configured value, keeps the write rule's priority while its listener stays the same; a new rule takes the next free priority."
}

func (m rulePriorityModifier) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (rulePriorityModifier) PlanModifyInt64(ctx context.Context, req planmodifier.Int64Request, resp *planmodifier.Int64Response) {
	if !req.ConfigValue.IsNull() || req.Plan.Raw.IsNull() {
		return
	}
	parent := req.Path.ParentPath()
	var writePaths types.List
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, parent.AtName("write_paths"), &writePaths)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if writePaths.IsNull() {
		resp.PlanValue = types.Int64Null()
		return
	}
	resp.PlanValue = types.Int64Unknown()
	if req.StateValue.IsNull() || req.StateValue.IsUnknown() {
		return
	}
	var planned, prior types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, parent.AtName("listener_arn"), &planned)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, parent.AtName("listener_arn"), &prior)...)
	if !resp.Diagnostics.HasError() && !planned.IsUnknown() && planned.Equal(prior) {
		resp.PlanValue = req.StateValue
	}
}
