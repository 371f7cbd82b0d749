package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
	"github.com/cloneserver/terraform-provider-clone/internal/syncstore"
	"github.com/cloneserver/terraform-provider-clone/internal/userdata"
)

func (r *ClonePoolResource) putTemplate(ctx context.Context, plan, prior *clonePoolResourceModel, in poolInput, master *pool.Master, tags map[string]string) error {
	name := plan.Name.ValueString()
	spec, err := r.templateSpec(ctx, plan, in, master)
	if err != nil {
		return err
	}
	id := ""
	if prior != nil && !prior.LaunchTemplateID.IsNull() {
		id = prior.LaunchTemplateID.ValueString()
	}
	if id == "" {
		found, err := pool.FindTemplateByName(ctx, r.client.EC2, pool.NamesFor(name).LaunchTemplate)
		switch {
		case err == nil:
			id = found
		case !errors.Is(err, pool.ErrNotFound):
			return err
		}
	}
	var t pool.Template
	if id == "" {
		tflog.Info(ctx, "creating launch template", map[string]any{"image_id": spec.ImageID})
		t, err = pool.CreateTemplate(ctx, r.client.EC2, pool.NamesFor(name).LaunchTemplate, spec, tags)
	} else {
		tflog.Info(ctx, "creating launch template version", map[string]any{"launch_template_id": id, "image_id": spec.ImageID})
		t, err = pool.CreateTemplateVersion(ctx, r.client.EC2, id, spec)
		if errors.Is(err, pool.ErrNotFound) {
			t, err = pool.CreateTemplate(ctx, r.client.EC2, pool.NamesFor(name).LaunchTemplate, spec, tags)
		}
	}
	if err != nil {
		return err
	}
	plan.LaunchTemplateID = types.StringValue(t.ID)
	plan.LaunchTemplateVersion = types.Int64Value(t.Version)
	return nil
}

func (r *ClonePoolResource) templateSpec(ctx context.Context, plan *clonePoolResourceModel, in poolInput, master *pool.Master) (pool.TemplateSpec, error) {
	parts, err := masterParts(plan.master(), master)
	if err != nil {
		return pool.TemplateSpec{}, err
	}
	if id := plan.SyncPolicyID.ValueString(); id != "" {
		part, err := r.syncAgentPart(ctx, plan.Name.ValueString(), id)
		if err != nil {
			return pool.TemplateSpec{}, err
		}
		parts = append(parts, part)
	}
	data, err := userdata.Render(parts, plan.UserData.ValueString())
	if err != nil {
		return pool.TemplateSpec{}, fmt.Errorf("assembling user data: %w", err)
	}
	if len(data) > userdata.Limit {
		sizes, err := userdata.Measure(parts, plan.UserData.ValueString())
		if err != nil {
			return pool.TemplateSpec{}, fmt.Errorf("assembling user data: %w", err)
		}
		return pool.TemplateSpec{}, errors.New(userDataTooLarge(sizes, false).msg)
	}
	root, size, err := pool.RootDevice(ctx, r.client.EC2, plan.ImageID.ValueString())
	if err != nil {
		return pool.TemplateSpec{}, err
	}
	return pool.TemplateSpec{
		ImageID:            plan.ImageID.ValueString(),
		InstanceType:       plan.InstanceType.ValueString(),
		KeyName:            plan.KeyName.ValueString(),
		IAMInstanceProfile: plan.IAMInstanceProfile.ValueString(),
		SecurityGroupIDs:   in.securityGroups,
		UserData:           string(data),
		RootDeviceName:     root,
		RootVolumeSize:     size,
	}, nil
}

// masterParts renders the master's cloud-init parts; templateSpec adds the
// sync agent's part.
func masterParts(pm *clonePoolMasterModel, master *pool.Master) ([]userdata.Part, error) {
	if pm == nil || master == nil {
		return nil, nil
	}
	var services []string
	for _, v := range pm.DisableServices.Elements() {
		if s, ok := v.(types.String); ok && !s.IsUnknown() {
			services = append(services, s.ValueString())
		}
	}
	parts, err := userdata.MasterParts(userdata.MasterSettings{
		Address:         master.PrivateIP,
		InstanceID:      master.ID,
		EnvFile:         pm.EnvFile.ValueString(),
		DisableServices: services,
	})
	if err != nil {
		return nil, fmt.Errorf("rendering the master's user data part: %w", err)
	}
	return parts, nil
}

// syncAgentPart renders the agent of a clone_sync_policy for this pool: it
// completes the pool's first-sync lifecycle hook after its first sync.
func (r *ClonePoolResource) syncAgentPart(ctx context.Context, poolName, policyID string) (userdata.Part, error) {
	p, err := syncstore.LoadPolicy(ctx, r.client.SSM, policyID)
	if err != nil {
		return userdata.Part{}, fmt.Errorf("loading sync policy %s: %w", policyID, err)
	}
	return poolAgentPart(poolName, p)
}

// placeholderAgentPart stands in at plan time for the agent of a sync
// policy not known yet: the agent this pool would carry with the shortest
// policy name, so the size check errs on the side of letting a plan pass.
func placeholderAgentPart(poolName string) (userdata.Part, error) {
	names := syncstore.NamesOf("x")
	return poolAgentPart(poolName, syncagent.Policy{
		Name:           "x",
		Interval:       syncagent.MinInterval,
		PathsParameter: names.PathsParameter,
		KeyParameter:   names.KeyParameter,
	}.WithDefaults())
}

func poolAgentPart(poolName string, p syncagent.Policy) (userdata.Part, error) {
	p.AutoScalingGroupName = pool.NamesFor(poolName).Group
	p.LifecycleHookName = firstSyncHookName(poolName)
	if err := p.Validate(); err != nil {
		return userdata.Part{}, fmt.Errorf("sync policy %s: %w", p.Name, err)
	}
	return userdata.Part{Filename: pool.SyncAgentPartFilename, ContentType: userdata.ContentTypeCloudConfig, Content: syncagent.RenderCloudInitPart(p)}, nil
}
