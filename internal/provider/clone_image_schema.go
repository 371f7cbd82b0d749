package provider

import (
	"context"
	"maps"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func cloneImageSchema(ctx context.Context) schema.Schema {
	attributes := map[string]schema.Attribute{}
	for _, part := range []map[string]schema.Attribute{
		cloneImageBakeAttributes(),
		cloneImageTagsAttributes(),
		cloneImageComputedAttributes(),
	} {
		maps.Copy(attributes, part)
	}
	return schema.Schema{
		MarkdownDescription: "Bakes the master server into an AMI and keeps a history of earlier images for rollback. " +
			"A change of `triggers` or `source_instance_id` re-bakes in place: the new image is made first, the old " +
			"current image moves into `previous_image_ids`, and images beyond `retain_previous` are deregistered " +
			"together with their snapshots, except an image that an Auto Scaling group's launch template version " +
			"or a running instance still uses: that one is kept, stays in `previous_image_ids`, the apply warns " +
			"naming its users, and the first re-bake after it is unused prunes it. Destroy leaves no image and no " +
			"snapshot of the set.",
		Attributes: attributes,
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{
				Create: true, Update: true, Delete: true,
				CreateDescription: "How long baking the first image may take, until it is `available` (default `40m`).",
				UpdateDescription: "How long a re-bake and the pruning of older images may take (default `40m`).",
				DeleteDescription: "How long deregistering every image of the set and deleting its snapshots may take (default `20m`).",
			}),
		},
	}
}

// cloneImageBakeAttributes are what each bake and the history follow.
func cloneImageBakeAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"source_instance_id": schema.StringAttribute{
			Required:            true,
			MarkdownDescription: "The master instance to bake. Changing it bakes a new image from the new instance, in place.",
			Validators:          cloneImageSourceInstanceIDValidators(),
		},
		"name_prefix": schema.StringAttribute{
			Required: true,
			MarkdownDescription: "Prefix of each image's name; a UTC timestamp and a short random suffix are appended. " +
				"Up to 100 characters of letters, digits, spaces and `( ) [ ] . / - ' @ _`.",
			Validators: cloneImageNamePrefixValidators(),
		},
		"description": schema.StringAttribute{
			Optional:            true,
			MarkdownDescription: "Description of each new image, up to 255 characters. Left out, the images have none.",
			Validators:          cloneImageDescriptionValidators(),
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
			MarkdownDescription: "Arbitrary values; any change re-bakes the image in place (for example a release version or a content hash). Left out, only a change of `source_instance_id` re-bakes.",
		},
		"retain_previous": schema.Int64Attribute{
			Optional:            true,
			Computed:            true,
			Default:             int64default.StaticInt64(2),
			MarkdownDescription: "How many earlier images to keep for rollback, 0 to 50 (default 2). Older ones are deregistered and their snapshots deleted, unless still in use.",
			Validators:          cloneImageRetainPreviousValidators(),
		},
	}
}

func cloneImageTagsAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"tags": schema.MapAttribute{
			ElementType:         types.StringType,
			Optional:            true,
			MarkdownDescription: "Tags for every image and snapshot of the set. Merged over the provider's `default_tags`; left out, only `default_tags`. " + tagsLimitsDescription,
			Validators:          tagsValidators(),
		},
		"tags_all": schema.MapAttribute{
			ElementType:         types.StringType,
			Computed:            true,
			MarkdownDescription: "`tags` merged over the provider's `default_tags`.",
		},
	}
}

// cloneImageComputedAttributes describe the set as the last apply left it.
func cloneImageComputedAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"id": schema.StringAttribute{
			Computed:            true,
			MarkdownDescription: "Id of the image set (`cis-…`). Every image and snapshot of the set carries it in the `clone:image-set` tag.",
			PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
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
	}
}
