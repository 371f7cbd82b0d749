package pool

import (
	"context"
	"fmt"

	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/userdata"
)

// putTemplate makes the launch template version d describes: a new
// version of the pool's template, or the template itself when it has none.
func (a *applier) putTemplate(ctx context.Context) error {
	name := NamesFor(a.d.Name).LaunchTemplate
	spec, err := a.templateSpec(ctx)
	if err != nil {
		return err
	}
	id := a.obs.LaunchTemplateID
	if a.prior == nil && id != "" {
		// A create taking over the template an interrupted create left:
		// when its default version is what this create would write, the
		// clones that create launched are current, and a new version would
		// roll them all for nothing.
		left, err := a.c.FindTemplateVersion(ctx, id, "$Default")
		if err != nil && !notfound.Is(err) {
			return err
		}
		if err == nil && left.Spec.Equal(spec) {
			a.log(fmt.Sprintf("launch template %s: version %d, left by an interrupted create, is the one wanted", id, left.Version))
			a.obs.LaunchTemplateVersion = left.Version
			return nil
		}
	}
	var t Template
	if id == "" {
		a.log(fmt.Sprintf("creating launch template %s with image %s", name, spec.ImageID))
		t, err = a.c.CreateTemplate(ctx, name, spec, a.tags)
	} else {
		a.log(fmt.Sprintf("creating a version of launch template %s with image %s", id, spec.ImageID))
		t, err = a.c.CreateTemplateVersion(ctx, id, spec)
		if notfound.Is(err) {
			t, err = a.c.CreateTemplate(ctx, name, spec, a.tags)
		}
	}
	if err != nil {
		return err
	}
	a.obs.LaunchTemplateID, a.obs.LaunchTemplateVersion = t.ID, t.Version
	return nil
}

func (a *applier) templateSpec(ctx context.Context) (TemplateSpec, error) {
	in := a.d.Template
	var parts []userdata.Part
	if a.master != nil {
		var err error
		if parts, err = MasterParts(a.d.Master, *a.master); err != nil {
			return TemplateSpec{}, err
		}
	}
	if a.d.SyncAgent != nil {
		parts = append(parts, *a.d.SyncAgent)
	}
	data, err := userdata.Render(parts, in.UserData)
	if err != nil {
		return TemplateSpec{}, fmt.Errorf("assembling user data: %w", err)
	}
	if len(data) > userdata.Limit {
		sizes, err := userdata.Measure(parts, in.UserData)
		if err != nil {
			return TemplateSpec{}, fmt.Errorf("assembling user data: %w", err)
		}
		return TemplateSpec{}, sizes.Err(false)
	}
	root, size, err := a.c.RootDevice(ctx, in.ImageID)
	if err != nil {
		return TemplateSpec{}, err
	}
	return TemplateSpec{
		ImageID:            in.ImageID,
		InstanceType:       in.InstanceType,
		KeyName:            in.KeyName,
		IAMInstanceProfile: in.IAMInstanceProfile,
		SecurityGroupIDs:   in.SecurityGroupIDs,
		UserData:           string(data),
		RootDeviceName:     root,
		RootVolumeSize:     size,
	}, nil
}

// MasterParts renders the cloud-init parts the master block adds to the
// clones' user data (master address, env file, disabled services); none
// without a master block.
func MasterParts(m *MasterSettings, master Master) ([]userdata.Part, error) {
	if m == nil {
		return nil, nil
	}
	parts, err := userdata.MasterParts(userdata.MasterSettings{
		Address:         master.PrivateIP,
		InstanceID:      master.ID,
		EnvFile:         m.EnvFile,
		DisableServices: m.DisableServices,
	})
	if err != nil {
		return nil, fmt.Errorf("rendering the master's user data part: %w", err)
	}
	return parts, nil
}
