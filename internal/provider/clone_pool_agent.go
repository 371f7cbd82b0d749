package provider

import (
	"context"
	"fmt"

	"github.com/cloneserver/terraform-provider-clone/internal/pool"
	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
	"github.com/cloneserver/terraform-provider-clone/internal/syncstore"
	"github.com/cloneserver/terraform-provider-clone/internal/userdata"
)

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
	group := pool.NamesFor(poolName).Group
	p.AutoScalingGroupName = group
	p.LifecycleHookName = pool.FirstSyncHookName(group)
	if err := p.Validate(); err != nil {
		return userdata.Part{}, fmt.Errorf("sync policy %s: %w", p.Name, err)
	}
	return userdata.Part{Filename: userdata.SyncAgentFilename, ContentType: userdata.ContentTypeCloudConfig, Content: syncagent.RenderCloudInitPart(p)}, nil
}
