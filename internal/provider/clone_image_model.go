package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/cloneserver/terraform-provider-clone/internal/imageset"
)

type cloneImageResourceModel struct {
	ID               types.String   `tfsdk:"id"`
	SourceInstanceID types.String   `tfsdk:"source_instance_id"`
	NamePrefix       types.String   `tfsdk:"name_prefix"`
	Description      types.String   `tfsdk:"description"`
	NoReboot         types.Bool     `tfsdk:"no_reboot"`
	Triggers         types.Map      `tfsdk:"triggers"`
	RetainPrevious   types.Int64    `tfsdk:"retain_previous"`
	Tags             types.Map      `tfsdk:"tags"`
	TagsAll          types.Map      `tfsdk:"tags_all"`
	ImageID          types.String   `tfsdk:"image_id"`
	PreviousImageIDs types.List     `tfsdk:"previous_image_ids"`
	SnapshotIDs      types.List     `tfsdk:"snapshot_ids"`
	CreatedAt        types.String   `tfsdk:"created_at"`
	Timeouts         timeouts.Value `tfsdk:"timeouts"`
}

// expandCloneImage is what the plan asks of the set setID. An unknown
// image_id is ModifyPlan's way of asking for a re-bake.
func expandCloneImage(ctx context.Context, plan cloneImageResourceModel, setID string) (imageset.Desired, diag.Diagnostics) {
	tags, diags := stringMap(ctx, plan.TagsAll)
	return imageset.Desired{
		SetID:            setID,
		SourceInstanceID: plan.SourceInstanceID.ValueString(),
		NamePrefix:       plan.NamePrefix.ValueString(),
		Description:      plan.Description.ValueString(),
		NoReboot:         plan.NoReboot.ValueBool(),
		Tags:             tags,
		RetainPrevious:   int(plan.RetainPrevious.ValueInt64()),
		Rebake:           plan.ImageID.IsUnknown(),
	}, diags
}

// expandCloneImagePrior is what the state recorded of the set.
func expandCloneImagePrior(ctx context.Context, state cloneImageResourceModel) (imageset.Prior, diag.Diagnostics) {
	var previous []string
	diags := state.PreviousImageIDs.ElementsAs(ctx, &previous, false)
	tags, d := stringMap(ctx, state.TagsAll)
	diags.Append(d...)
	return imageset.Prior{ImageID: state.ImageID.ValueString(), PreviousImageIDs: previous, Tags: tags}, diags
}

// flatten records the current image and the history; tags_all keeps the
// planned value unless it has none yet.
func (m *cloneImageResourceModel) flatten(o imageset.Observed) {
	m.ImageID = types.StringValue(o.Current.ID)
	m.CreatedAt = types.StringValue(o.Current.CreatedAt.UTC().Format(time.RFC3339))
	m.PreviousImageIDs = listValue(o.HistoryIDs())
	m.SnapshotIDs = listValue(o.SnapshotIDs())
	if m.TagsAll.IsNull() || m.TagsAll.IsUnknown() {
		m.TagsAll = mapValue(imageset.UserTags(o.Current.Tags))
	}
}

// flattenCurrentGone records a set whose current image is gone: a null
// image_id makes the next plan re-bake in place, in the same set, so the
// earlier images stay in the history.
func (m *cloneImageResourceModel) flattenCurrentGone(o imageset.Observed) {
	m.ImageID = types.StringNull()
	m.CreatedAt = types.StringNull()
	m.PreviousImageIDs = listValue(o.HistoryIDs())
	m.SnapshotIDs = listValue(o.SnapshotIDs())
}

// importedCloneImage is the state of an imported set, with the schema's
// defaults for what AWS does not record.
func importedCloneImage(setID string, o imageset.Observed) cloneImageResourceModel {
	m := cloneImageResourceModel{
		ID:               types.StringValue(setID),
		SourceInstanceID: types.StringValue(o.Current.SourceInstanceID()),
		NamePrefix:       types.StringValue(o.Current.NamePrefix()),
		NoReboot:         types.BoolValue(true),
		RetainPrevious:   types.Int64Value(2),
		Triggers:         types.MapNull(types.StringType),
		Tags:             types.MapNull(types.StringType),
		Description:      types.StringNull(),
		Timeouts:         timeouts.Value{Object: types.ObjectNull(timeoutsAttrTypes())},
	}
	if o.Current.Description != "" {
		m.Description = types.StringValue(o.Current.Description)
	}
	m.flatten(o)
	return m
}
