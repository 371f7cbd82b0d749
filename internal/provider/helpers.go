package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/poolhealth"
)

// operationContext bounds ctx by a CRUD operation's timeout, registers the
// SDK request logger on it and names the object in every log line.
func operationContext(ctx context.Context, client *conns.AWSClient, timeout time.Duration, field, id string) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(client.Context(ctx), timeout)
	return tflog.SetField(ctx, field, id), cancel
}

// clientFrom turns provider data into the AWS client with a loud type check.
// A nil result without diagnostics means the provider is not configured yet.
func clientFrom(providerData any, kind string) (*conns.AWSClient, diag.Diagnostics) {
	var diags diag.Diagnostics
	if providerData == nil {
		return nil, diags
	}
	client, ok := providerData.(*conns.AWSClient)
	if !ok {
		diags.AddError(fmt.Sprintf("Unexpected %s Configure Type", kind),
			fmt.Sprintf("Expected *conns.AWSClient, got %T. Please report this issue to the provider developers.", providerData))
	}
	return client, diags
}

func stringMap(ctx context.Context, m types.Map) (map[string]string, diag.Diagnostics) {
	out := map[string]string{}
	if m.IsNull() || m.IsUnknown() {
		return out, nil
	}
	diags := m.ElementsAs(ctx, &out, false)
	return out, diags
}

func mapValue(m map[string]string) types.Map {
	elems := make(map[string]attr.Value, len(m))
	for k, v := range m {
		elems[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, elems)
}

func listValue(items []string) types.List {
	elems := make([]attr.Value, 0, len(items))
	for _, s := range items {
		elems = append(elems, types.StringValue(s))
	}
	return types.ListValueMust(types.StringType, elems)
}

// durationValidator checks a Go duration string lies within [lo, hi]; hi
// 0 means no upper bound.
type durationValidator struct{ min, max time.Duration }

func durationBetween(lo, hi time.Duration) validator.String { return durationValidator{lo, hi} }

func (v durationValidator) Description(context.Context) string {
	if v.max == 0 {
		return fmt.Sprintf("must be a duration such as \"5m\" of at least %s", v.min)
	}
	return fmt.Sprintf("must be a duration such as \"5m\" between %s and %s", v.min, v.max)
}

func (v durationValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v durationValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	d, err := time.ParseDuration(req.ConfigValue.ValueString())
	if err != nil || d < v.min || (v.max > 0 && d > v.max) {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%s %s, got %q.", req.Path, v.Description(ctx), req.ConfigValue.ValueString()))
	}
}

type noReservedPrefix struct{}

func (noReservedPrefix) Description(context.Context) string {
	return `must not start with "aws:" or "clone:" (reserved for AWS and for this provider)`
}
func (v noReservedPrefix) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (v noReservedPrefix) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if reservedTagKey.MatchString(req.ConfigValue.ValueString()) {
		resp.Diagnostics.AddAttributeError(req.Path, "Reserved tag key",
			fmt.Sprintf("Tag key %q %s.", req.ConfigValue.ValueString(), v.Description(ctx)))
	}
}

// stringCheck adapts a plain validation function (a syncagent or syncstore check) to a schema validator.
type stringCheck struct {
	summary     string
	description string
	check       func(string) error
}

func (v stringCheck) Description(context.Context) string { return v.description }

func (v stringCheck) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v stringCheck) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := v.check(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, v.summary, fmt.Sprintf("%s: %s.", req.Path, err))
	}
}

// poolCloud is the pool's AWS operations on the provider's clients.
func poolCloud(c *conns.AWSClient) pool.AWS {
	return pool.NewAWS(c.AutoScaling, c.EC2, c.ELBV2, c.ELB, c.CloudWatch)
}

// logProgress reports the progress of a long operation at INFO; ctx
// carries the resource's field (operationContext, tflog.SetField).
func logProgress(ctx context.Context) func(string) {
	return func(msg string) { tflog.Info(ctx, msg) }
}

// warnDrift logs, and shows as a warning diagnostic, something Read found
// deleted or changed out of band in the named resource, so the plan that
// follows says why it changes. what names the object.
func warnDrift(ctx context.Context, diags *diag.Diagnostics, resourceID, what, next string) {
	tflog.Warn(ctx, what+"; "+next)
	diags.AddWarning(fmt.Sprintf("Drift in %s: %s", resourceID, what), next)
}

// targetKind names a load balancer attachment's kind in AWS's words.
func targetKind(t poolhealth.Target) string {
	if t.Kind == poolhealth.KindClassicELB {
		return "classic load balancer"
	}
	return "target group"
}
