package provider

import (
	"context"
	"maps"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
)

func (r *CloneSyncPolicyResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	attributes := syncPolicyIdentityAttributes()
	maps.Copy(attributes, syncPolicyPathsAttributes())
	maps.Copy(attributes, syncPolicyAgentAttributes())
	maps.Copy(attributes, syncPolicyKeyAttributes())
	maps.Copy(attributes, syncPolicyTagsAttributes())
	maps.Copy(attributes, syncPolicyComputedAttributes())
	resp.Schema = schema.Schema{
		MarkdownDescription: "Mirrors directories from the master to every clone with rsync over SSH. " +
			"The provider generates an ed25519 key pair: the private key goes straight into an SSM SecureString " +
			"parameter and never into state, plan or logs; `authorized_key` is the public half, restricted to a " +
			"read-only `rrsync` below `sync_root` with no pty and no forwarding. Clones of a `clone_pool` with " +
			"`sync_policy_id` run an agent that reads the path list from SSM on every run, so changing " +
			"`paths` replaces nothing: the change is sent to the clones at once (\"sync now\", SSM Run Command to " +
			"instances tagged `clone:sync-policy = <name>`).",
		Attributes: attributes,
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{
				Create: true, Update: true, Delete: true,
				CreateDescription: "How long the create may take: the SSM parameters and document, and with `install_on_master` " +
					"the key's installation on the master (default `10m`).",
				UpdateDescription: "How long an update may take: a key rotation or re-installation on the master and the " +
					"\"sync now\" sent to the clones included (default `10m`).",
				DeleteDescription: "How long the destroy may take: revoking the key on the master (with `install_on_master`) " +
					"and deleting the SSM parameters and document (default `5m`).",
			}),
		},
	}
}

// syncPolicyIdentityAttributes: the policy and its master.
func syncPolicyIdentityAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"id": schema.StringAttribute{
			Computed:            true,
			MarkdownDescription: "The policy's name.",
			PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
		},
		"name": schema.StringAttribute{
			Required: true,
			MarkdownDescription: "Name of the policy: 1-64 letters, digits, `.`, `_` and `-`, starting with a letter or digit. " +
				"It names the SSM parameters (`/clone-sync/<name>/…`), the SSM document and the agent's systemd units. Changing it replaces the policy.",
			PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			Validators:    syncPolicyNameValidators(),
		},
		"master_instance_id": schema.StringAttribute{
			Required:            true,
			MarkdownDescription: "The master instance. Clones pull from its private IP address (`master_address`).",
			Validators:          syncMasterInstanceIDValidators(),
		},
	}
}

// syncPolicyPathsAttributes: what is mirrored.
func syncPolicyPathsAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"paths": schema.ListNestedAttribute{
			Required: true,
			MarkdownDescription: "Directories to mirror, 1 to 64. After a run, `destination` on every clone holds the contents of `source` " +
				"on the master. All sources must share a directory below `/` (`sync_root`): the key can read nothing outside it.",
			Validators: syncPathsValidators(),
			NestedObject: schema.NestedAttributeObject{
				Attributes: map[string]schema.Attribute{
					"source": schema.StringAttribute{
						Required:            true,
						MarkdownDescription: "Absolute directory on the master, without `..`, control characters or whitespace other than spaces.",
						Validators:          syncPathValidators(),
					},
					"destination": schema.StringAttribute{
						Required:            true,
						MarkdownDescription: "Absolute directory on the clone, same rules as `source`.",
						Validators:          syncPathValidators(),
					},
					"exclude": schema.ListAttribute{
						ElementType:         types.StringType,
						Optional:            true,
						MarkdownDescription: "Up to 100 rsync patterns to leave out (each a literal exclude rule). Excluded files are never deleted on the clone. Left out, none.",
						Validators:          syncExcludeValidators(),
					},
					"delete": schema.BoolAttribute{
						Optional:            true,
						Computed:            true,
						Default:             booldefault.StaticBool(false),
						MarkdownDescription: "Delete files on the clone that no longer exist on the master. Default `false`.",
					},
				},
			},
		},
	}
}

// syncPolicyAgentAttributes: how the clones' agent runs.
func syncPolicyAgentAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"interval": schema.StringAttribute{
			Optional:            true,
			Computed:            true,
			Default:             stringdefault.StaticString(defaultSyncInterval),
			MarkdownDescription: "Time between two syncs on a clone, as a Go duration (`5m`, `1h`). At least `1m`. Default `5m`.",
			Validators:          syncIntervalValidators(),
		},
		"bandwidth_limit_kbps": schema.Int64Attribute{
			Optional:            true,
			Computed:            true,
			Default:             int64default.StaticInt64(0),
			MarkdownDescription: "Bandwidth limit per clone in kilobits per second; `0` (default) is unlimited, otherwise 5 to 100000000.",
			Validators:          syncBandwidthValidators(),
		},
		"ssh_user": schema.StringAttribute{
			Optional:            true,
			Computed:            true,
			Default:             stringdefault.StaticString(syncagent.DefaultSSHUser),
			MarkdownDescription: "Account on the master the clones log in as. Default `clone-sync`.",
			Validators:          syncSSHUserValidators(),
		},
		"ssh_port": schema.Int64Attribute{
			Optional:            true,
			Computed:            true,
			Default:             int64default.StaticInt64(syncagent.DefaultSSHPort),
			MarkdownDescription: "SSH port of the master, 1 to 65535. Default `22`.",
			Validators:          syncSSHPortValidators(),
		},
	}
}

// syncPolicyKeyAttributes: the key pair, on the master and in SSM.
func syncPolicyKeyAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"install_on_master": schema.BoolAttribute{
			Optional: true,
			Computed: true,
			Default:  booldefault.StaticBool(false),
			MarkdownDescription: "Install `authorized_key` for `ssh_user` on the master through SSM Run Command (creating the " +
				"account if missing) and wait for it (within the create and update timeouts, default `10m`, and on destroy `5m`); re-installed on key rotation, revoked on destroy. The master needs " +
				"the SSM agent and `rrsync` (rsync 3.2.4 or later). Default `false`: install `authorized_key` yourself.",
		},
		"rotate_key_trigger": schema.StringAttribute{
			Optional: true,
			MarkdownDescription: "Any change generates a new key pair in place: the master's line is replaced (with " +
				"`install_on_master`), then the SSM parameter. Clones read the key on every run, so none is replaced. Left out, " +
				"the key pair changes only when `sync_root` moves.",
		},
		"kms_key_id": schema.StringAttribute{
			Optional: true,
			MarkdownDescription: "KMS key that encrypts the private key parameter: a key id, an alias (`alias/NAME`) or " +
				"the ARN of a key or alias. Default: the AWS-managed `aws/ssm` key. Clones decrypt the key on every run, so " +
				"their instance profile needs `kms:Decrypt` on this key (a customer managed key's policy must allow it too). " +
				"Changing it re-encrypts the same key in place: no new key pair, nothing on the master or the clones is " +
				"replaced; the apply needs `kms:Decrypt` on the old key and `kms:Encrypt` on the new one.",
			Validators: syncKMSKeyValidators(),
		},
	}
}

func syncPolicyTagsAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"tags": schema.MapAttribute{
			ElementType:         types.StringType,
			Optional:            true,
			MarkdownDescription: "Tags for the SSM parameters and document. Merged over the provider's `default_tags`; left out, only `default_tags`. " + tagsLimitsDescription,
			Validators:          tagsValidators(),
		},
		"tags_all": schema.MapAttribute{
			ElementType:         types.StringType,
			Computed:            true,
			MarkdownDescription: "`tags` merged over the provider's `default_tags`.",
		},
	}
}

// syncPolicyComputedAttributes: what the apply reports.
func syncPolicyComputedAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"master_address": schema.StringAttribute{
			Computed:            true,
			MarkdownDescription: "Private IP address of the master, which the agent connects to.",
		},
		"sync_root": schema.StringAttribute{
			Computed: true,
			MarkdownDescription: "The deepest directory holding every source: the key reads only below it. A change " +
				"of sources that moves it rotates the key.",
		},
		"authorized_key": schema.StringAttribute{
			Computed: true,
			MarkdownDescription: "The master's `authorized_keys` line for `ssh_user`: the public key, forced to run " +
				"`rrsync -ro <sync_root>`, with no pty, port, agent or X11 forwarding and no `~/.ssh/rc`. Not secret.",
		},
		"key_fingerprint": schema.StringAttribute{
			Computed:            true,
			MarkdownDescription: "SHA256 fingerprint of the current key, as `ssh-keygen -l` prints it.",
		},
		"agent_sha256": schema.StringAttribute{
			Computed: true,
			MarkdownDescription: "Hex SHA-256 of the sync agent this policy renders (a `#cloud-config` part: a systemd " +
				"timer running every `interval`, first sync at boot). The agent itself, about 14 KB, stays out of state " +
				"and plans; this hash changes whenever the agent does. Set a `clone_pool`'s `sync_agent_sha256` to it and " +
				"the plan that changes the agent also plans the pool's new launch template version and rollout; otherwise " +
				"a `clone_pool` with this `sync_policy_id` plans them on the next plan after this policy's apply.",
		},
		"private_key_parameter": schema.StringAttribute{
			Computed:            true,
			MarkdownDescription: "SSM SecureString parameter holding the private key. Clones need `ssm:GetParameter` on it and `kms:Decrypt` on its key (`kms_key_id`).",
		},
		"paths_parameter": schema.StringAttribute{
			Computed:            true,
			MarkdownDescription: "SSM parameter holding the path list the agent reads on every run.",
		},
		"policy_parameter": schema.StringAttribute{
			Computed:            true,
			MarkdownDescription: "SSM parameter holding the policy's settings, which `clone_pool` reads.",
		},
		"document_name": schema.StringAttribute{
			Computed:            true,
			MarkdownDescription: "SSM Command document that runs a sync now on a clone.",
		},
	}
}
