package provider

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/pool"
)

var (
	_ datasource.DataSource              = &ClonePoolDataSource{}
	_ datasource.DataSourceWithConfigure = &ClonePoolDataSource{}
)

// NewClonePoolDataSource is the clone_pool data source constructor.
func NewClonePoolDataSource() datasource.DataSource {
	return &ClonePoolDataSource{}
}

// ClonePoolDataSource reports the clones of a pool and their health.
type ClonePoolDataSource struct {
	client *conns.AWSClient
	cloud  pool.AWS
}

func (d *ClonePoolDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_pool"
}

func (d *ClonePoolDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	strings := func(desc string) schema.ListAttribute {
		return schema.ListAttribute{ElementType: types.StringType, Computed: true, MarkdownDescription: desc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "The clones of a `clone_pool`, their health in every load balancer the pool is attached to, which of them an " +
			"unfinished rollout left on an older launch template version, and the group's scaling policies and scheduled actions.",
		Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the pool.",
				Validators:          []validator.String{poolNameCheck},
			},
			"id":                 schema.StringAttribute{Computed: true, MarkdownDescription: "The pool name."},
			"launch_template_id": schema.StringAttribute{Computed: true, MarkdownDescription: "The pool's launch template."},
			"launch_template_version": schema.Int64Attribute{Computed: true, MarkdownDescription: "The launch template version the group launches, " +
				"a number as on the `clone_pool` resource (a group set to `$Latest` or `$Default` out of band reports the version that resolves to)."},
			"min_size":             schema.Int64Attribute{Computed: true, MarkdownDescription: "Fewest clones the group keeps."},
			"max_size":             schema.Int64Attribute{Computed: true, MarkdownDescription: "Most clones the group may run."},
			"desired_capacity":     schema.Int64Attribute{Computed: true, MarkdownDescription: "Clones the group aims to run."},
			"target_group_arns":    strings("Target groups the pool is attached to, sorted."),
			"classic_elb_names":    strings("Classic load balancers the pool is attached to, sorted."),
			"instance_ids":         strings("The clones in the group, sorted."),
			"healthy_instance_ids": strings("Clones healthy in every attached load balancer, sorted."),
			"healthy_count":        schema.Int64Attribute{Computed: true, MarkdownDescription: "How many clones are healthy in every attached load balancer."},
			"outdated_instance_ids": strings("Clones in service that do not run the launch template version the group launches (its image, " +
				"or its version where EC2 recorded it), sorted: what an interrupted or failed rollout left behind."),
			"scaling_policy_names":   strings("Scaling policies of the group, sorted, such as the pool's `<name>-cpu-target`."),
			"scheduled_action_names": strings("Scheduled actions of the group, sorted, such as the pool's `<name>-schedule-<key>`."),
			"unhealthy": schema.MapAttribute{
				ElementType:         types.ListType{ElemType: types.StringType},
				Computed:            true,
				MarkdownDescription: "For each clone not healthy everywhere, where and why: `[\"tg-web: unhealthy (Target.Timeout)\"]`.",
			},
		},
	}
}

func (d *ClonePoolDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	client, diags := clientFrom(req.ProviderData, "Data Source")
	resp.Diagnostics.Append(diags...)
	if client != nil {
		d.client, d.cloud = client, poolCloud(client)
	}
}

func (d *ClonePoolDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var data clonePoolDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = d.client.Context(ctx)
	name := data.Name.ValueString()
	summary := fmt.Sprintf("Reading Clone Pool (%s)", name)

	g, err := d.cloud.FindGroup(ctx, pool.NamesFor(name).Group)
	if notfound.Is(err) {
		resp.Diagnostics.AddError(summary, fmt.Sprintf("no clone pool named %q: its Auto Scaling group does not exist", name))
		return
	}
	if err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	report, err := d.cloud.Health(ctx, pool.Targets(g.TargetGroupARNs, g.ClassicELBNames))
	if err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	ids := g.ServingIDs()
	healthy := report.Healthy(ids)
	unhealthy := map[string]attr.Value{}
	for id, where := range report.Unhealthy(ids) {
		unhealthy[id] = listValue(where)
	}

	version, outdated, err := d.templateVersion(ctx, g)
	if err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	policies, err := d.cloud.ListPolicyNames(ctx, g.Name)
	if err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	schedules, err := d.cloud.ListSchedules(ctx, g.Name, "")
	if err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	scheduleNames := make([]string, 0, len(schedules))
	for _, s := range schedules {
		scheduleNames = append(scheduleNames, s.Name)
	}

	data.ID = types.StringValue(name)
	data.LaunchTemplateID = types.StringValue(g.LaunchTemplateID)
	data.LaunchTemplateVersion = version
	data.MinSize = types.Int64Value(g.MinSize)
	data.MaxSize = types.Int64Value(g.MaxSize)
	data.DesiredCapacity = types.Int64Value(g.DesiredCapacity)
	data.TargetGroupARNs = listValue(slices.Sorted(slices.Values(g.TargetGroupARNs)))
	data.ClassicELBNames = listValue(slices.Sorted(slices.Values(g.ClassicELBNames)))
	data.InstanceIDs = listValue(ids)
	data.HealthyInstanceIDs = listValue(healthy)
	data.HealthyCount = types.Int64Value(int64(len(healthy)))
	data.Unhealthy = types.MapValueMust(types.ListType{ElemType: types.StringType}, unhealthy)
	data.OutdatedInstanceIDs = listValue(outdated)
	data.ScalingPolicyNames = listValue(policies)
	data.ScheduledActionNames = listValue(scheduleNames)
	resp.Diagnostics.Append(resp.State.Set(ctx, data)...)
}

type clonePoolDataSourceModel struct {
	Name                  types.String `tfsdk:"name"`
	ID                    types.String `tfsdk:"id"`
	LaunchTemplateID      types.String `tfsdk:"launch_template_id"`
	LaunchTemplateVersion types.Int64  `tfsdk:"launch_template_version"`
	MinSize               types.Int64  `tfsdk:"min_size"`
	MaxSize               types.Int64  `tfsdk:"max_size"`
	DesiredCapacity       types.Int64  `tfsdk:"desired_capacity"`
	TargetGroupARNs       types.List   `tfsdk:"target_group_arns"`
	ClassicELBNames       types.List   `tfsdk:"classic_elb_names"`
	InstanceIDs           types.List   `tfsdk:"instance_ids"`
	HealthyInstanceIDs    types.List   `tfsdk:"healthy_instance_ids"`
	HealthyCount          types.Int64  `tfsdk:"healthy_count"`
	Unhealthy             types.Map    `tfsdk:"unhealthy"`
	OutdatedInstanceIDs   types.List   `tfsdk:"outdated_instance_ids"`
	ScalingPolicyNames    types.List   `tfsdk:"scaling_policy_names"`
	ScheduledActionNames  types.List   `tfsdk:"scheduled_action_names"`
}

// templateVersion reads the launch template version the group launches, as
// a number, and the clones in service that do not run it.
func (d *ClonePoolDataSource) templateVersion(ctx context.Context, g pool.Group) (types.Int64, []string, error) {
	version := templateVersionNumber(g.LaunchTemplateVersion)
	if g.LaunchTemplateID == "" {
		return version, nil, nil
	}
	tmpl, err := d.cloud.FindTemplateVersion(ctx, g.LaunchTemplateID, g.LaunchTemplateVersion)
	if notfound.Is(err) {
		tflog.Warn(ctx, "the launch template version the group launches no longer exists: outdated_instance_ids stays empty",
			map[string]any{"launch_template_id": g.LaunchTemplateID, "version": g.LaunchTemplateVersion})
		return version, nil, nil
	}
	if err != nil {
		return version, nil, err
	}
	outdated, err := d.cloud.OutdatedIDs(ctx, g, tmpl)
	return types.Int64Value(tmpl.Version), outdated, err
}

// templateVersionNumber is the group's launch template version as a number,
// null for "$Latest", "$Default" or no template: AWS accepts those names in
// a LaunchTemplateSpecification, the provider itself always sets a number.
func templateVersionNumber(v string) types.Int64 {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return types.Int64Null()
	}
	return types.Int64Value(n)
}
