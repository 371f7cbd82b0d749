package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/imageset"
	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
)

var (
	_ datasource.DataSource                     = &CloneImageDataSource{}
	_ datasource.DataSourceWithConfigure        = &CloneImageDataSource{}
	_ datasource.DataSourceWithConfigValidators = &CloneImageDataSource{}
)

// NewCloneImageDataSource is the clone_image data source constructor.
func NewCloneImageDataSource() datasource.DataSource {
	return &CloneImageDataSource{}
}

// CloneImageDataSource finds the latest image of a set or with a name prefix.
type CloneImageDataSource struct {
	client *conns.AWSClient
}

func (d *CloneImageDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_image"
}

func (d *CloneImageDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The newest image of a `clone_image` set, or the newest image you own whose name starts with `name_prefix`. " +
			"No available image matching is an error (`No matching Clone Image`), so the data source fails on a cloud without such an image.",
		Attributes: map[string]schema.Attribute{
			"set_id": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: "Image set id (`clone_image.x.id`). Exactly one of `set_id` and `name_prefix`. Left out, it reports the set of the image found by `name_prefix` (empty when the image belongs to no set).",
				Validators:          cloneImageDataSourceSetIDValidators(),
			},
			"name_prefix": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Match images you own whose name starts with this prefix. Exactly one of `set_id` and `name_prefix`.",
				Validators:          cloneImageDataSourceNamePrefixValidators(),
			},
			"id":                 schema.StringAttribute{Computed: true, MarkdownDescription: "The image id."},
			"image_id":           schema.StringAttribute{Computed: true, MarkdownDescription: "The newest matching image (AMI id)."},
			"name":               schema.StringAttribute{Computed: true, MarkdownDescription: "Its name."},
			"description":        schema.StringAttribute{Computed: true, MarkdownDescription: "Its description."},
			"source_instance_id": schema.StringAttribute{Computed: true, MarkdownDescription: "The instance it was baked from, when baked by `clone_image`."},
			"created_at":         schema.StringAttribute{Computed: true, MarkdownDescription: "Creation time (RFC 3339)."},
			"snapshot_ids":       schema.ListAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: "Snapshots backing it."},
			"tags":               schema.MapAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: "Its tags."},
		},
	}
}

func (d *CloneImageDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("set_id"), path.MatchRoot("name_prefix")),
	}
}

func (d *CloneImageDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	client, diags := clientFrom(req.ProviderData, "Data Source")
	resp.Diagnostics.Append(diags...)
	d.client = client
}

func (d *CloneImageDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var data cloneImageDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = d.client.Context(ctx)

	var (
		newest imageset.Image
		what   string
		err    error
	)
	if setID := data.SetID.ValueString(); setID != "" {
		what = "in image set " + setID
		var set imageset.Observed
		set, err = imageset.Latest(ctx, d.client.EC2, setID)
		newest = set.Current
	} else {
		prefix := data.NamePrefix.ValueString()
		what = fmt.Sprintf("you own whose name starts with %q", prefix)
		newest, err = imageset.FindNewestByName(ctx, d.client.EC2, prefix)
	}
	if err != nil && !notfound.Is(err) {
		resp.Diagnostics.AddError("Reading Clone Image data source", err.Error())
		return
	}
	if newest.ID == "" {
		resp.Diagnostics.AddError("No matching Clone Image", fmt.Sprintf("Found no available image %s.", what))
		return
	}
	data.ID = types.StringValue(newest.ID)
	data.ImageID = types.StringValue(newest.ID)
	data.Name = types.StringValue(newest.Name)
	data.Description = types.StringValue(newest.Description)
	data.SourceInstanceID = types.StringValue(newest.SourceInstanceID())
	data.CreatedAt = types.StringValue(newest.CreatedAt.UTC().Format(time.RFC3339))
	data.SnapshotIDs = listValue(newest.SnapshotIDs)
	data.Tags = mapValue(newest.Tags)
	if data.SetID.IsNull() {
		data.SetID = types.StringValue(newest.SetID())
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &data)...)
}

type cloneImageDataSourceModel struct {
	SetID            types.String `tfsdk:"set_id"`
	NamePrefix       types.String `tfsdk:"name_prefix"`
	ID               types.String `tfsdk:"id"`
	ImageID          types.String `tfsdk:"image_id"`
	Name             types.String `tfsdk:"name"`
	Description      types.String `tfsdk:"description"`
	SourceInstanceID types.String `tfsdk:"source_instance_id"`
	CreatedAt        types.String `tfsdk:"created_at"`
	SnapshotIDs      types.List   `tfsdk:"snapshot_ids"`
	Tags             types.Map    `tfsdk:"tags"`
}
