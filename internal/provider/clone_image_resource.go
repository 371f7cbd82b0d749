package provider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/imageset"
)

const (
	imageSetIDPrefix          = "cis-"
	defaultImageCreateTimeout = 40 * time.Minute
	defaultImageDeleteTimeout = 20 * time.Minute
)

var (
	instanceIDRegexp = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)
	imageIDRegexp    = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)
	imageSetIDRegexp = regexp.MustCompile(`^cis-[0-9a-f]{17}$`)
	// AMI names allow letters, digits, spaces and the characters ()[]./-'@_.
	amiNamePrefixRegexp = regexp.MustCompile(`^[a-zA-Z0-9()\[\] ./'@_-]+$`)
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
type CloneImageResource struct {
	client *conns.AWSClient
}

func (r *CloneImageResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_image"
}

func (r *CloneImageResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Bakes the master server into an AMI and keeps a history of earlier images for rollback. " +
			"A change of `triggers` or `source_instance_id` re-bakes in place: the new image is made first, the old " +
			"current image moves into `previous_image_ids`, and images beyond `retain_previous` are deregistered " +
			"together with their snapshots. Destroy leaves no image and no snapshot of the set.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Id of the image set (`cis-…`). Every image and snapshot of the set carries it in the `clone:image-set` tag.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"source_instance_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The master instance to bake. Changing it bakes a new image from the new instance, in place.",
				Validators:          []validator.String{stringvalidator.RegexMatches(instanceIDRegexp, "must be an EC2 instance id such as i-0123456789abcdef0")},
			},
			"name_prefix": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Prefix of each image's name; a UTC timestamp and a short random suffix are appended. " +
					"Up to 100 characters of letters, digits, spaces and `( ) [ ] . / - ' @ _`.",
				Validators: []validator.String{
					stringvalidator.LengthBetween(1, 100),
					stringvalidator.RegexMatches(amiNamePrefixRegexp, "may contain only letters, digits, spaces and ( ) [ ] . / - ' @ _ (the characters AMI names allow)"),
				},
			},
			"description": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Description of each new image.",
				Validators:          []validator.String{stringvalidator.LengthAtMost(255)},
			},
			"no_reboot": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(true),
				MarkdownDescription: "Bake without rebooting the master. Defaults to `true`: the master is a single point of " +
					"failure and a reboot is an outage. The trade-off is a crash-consistent image: stop writes " +
					"or set `false` when the file system must be quiesced.",
			},
			"triggers": schema.MapAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "Arbitrary values; any change re-bakes the image in place (for example a release version or a content hash).",
			},
			"retain_previous": schema.Int64Attribute{
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(2),
				MarkdownDescription: "How many earlier images to keep for rollback (default 2). Older ones are deregistered and their snapshots deleted.",
				Validators:          []validator.Int64{int64validator.Between(0, 50)},
			},
			"tags": schema.MapAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "Tags for every image and snapshot of the set. Merged over the provider's `default_tags`.",
				Validators:          tagsValidators(),
			},
			"tags_all": schema.MapAttribute{
				ElementType:         types.StringType,
				Computed:            true,
				MarkdownDescription: "`tags` merged over the provider's `default_tags`.",
			},
			"image_id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The current image (AMI id).",
			},
			"previous_image_ids": schema.ListAttribute{
				ElementType:         types.StringType,
				Computed:            true,
				MarkdownDescription: "Earlier images, newest first. `previous_image_ids[0]` is the rollback target.",
			},
			"snapshot_ids": schema.ListAttribute{
				ElementType:         types.StringType,
				Computed:            true,
				MarkdownDescription: "Snapshots backing the current image and the history.",
			},
			"created_at": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "When the current image was created (RFC 3339).",
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func (r *CloneImageResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	client, diags := clientFrom(req.ProviderData, "Resource")
	resp.Diagnostics.Append(diags...)
	r.client = client
}

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
			if int64(len(state.PreviousImageIDs.Elements())) > plan.RetainPrevious.ValueInt64() || plan.RetainPrevious.IsUnknown() {
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
	setID, err := newImageSetID()
	if err != nil {
		resp.Diagnostics.AddError("Creating Clone Image", err.Error())
		return
	}
	ctx, cancel := operationContext(ctx, r.client, timeout, "clone_image", setID)
	defer cancel()

	img, err := r.bake(ctx, setID, &plan)
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Creating Clone Image (%s) from %s", setID, plan.SourceInstanceID.ValueString()), err.Error())
		return
	}
	plan.ID = types.StringValue(setID)
	plan.setImages(img, nil)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *CloneImageResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state cloneImageResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = tflog.SetField(r.client.Context(ctx), "clone_image", state.ID.ValueString())

	set, err := imageset.FindSet(ctx, r.client.EC2, state.ID.ValueString())
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Reading Clone Image (%s)", state.ID.ValueString()), err.Error())
		return
	}

	var known []string
	resp.Diagnostics.Append(state.PreviousImageIDs.ElementsAs(ctx, &known, false)...)
	current, ok := set.Lookup(state.ImageID.ValueString())
	if !ok {
		// Drift: a null image_id makes the next plan re-bake in place, in
		// the same set, so earlier images stay in the history.
		tflog.Warn(ctx, "current image of the set no longer exists; the next apply re-bakes it",
			map[string]any{"image_id": state.ImageID.ValueString(), "images_left": len(set.Images)})
		history := imageset.History(set, "", append([]string{state.ImageID.ValueString()}, known...))
		state.ImageID = types.StringNull()
		state.CreatedAt = types.StringNull()
		state.PreviousImageIDs = listValue(imageIDs(history))
		state.SnapshotIDs = listValue(set.SnapshotIDs())
		resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
		return
	}
	state.setImages(current, imageset.History(set, current.ID, known))
	state.TagsAll, state.Tags = splitTags(ctx, r.client, imageset.UserTags(current.Tags), state.Tags)
	if src := current.Tags[imageset.TagSource]; src != "" {
		state.SourceInstanceID = types.StringValue(src)
	}
	if p := current.Tags[imageset.TagNamePrefix]; p != "" {
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
	if resp.Diagnostics.HasError() {
		return
	}
	setID := state.ID.ValueString()
	ctx, cancel := operationContext(ctx, r.client, timeout, "clone_image", setID)
	defer cancel()
	summary := fmt.Sprintf("Updating Clone Image (%s)", setID)

	set, err := imageset.FindSet(ctx, r.client.EC2, setID)
	if err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}

	oldTags, diags := stringMap(ctx, state.TagsAll)
	resp.Diagnostics.Append(diags...)
	newTags, diags := stringMap(ctx, plan.TagsAll)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !maps.Equal(oldTags, newTags) {
		if err := imageset.Retag(ctx, r.client.EC2, set, newTags, oldTags); err != nil {
			resp.Diagnostics.AddError(summary, err.Error())
			return
		}
	}

	var known []string
	resp.Diagnostics.Append(state.PreviousImageIDs.ElementsAs(ctx, &known, false)...)
	current, haveCurrent := set.Lookup(state.ImageID.ValueString())
	history := imageset.History(set, current.ID, known)
	if plan.ImageID.IsUnknown() {
		baked, err := r.bake(ctx, setID, &plan)
		if err != nil {
			resp.Diagnostics.AddError(summary, fmt.Sprintf("baking a new image from %s: %s", plan.SourceInstanceID.ValueString(), err))
			return
		}
		if haveCurrent {
			history = append([]imageset.Image{current}, history...)
		}
		current, haveCurrent = baked, true
	}
	if !haveCurrent {
		resp.Diagnostics.AddError(summary, "the current image no longer exists and no re-bake was planned; run terraform apply again to re-bake")
		return
	}

	kept, err := imageset.Prune(ctx, r.client.EC2, history, int(plan.RetainPrevious.ValueInt64()))
	if err != nil {
		resp.Diagnostics.AddError(summary, fmt.Sprintf("pruning image history: %s", err))
		return
	}
	final := imageset.Set{ID: setID, Images: append([]imageset.Image{current}, kept...)}
	if err := r.deleteLeftoverSnapshots(ctx, final); err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	plan.setImages(current, kept)
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
	summary := fmt.Sprintf("Deleting Clone Image (%s)", setID)

	set, err := imageset.FindSet(ctx, r.client.EC2, setID)
	if err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	for _, img := range set.Images {
		tflog.Info(ctx, "deregistering image and deleting its snapshots", map[string]any{"image_id": img.ID, "snapshots": img.SnapshotIDs})
		if err := imageset.Delete(ctx, r.client.EC2, img); err != nil {
			resp.Diagnostics.AddError(summary, err.Error())
			return
		}
	}
	if err := r.deleteLeftoverSnapshots(ctx, imageset.Set{ID: setID}); err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
	}
}

// ImportState accepts the set id (cis-…) or the id of any AMI in the set.
func (r *CloneImageResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	ctx = r.client.Context(ctx)
	id := strings.TrimSpace(req.ID)
	var setID string
	switch {
	case imageSetIDRegexp.MatchString(id):
		setID = id
	case imageIDRegexp.MatchString(id):
		img, err := imageset.FindImage(ctx, r.client.EC2, id)
		if err != nil {
			resp.Diagnostics.AddError("Importing Clone Image", err.Error())
			return
		}
		setID = img.Tags[imageset.TagSet]
		if setID == "" {
			resp.Diagnostics.AddError("Importing Clone Image",
				fmt.Sprintf("image %s was not baked by clone_image: it has no %s tag", id, imageset.TagSet))
			return
		}
	default:
		resp.Diagnostics.AddError("Importing Clone Image",
			fmt.Sprintf("import id %q is neither an image set id (cis-…) nor an AMI id (ami-…)", id))
		return
	}
	set, err := imageset.FindSet(ctx, r.client.EC2, setID)
	if err != nil {
		resp.Diagnostics.AddError("Importing Clone Image", err.Error())
		return
	}
	if len(set.Images) == 0 {
		resp.Diagnostics.AddError("Importing Clone Image", fmt.Sprintf("image set %s has no images", setID))
		return
	}
	current := set.Images[0]
	model := cloneImageResourceModel{
		ID:               types.StringValue(setID),
		SourceInstanceID: types.StringValue(current.Tags[imageset.TagSource]),
		NamePrefix:       types.StringValue(current.Tags[imageset.TagNamePrefix]),
		NoReboot:         types.BoolValue(true),
		RetainPrevious:   types.Int64Value(2),
		Triggers:         types.MapNull(types.StringType),
		Tags:             types.MapNull(types.StringType),
		Description:      types.StringNull(),
		Timeouts:         timeouts.Value{Object: types.ObjectNull(timeoutsAttrTypes())},
	}
	if current.Description != "" {
		model.Description = types.StringValue(current.Description)
	}
	model.setImages(current, imageset.History(set, current.ID, nil))
	resp.Diagnostics.Append(resp.State.Set(ctx, model)...)
}

func (r *CloneImageResource) bake(ctx context.Context, setID string, plan *cloneImageResourceModel) (imageset.Image, error) {
	tags, diags := stringMap(ctx, plan.TagsAll)
	if diags.HasError() {
		return imageset.Image{}, errors.New("reading tags_all")
	}
	name := imageName(plan.NamePrefix.ValueString(), time.Now())
	tflog.Info(ctx, "baking image from the master", map[string]any{"source_instance_id": plan.SourceInstanceID.ValueString(), "name": name})
	return imageset.Bake(ctx, r.client.EC2, imageset.BakeInput{
		SetID:            setID,
		SourceInstanceID: plan.SourceInstanceID.ValueString(),
		Name:             name,
		NamePrefix:       plan.NamePrefix.ValueString(),
		Description:      plan.Description.ValueString(),
		NoReboot:         plan.NoReboot.ValueBool(),
		Tags:             tags,
		Progress: func(state string) {
			tflog.Info(ctx, "waiting for image to become available", map[string]any{"state": state})
		},
	})
}

func (r *CloneImageResource) deleteLeftoverSnapshots(ctx context.Context, set imageset.Set) error {
	left, err := imageset.FindLeftoverSnapshots(ctx, r.client.EC2, set)
	if err != nil {
		return err
	}
	if len(left) > 0 {
		tflog.Info(ctx, "deleting snapshots no image of the set uses", map[string]any{"snapshot_ids": left})
	}
	return imageset.DeleteSnapshots(ctx, r.client.EC2, left)
}

func newImageSetID() (string, error) {
	b := make([]byte, 9)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating image set id: %w", err)
	}
	return imageSetIDPrefix + hex.EncodeToString(b)[:17], nil
}

// imageName appends a UTC timestamp with milliseconds, so images baked in
// the same second still sort by name in baking order (CreationDate has
// one-second resolution), and a random suffix against collisions.
func imageName(prefix string, now time.Time) string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%s-%s", prefix, now.UTC().Format("20060102T150405.000Z"), hex.EncodeToString(b))
}

func imageIDs(images []imageset.Image) []string {
	ids := make([]string, 0, len(images))
	for _, img := range images {
		ids = append(ids, img.ID)
	}
	return ids
}

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

func (m *cloneImageResourceModel) setImages(current imageset.Image, history []imageset.Image) {
	m.ImageID = types.StringValue(current.ID)
	m.CreatedAt = types.StringValue(current.CreatedAt.UTC().Format(time.RFC3339))
	m.PreviousImageIDs = listValue(imageIDs(history))
	set := imageset.Set{Images: append([]imageset.Image{current}, history...)}
	m.SnapshotIDs = listValue(set.SnapshotIDs())
	if m.TagsAll.IsNull() || m.TagsAll.IsUnknown() {
		m.TagsAll = mapValue(imageset.UserTags(current.Tags))
	}
}
