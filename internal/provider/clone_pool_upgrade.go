package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// clonePoolSchemaVersion is 1 since master, rolling_update and scaling are
// single nested blocks; version 0 stored each as a list of at most one.
const clonePoolSchemaVersion = 1

// clonePoolSingleBlocks are the blocks version 1 turned from lists of at
// most one element into single blocks.
func clonePoolSingleBlocks() map[string]schema.SingleNestedBlock {
	return map[string]schema.SingleNestedBlock{
		"master":         clonePoolMasterBlock(),
		"rolling_update": clonePoolRollingUpdateBlock(),
		"scaling":        clonePoolScalingBlock(),
	}
}

// clonePoolBlocks are the resource's blocks.
func clonePoolBlocks(ctx context.Context) map[string]schema.Block {
	blocks := map[string]schema.Block{
		"timeouts": timeouts.Block(ctx, timeouts.Opts{
			Create: true, Update: true, Delete: true,
			CreateDescription: "How long the create may take, until every clone is healthy in every attached load balancer (default `15m`).",
			UpdateDescription: "How long an update may take, every rollout batch, scale-in drain and rollback included (default `15m`): " +
				"a rollout of several batches needs more, about batches × (launch + health + deregistration delay).",
			DeleteDescription: "How long the destroy may take, draining every clone out of its load balancers included (default `15m`).",
		}),
	}
	for name, b := range clonePoolSingleBlocks() {
		blocks[name] = b
	}
	return blocks
}

var _ resource.ResourceWithUpgradeState = &ClonePoolResource{}

// UpgradeState upgrades a version 0 state: each single block becomes its
// list's one element, or null for an empty list.
func (r *ClonePoolResource) UpgradeState(ctx context.Context) map[int64]resource.StateUpgrader {
	var current resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &current)
	prior := clonePoolSchemaV0(current.Schema)
	return map[int64]resource.StateUpgrader{
		0: {PriorSchema: &prior, StateUpgrader: upgradeClonePoolStateV0},
	}
}

// clonePoolSchemaV0 is the current schema with the single blocks as the
// list blocks version 0 had; nothing else changed in version 1.
func clonePoolSchemaV0(s schema.Schema) schema.Schema {
	s.Blocks = maps.Clone(s.Blocks)
	for name, b := range clonePoolSingleBlocks() {
		s.Blocks[name] = schema.ListNestedBlock{NestedObject: schema.NestedBlockObject{Attributes: b.Attributes, Blocks: b.Blocks}}
	}
	s.Version = 0
	return s
}

func upgradeClonePoolStateV0(ctx context.Context, req resource.UpgradeStateRequest, resp *resource.UpgradeStateResponse) {
	raw, err := listsToSingleBlocks(req.State.Raw, resp.State.Schema.Type().TerraformType(ctx), slices.Collect(maps.Keys(clonePoolSingleBlocks())))
	if err != nil {
		resp.Diagnostics.AddError("Upgrading Clone Pool state from schema version 0", err.Error())
		return
	}
	resp.State.Raw = raw
}

// listsToSingleBlocks returns state, an object, as the type target, with
// the lists named by blocks replaced by their one element (null when
// empty).
func listsToSingleBlocks(state tftypes.Value, target tftypes.Type, blocks []string) (tftypes.Value, error) {
	var attrs map[string]tftypes.Value
	if err := state.As(&attrs); err != nil {
		return tftypes.Value{}, err
	}
	obj, ok := target.(tftypes.Object)
	if !ok {
		return tftypes.Value{}, fmt.Errorf("state type %s is not an object", target)
	}
	for _, name := range blocks {
		var elems []tftypes.Value
		if err := attrs[name].As(&elems); err != nil {
			return tftypes.Value{}, fmt.Errorf("%s: %w", name, err)
		}
		switch len(elems) {
		case 0:
			attrs[name] = tftypes.NewValue(obj.AttributeTypes[name], nil)
		case 1:
			attrs[name] = elems[0]
		default:
			return tftypes.Value{}, fmt.Errorf("%s holds %d blocks, at most 1 was allowed", name, len(elems))
		}
	}
	if err := tftypes.ValidateValue(target, attrs); err != nil {
		return tftypes.Value{}, err
	}
	return tftypes.NewValue(target, attrs), nil
}
