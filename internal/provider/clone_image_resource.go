package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/imageset"
	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
)

const (
	defaultImageCreateTimeout = 40 * time.Minute
	defaultImageDeleteTimeout = 20 * time.Minute
)

var (
	_ resource.Resource                = &CloneImageResource{}
	_ resource.ResourceWithConfigure   = &CloneImageResource{}
	_ resource.ResourceWithImportState = &CloneImageResource{}
	_ resource.ResourceWithModifyPlan  = &CloneImageResource{}
)

// NewCloneImageResource is the clone_image constructor.
func NewCloneImageResource() resource.Resource {
	return &CloneImageResource{}
}

// CloneImageResource bakes the master into an image and keeps a history.
// The work is imageset's: each CRUD method expands, makes one call into it,
// and flattens.
type CloneImageResource struct {
	client *conns.AWSClient
}

func (r *CloneImageResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_image"
}

func (r *CloneImageResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = cloneImageSchema(ctx)
}

func (r *CloneImageResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	client, diags := clientFrom(req.ProviderData, "Resource")
	resp.Diagnostics.Append(diags...)
	r.client = client
}

// ModifyPlan plans tags_all, and a re-bake (unknown image outputs) when the
// triggers or the source instance changed or the current image is gone.
func (r *CloneImageResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.client == nil {
		return
	}
	var plan, state *cloneImageResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}

	tagsAll, diags := plannedTagsAll(ctx, r.client, plan.Tags)
	resp.Diagnostics.Append(diags...)
	plan.TagsAll = tagsAll

	if state != nil {
		rebake := state.ImageID.IsNull() || !plan.Triggers.Equal(state.Triggers) ||
			!plan.SourceInstanceID.Equal(state.SourceInstanceID)
		if rebake {
			plan.ImageID = types.StringUnknown()
			plan.CreatedAt = types.StringUnknown()
			plan.PreviousImageIDs = types.ListUnknown(types.StringType)
			plan.SnapshotIDs = types.ListUnknown(types.StringType)
		} else {
			plan.ImageID = state.ImageID
			plan.CreatedAt = state.CreatedAt
			plan.PreviousImageIDs = state.PreviousImageIDs
			plan.SnapshotIDs = state.SnapshotIDs
			// History beyond retain_previous is pruned, except images the
			// last apply kept because they were in use: those wait for the
			// next re-bake or retain_previous change, so a pinned image
			// does not plan an update on every run.
			kept, diags := getImagesInUse(ctx, req.Private)
			resp.Diagnostics.Append(diags...)
			var previous []string
			resp.Diagnostics.Append(state.PreviousImageIDs.ElementsAs(ctx, &previous, false)...)
			prunable := len(previous)
			for _, id := range previous {
				if slices.Contains(kept, id) {
					prunable--
				}
			}
			if int64(prunable) > plan.RetainPrevious.ValueInt64() || plan.RetainPrevious.IsUnknown() || !plan.RetainPrevious.Equal(state.RetainPrevious) && int64(len(previous)) > plan.RetainPrevious.ValueInt64() {
				plan.PreviousImageIDs = types.ListUnknown(types.StringType)
				plan.SnapshotIDs = types.ListUnknown(types.StringType)
			}
		}
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

func (r *CloneImageResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan cloneImageResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultImageCreateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	setID, err := imageset.NewSetID()
	if err != nil {
		resp.Diagnostics.AddError("Creating Clone Image", err.Error())
		return
	}
	want, diags := expandCloneImage(ctx, plan, setID)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := operationContext(ctx, r.client, timeout, "clone_image", setID)
	defer cancel()
	want.Progress = logProgress(ctx)

	observed, err := imageset.Converge(ctx, r.client.EC2, want, nil)
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Creating Clone Image (%s) from %s", setID, want.SourceInstanceID), err.Error())
		return
	}
	plan.ID = types.StringValue(setID)
	plan.flatten(observed)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// Read finds the whole set with one DescribeImages call. A current image
// deleted out of band is drift: the resource stays, with a null image_id
// that makes the next plan re-bake in place.
func (r *CloneImageResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state cloneImageResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	setID := state.ID.ValueString()
	ctx = tflog.SetField(r.client.Context(ctx), "clone_image", setID)
	prior, diags := expandCloneImagePrior(ctx, state)
	resp.Diagnostics.Append(diags...)

	observed, err := imageset.Observe(ctx, r.client.EC2, setID, prior)
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Reading Clone Image (%s)", setID), err.Error())
		return
	}
	for _, id := range prior.PreviousImageIDs {
		if !slices.ContainsFunc(observed.History, func(img imageset.Image) bool { return img.ID == id }) {
			warnDrift(ctx, &resp.Diagnostics, setID, "image "+id+" of previous_image_ids no longer exists",
				"It is dropped from previous_image_ids; the next update or destroy of the set deletes the snapshots it left.")
		}
	}
	current := observed.Current
	if current.ID == "" {
		tflog.Warn(ctx, "current image of the set no longer exists; the next apply re-bakes it",
			map[string]any{"image_id": prior.ImageID, "images_left": len(observed.History)})
		resp.Diagnostics.AddWarning(fmt.Sprintf("Reading Clone Image (%s): current image gone", setID),
			fmt.Sprintf("Image %q of Clone Image (%s) no longer exists; the next apply re-bakes it in place and keeps the set's %d other images in its history.",
				prior.ImageID, setID, len(observed.History)))
		state.flattenCurrentGone(observed)
		resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
		return
	}
	state.flatten(observed)
	state.TagsAll, state.Tags = splitTags(ctx, r.client, imageset.UserTags(current.Tags), state.Tags)
	if src := current.SourceInstanceID(); src != "" {
		state.SourceInstanceID = types.StringValue(src)
	}
	if p := current.NamePrefix(); p != "" {
		state.NamePrefix = types.StringValue(p)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *CloneImageResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state cloneImageResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultImageCreateTimeout)
	resp.Diagnostics.Append(diags...)
	setID := state.ID.ValueString()
	want, diags := expandCloneImage(ctx, plan, setID)
	resp.Diagnostics.Append(diags...)
	prior, diags := expandCloneImagePrior(ctx, state)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := operationContext(ctx, r.client, timeout, "clone_image", setID)
	defer cancel()
	want.Progress = logProgress(ctx)
	want.InUse = func(ctx context.Context, ids []string) (map[string][]string, error) {
		return imageset.Users(ctx, r.client.EC2, r.client.AutoScaling, ids)
	}

	observed, err := imageset.Converge(ctx, r.client.EC2, want, &prior)
	if err != nil {
		detail := err.Error()
		if notfound.Is(err) {
			detail += "; run terraform apply again to re-bake"
		}
		resp.Diagnostics.AddError(fmt.Sprintf("Updating Clone Image (%s)", setID), detail)
		return
	}
	plan.flatten(observed)
	resp.Diagnostics.Append(setImagesInUse(ctx, resp.Private, slices.Sorted(maps.Keys(observed.InUse)))...)
	for _, id := range slices.Sorted(maps.Keys(observed.InUse)) {
		resp.Diagnostics.AddWarning(fmt.Sprintf("Clone Image (%s): image %s kept beyond retain_previous", setID, id),
			fmt.Sprintf("Image %s is still used by %s, so it was not deregistered: it stays in previous_image_ids, and a later apply prunes it once nothing uses it.",
				id, strings.Join(observed.InUse[id], ", ")))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *CloneImageResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state cloneImageResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, defaultImageDeleteTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	setID := state.ID.ValueString()
	ctx, cancel := operationContext(ctx, r.client, timeout, "clone_image", setID)
	defer cancel()

	if err := imageset.Destroy(ctx, r.client.EC2, setID, logProgress(ctx)); err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Deleting Clone Image (%s)", setID), err.Error())
	}
}

// ImportState accepts the set id (cis-…) or the id of any AMI in the set.
func (r *CloneImageResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	ctx = r.client.Context(ctx)
	setID, err := r.importSetID(ctx, strings.TrimSpace(req.ID))
	if err != nil {
		resp.Diagnostics.AddError("Importing Clone Image", err.Error())
		return
	}
	observed, err := imageset.Latest(ctx, r.client.EC2, setID)
	if notfound.Is(err) {
		resp.Diagnostics.AddError("Importing Clone Image", fmt.Sprintf("image set %s has no images", setID))
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Importing Clone Image", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, importedCloneImage(setID, observed))...)
}

func (r *CloneImageResource) importSetID(ctx context.Context, id string) (string, error) {
	switch {
	case imageSetIDRegexp.MatchString(id):
		return id, nil
	case imageIDRegexp.MatchString(id):
		return imageset.SetOf(ctx, r.client.EC2, id)
	}
	return "", fmt.Errorf("import id %q is neither an image set id (cis-…) nor an AMI id (ami-…)", id)
}
