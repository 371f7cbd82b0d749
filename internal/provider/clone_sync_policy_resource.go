package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/cloneserver/terraform-provider-clone/internal/conns"
	"github.com/cloneserver/terraform-provider-clone/internal/notfound"
	"github.com/cloneserver/terraform-provider-clone/internal/syncagent"
	"github.com/cloneserver/terraform-provider-clone/internal/syncstore"
	"github.com/cloneserver/terraform-provider-clone/internal/wait"
)

const (
	defaultSyncPolicyTimeout       = 10 * time.Minute
	defaultSyncPolicyDeleteTimeout = 5 * time.Minute
	defaultSyncInterval            = "5m"
	masterLookupTimeout            = 30 * time.Second
)

var (
	_ resource.Resource                   = &CloneSyncPolicyResource{}
	_ resource.ResourceWithConfigure      = &CloneSyncPolicyResource{}
	_ resource.ResourceWithImportState    = &CloneSyncPolicyResource{}
	_ resource.ResourceWithModifyPlan     = &CloneSyncPolicyResource{}
	_ resource.ResourceWithValidateConfig = &CloneSyncPolicyResource{}
)

// NewCloneSyncPolicyResource is the clone_sync_policy constructor.
func NewCloneSyncPolicyResource() resource.Resource {
	return &CloneSyncPolicyResource{}
}

// CloneSyncPolicyResource keeps the clones' files in sync with the master.
type CloneSyncPolicyResource struct {
	client *conns.AWSClient
}

func (r *CloneSyncPolicyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_sync_policy"
}

func (r *CloneSyncPolicyResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Mirrors directories from the master to every clone with rsync over SSH. " +
			"The provider generates an ed25519 key pair: the private key goes straight into an SSM SecureString " +
			"parameter and never into state, plan or logs; `authorized_key` is the public half, restricted to a " +
			"read-only `rrsync` below `sync_root` with no pty and no forwarding. Clones run an agent (`user_data`, " +
			"or a `clone_pool` with `sync_policy_id`) that reads the path list from SSM on every run, so changing " +
			"`paths` replaces nothing: the change is sent to the clones at once (\"sync now\", SSM Run Command to " +
			"instances tagged `clone:sync-policy = <name>`).",
		Attributes: map[string]schema.Attribute{
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
				Validators:    []validator.String{stringCheck{"Invalid sync policy name", "must be a valid sync policy name", syncagent.ValidateName}},
			},
			"master_instance_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The master instance. Clones pull from its private IP address (`master_address`).",
				Validators:          []validator.String{stringvalidator.RegexMatches(instanceIDRegexp, "must be an EC2 instance id such as i-0123456789abcdef0")},
			},
			"paths": schema.ListNestedAttribute{
				Required: true,
				MarkdownDescription: "Directories to mirror. After a run, `destination` on every clone holds the contents of `source` " +
					"on the master. All sources must share a directory below `/` (`sync_root`): the key can read nothing outside it.",
				Validators: []validator.List{listvalidator.SizeBetween(1, 64)},
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"source": schema.StringAttribute{
							Required:            true,
							MarkdownDescription: "Absolute directory on the master, without `..`, control characters or whitespace other than spaces.",
							Validators:          []validator.String{stringCheck{"Invalid sync path", "must be an absolute path without '..' or control characters", syncagent.ValidatePath}},
						},
						"destination": schema.StringAttribute{
							Required:            true,
							MarkdownDescription: "Absolute directory on the clone, same rules as `source`.",
							Validators:          []validator.String{stringCheck{"Invalid sync path", "must be an absolute path without '..' or control characters", syncagent.ValidatePath}},
						},
						"exclude": schema.ListAttribute{
							ElementType:         types.StringType,
							Optional:            true,
							MarkdownDescription: "rsync patterns to leave out (each a literal exclude rule). Excluded files are never deleted on the clone.",
							Validators: []validator.List{
								listvalidator.SizeAtMost(100),
								listvalidator.ValueStringsAre(stringCheck{"Invalid exclude pattern", "must be a non-empty pattern without NUL, newline or carriage return", syncagent.ValidateExclude}),
							},
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
			"interval": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(defaultSyncInterval),
				MarkdownDescription: "Time between two syncs on a clone, as a Go duration (`5m`, `1h`). At least `1m`. Default `5m`.",
				Validators:          []validator.String{durationBetween(syncagent.MinInterval, 0)},
			},
			"bandwidth_limit_kbps": schema.Int64Attribute{
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(0),
				MarkdownDescription: "Bandwidth limit per clone in kilobits per second; `0` (default) is unlimited, otherwise at least 5.",
				Validators: []validator.Int64{int64validator.Any(
					int64validator.OneOf(0),
					int64validator.Between(syncagent.MinBandwidthLimitKbps, 100_000_000),
				)},
			},
			"ssh_user": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(syncagent.DefaultSSHUser),
				MarkdownDescription: "Account on the master the clones log in as. Default `clone-sync`.",
				Validators:          []validator.String{stringCheck{"Invalid SSH user", "must be a POSIX user name", syncagent.ValidateSSHUser}},
			},
			"ssh_port": schema.Int64Attribute{
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(syncagent.DefaultSSHPort),
				MarkdownDescription: "SSH port of the master. Default `22`.",
				Validators:          []validator.Int64{int64validator.Between(1, 65535)},
			},
			"install_on_master": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(false),
				MarkdownDescription: "Install `authorized_key` for `ssh_user` on the master through SSM Run Command (creating the " +
					"account if missing) and wait for it; re-installed on key rotation, revoked on destroy. The master needs " +
					"the SSM agent and `rrsync` (rsync 3.2.4 or later). Default `false`: install `authorized_key` yourself.",
			},
			"rotate_key_trigger": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Any change generates a new key pair in place: the master's line is replaced (with " +
					"`install_on_master`), then the SSM parameter. Clones read the key on every run, so none is replaced.",
			},
			"kms_key_id": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "KMS key that encrypts the private key parameter: a key id, an alias (`alias/NAME`) or " +
					"the ARN of a key or alias. Default: the AWS-managed `aws/ssm` key. Clones decrypt the key on every run, so " +
					"their instance profile needs `kms:Decrypt` on this key (a customer managed key's policy must allow it too). " +
					"Changing it re-encrypts the same key in place: no new key pair, nothing on the master or the clones is " +
					"replaced; the apply needs `kms:Decrypt` on the old key and `kms:Encrypt` on the new one.",
				Validators: []validator.String{stringCheck{"Invalid KMS key", "must be a KMS key id, alias or ARN", syncstore.ValidateKMSKeyID}},
			},
			"tags": schema.MapAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "Tags for the SSM parameters and document. Merged over the provider's `default_tags`.",
				Validators:          tagsValidators(),
			},
			"tags_all": schema.MapAttribute{
				ElementType:         types.StringType,
				Computed:            true,
				MarkdownDescription: "`tags` merged over the provider's `default_tags`.",
			},
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
			"user_data": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "A `#cloud-config` part that installs the agent on a stand-alone clone (a systemd " +
					"timer running every `interval`, first sync at boot). `clone_pool` renders its own with a lifecycle hook.",
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
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func (r *CloneSyncPolicyResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	client, diags := clientFrom(req.ProviderData, "Resource")
	resp.Diagnostics.Append(diags...)
	r.client = client
}

// ValidateConfig checks what single attributes cannot: that the sources
// share a root, and that the whole policy renders. Values that fail their
// own validators are left to those.
func (r *CloneSyncPolicyResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg cloneSyncPolicyResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	paths, known, diags := expandSyncPaths(ctx, cfg.Paths)
	resp.Diagnostics.Append(diags...)
	if !known || diags.HasError() || len(paths) == 0 {
		return
	}
	for _, p := range paths {
		if syncagent.ValidatePath(p.Source) != nil || syncagent.ValidatePath(p.Destination) != nil {
			return
		}
		for _, e := range p.Exclude {
			if syncagent.ValidateExclude(e) != nil {
				return
			}
		}
	}
	if err := syncagent.ValidatePaths(paths); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("paths"), "Invalid sync paths", fmt.Sprintf("paths: %s.", err))
		return
	}

	p, ok := cfg.agentPolicy("")
	if !ok {
		return
	}
	if syncagent.ValidateName(p.Name) != nil || syncagent.ValidateSSHUser(p.SSHUser) != nil ||
		syncagent.ValidateInterval(p.Interval) != nil {
		return
	}
	if err := p.Validate(); err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Invalid Clone Sync Policy (%s)", p.Name), err.Error())
	}
}

func (r *CloneSyncPolicyResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan cloneSyncPolicyResourceModel
	var state *cloneSyncPolicyResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}

	plan.ID = plan.Name
	if plan.Name.IsUnknown() {
		plan.PrivateKeyParameter, plan.PathsParameter = types.StringUnknown(), types.StringUnknown()
		plan.PolicyParameter, plan.DocumentName = types.StringUnknown(), types.StringUnknown()
	} else {
		plan.setNames(syncstore.NamesOf(plan.Name.ValueString()))
	}

	if r.client != nil || plan.Tags.IsUnknown() {
		tagsAll, diags := plannedTagsAll(ctx, r.client, plan.Tags)
		resp.Diagnostics.Append(diags...)
		plan.TagsAll = tagsAll
	}

	root := types.StringUnknown()
	if paths, known, _ := expandSyncPaths(ctx, plan.Paths); known {
		if rt, err := syncagent.SyncRoot(syncagent.Sources(paths)); err == nil {
			root = types.StringValue(rt)
		}
	}
	plan.SyncRoot = root

	plan.MasterAddress = types.StringUnknown()
	plan.AuthorizedKey = types.StringUnknown()
	plan.KeyFingerprint = types.StringUnknown()
	if state != nil {
		if plan.MasterInstanceID.Equal(state.MasterInstanceID) && !state.MasterAddress.IsNull() {
			plan.MasterAddress = state.MasterAddress
		}
		rotate := state.KeyFingerprint.IsNull() || state.AuthorizedKey.IsNull() ||
			!plan.RotateKeyTrigger.Equal(state.RotateKeyTrigger) || !root.Equal(state.SyncRoot)
		if !rotate {
			plan.AuthorizedKey = state.AuthorizedKey
			plan.KeyFingerprint = state.KeyFingerprint
		}
	}
	plan.UserData = plan.renderUserData()
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

func (r *CloneSyncPolicyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan cloneSyncPolicyResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultSyncPolicyTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := plan.Name.ValueString()
	ctx, cancel := operationContext(ctx, r.client, timeout, "clone_sync_policy", name)
	defer cancel()
	summary := fmt.Sprintf("Creating Clone Sync Policy (%s)", name)

	if err := r.apply(ctx, &plan, nil, &resp.Diagnostics); err != nil {
		resp.Diagnostics.AddError(summary, err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *CloneSyncPolicyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state cloneSyncPolicyResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.ID.ValueString()
	ctx = tflog.SetField(r.client.Context(ctx), "clone_sync_policy", name)

	found, err := r.read(ctx, name, &state)
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Reading Clone Sync Policy (%s)", name), err.Error())
		return
	}
	if !found {
		tflog.Warn(ctx, "sync policy no longer exists; removing it from state")
		resp.State.RemoveResource(ctx)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *CloneSyncPolicyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state cloneSyncPolicyResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultSyncPolicyTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.ID.ValueString()
	ctx, cancel := operationContext(ctx, r.client, timeout, "clone_sync_policy", name)
	defer cancel()

	if err := r.apply(ctx, &plan, &state, &resp.Diagnostics); err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Updating Clone Sync Policy (%s)", name), err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *CloneSyncPolicyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state cloneSyncPolicyResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, defaultSyncPolicyDeleteTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.ID.ValueString()
	ctx, cancel := operationContext(ctx, r.client, timeout, "clone_sync_policy", name)
	defer cancel()

	if state.InstallOnMaster.ValueBool() {
		r.revoke(ctx, name, state.MasterInstanceID.ValueString(), state.SSHUser.ValueString(), state.AuthorizedKey.ValueString(), &resp.Diagnostics)
	}
	tflog.Info(ctx, "deleting the sync policy's SSM document and parameters")
	if err := syncstore.Delete(ctx, r.client.SSM, name); err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Deleting Clone Sync Policy (%s)", name), err.Error())
	}
}

// ImportState takes the policy's name; everything else is read from SSM.
func (r *CloneSyncPolicyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	name := strings.TrimSpace(req.ID)
	if err := syncagent.ValidateName(name); err != nil {
		resp.Diagnostics.AddError("Importing Clone Sync Policy", fmt.Sprintf("import id must be the policy's name: %s", err))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), name)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), name)...)
}

// apply brings SSM, the master and the clones to plan; state is nil on
// create. It fills plan's computed values.
func (r *CloneSyncPolicyResource) apply(ctx context.Context, plan, state *cloneSyncPolicyResourceModel, diags *diag.Diagnostics) (err error) {
	name := plan.Name.ValueString()
	api := r.client.SSM
	paths, _, d := expandSyncPaths(ctx, plan.Paths)
	diags.Append(d...)
	tags, d := stringMap(ctx, plan.TagsAll)
	diags.Append(d...)
	if diags.HasError() {
		return errors.New("reading the planned paths and tags")
	}
	root, err := syncagent.SyncRoot(syncagent.Sources(paths))
	if err != nil {
		return err
	}

	var old syncstore.Record
	if state != nil {
		if old, err = syncstore.FindRecord(ctx, api, name); err != nil {
			return err
		}
	}
	masterMoved := state == nil || !plan.MasterInstanceID.Equal(state.MasterInstanceID)
	userMoved := state != nil && !plan.SSHUser.Equal(state.SSHUser)
	address := old.MasterAddress
	if masterMoved || plan.MasterAddress.IsUnknown() {
		if address, err = r.findMasterAddress(ctx, plan.MasterInstanceID.ValueString()); err != nil {
			return err
		}
	}

	rotate := state == nil || plan.KeyFingerprint.IsUnknown()
	if !rotate && old.SyncRoot != root {
		return fmt.Errorf("the key %s was issued for sync root %s, not %s: refresh and plan again so that the new root gets a new key", old.KeyFingerprint, old.SyncRoot, root)
	}
	var privateKey []byte
	publicKey, fingerprint := old.PublicKey, old.KeyFingerprint
	if rotate {
		tflog.Info(ctx, "generating a new ed25519 key pair")
		if privateKey, publicKey, err = syncagent.GenerateKey(); err != nil {
			return err
		}
		if fingerprint, err = syncagent.KeyFingerprint(publicKey); err != nil {
			return err
		}
	}
	line := syncagent.AuthorizedKeyLine(publicKey, []string{root})
	pathsDoc, err := syncagent.PathsJSON(paths, fingerprint)
	if err != nil {
		return err
	}

	names := syncstore.NamesOf(name)
	rec := syncstore.Record{
		Version:             syncstore.RecordVersion,
		Name:                name,
		MasterInstanceID:    plan.MasterInstanceID.ValueString(),
		MasterAddress:       address,
		SSHUser:             plan.SSHUser.ValueString(),
		SSHPort:             int(plan.SSHPort.ValueInt64()),
		Interval:            plan.Interval.ValueString(),
		BandwidthLimitKbps:  int(plan.BandwidthLimitKbps.ValueInt64()),
		InstallOnMaster:     plan.InstallOnMaster.ValueBool(),
		RotateKeyTrigger:    plan.RotateKeyTrigger.ValueStringPointer(),
		PublicKey:           publicKey,
		KeyFingerprint:      fingerprint,
		KeyParameterVersion: old.KeyParameterVersion,
		KMSKeyID:            plan.KMSKeyID.ValueString(),
		SyncRoot:            root,
		KeyParameter:        names.KeyParameter,
		PathsParameter:      names.PathsParameter,
		DocumentName:        names.Document,
	}
	policy, err := rec.Policy(paths)
	if err != nil {
		return err
	}

	if state == nil {
		if err := syncstore.CreateRecord(ctx, api, rec, tags); err != nil {
			if errors.Is(err, syncstore.ErrAlreadyExists) {
				return fmt.Errorf("a sync policy named %s already exists (%w); import it with terraform import", name, err)
			}
			return err
		}
		installed := false
		defer func() {
			if err == nil {
				return
			}
			tflog.Warn(ctx, "creation failed; removing what was created", map[string]any{"error": err.Error()})
			if installed {
				r.revoke(ctx, name, rec.MasterInstanceID, rec.SSHUser, line, diags)
			}
			if derr := syncstore.Delete(ctx, api, name); derr != nil {
				diags.AddWarning(fmt.Sprintf("Cleaning up Clone Sync Policy (%s)", name), derr.Error())
			}
		}()
		if rec.InstallOnMaster {
			if err := r.install(ctx, name, rec.MasterInstanceID, rec.SSHUser, line, nil); err != nil {
				return err
			}
			installed = true
		}
	} else {
		if state.InstallOnMaster.ValueBool() && (masterMoved || userMoved || !rec.InstallOnMaster) {
			r.revoke(ctx, name, state.MasterInstanceID.ValueString(), state.SSHUser.ValueString(), old.PublicKey, diags)
		}
		if rec.InstallOnMaster && (rotate || masterMoved || userMoved || !state.InstallOnMaster.ValueBool()) {
			var revoke []string
			if blob, err := syncagent.KeyBlob(old.PublicKey); err == nil && rotate {
				revoke = append(revoke, blob)
			}
			if err := r.install(ctx, name, rec.MasterInstanceID, rec.SSHUser, line, revoke); err != nil {
				return err
			}
		}
	}

	// The path list names its key's fingerprint, and the agent refuses any
	// other key, so each state between these writes is consistent or
	// refused: new list and old key, or (for an agent that read the list
	// just before this write) old list and new key, never sync. Paths go
	// first so that a failure between the writes leaves a list that
	// differs from the policy parameter, which read reports as drift.
	pathsChanged, err := syncstore.PutPaths(ctx, api, name, pathsDoc)
	if err != nil {
		return err
	}
	kmsKey := syncstore.EffectiveKMSKeyID(rec.KMSKeyID)
	switch {
	case rotate:
		tflog.Info(ctx, "writing the private key to its SecureString parameter", map[string]any{"parameter": names.KeyParameter, "key_fingerprint": fingerprint, "kms_key_id": kmsKey})
		if rec.KeyParameterVersion, err = syncstore.PutPrivateKey(ctx, api, name, privateKey, rec.KMSKeyID); err != nil {
			return err
		}
	case !plan.KMSKeyID.Equal(state.KMSKeyID):
		tflog.Info(ctx, "re-encrypting the private key with another KMS key", map[string]any{"parameter": names.KeyParameter, "key_fingerprint": fingerprint, "kms_key_id": kmsKey})
		if rec.KeyParameterVersion, err = syncstore.ReencryptPrivateKey(ctx, api, name, rec.KMSKeyID, fingerprint); err != nil {
			return fmt.Errorf("re-encrypting the private key with KMS key %s: %w", kmsKey, err)
		}
	case rec.KMSKeyID == old.KMSKeyID:
		rec.KeyParameterKeyID = old.KeyParameterKeyID
	}
	if rec.KeyParameterVersion != old.KeyParameterVersion {
		rec.KeyParameterKeyID = r.reportedKeyID(ctx, names.KeyParameter, rec.KeyParameterVersion)
	}
	if err := syncstore.PutRecord(ctx, api, rec, old); err != nil {
		return err
	}
	if err := syncstore.EnsureDocument(ctx, api, name, syncagent.RenderRunCommandDocument(policy), tags); err != nil {
		return err
	}
	if err := syncstore.SyncTags(ctx, api, name, tags); err != nil {
		return err
	}

	if state != nil && (pathsChanged || rotate || masterMoved || userMoved ||
		!plan.SSHPort.Equal(state.SSHPort) || !plan.Interval.Equal(state.Interval) ||
		!plan.BandwidthLimitKbps.Equal(state.BandwidthLimitKbps)) {
		id, err := syncstore.SendSyncNow(ctx, api, name)
		if err != nil {
			return err
		}
		tflog.Info(ctx, "sent sync now to the policy's clones", map[string]any{"command_id": id, "target": "tag:" + syncstore.InstanceTag + "=" + name})
	}

	plan.ID = types.StringValue(name)
	plan.setNames(names)
	plan.MasterAddress = types.StringValue(address)
	plan.SyncRoot = types.StringValue(root)
	plan.AuthorizedKey = types.StringValue(line)
	plan.KeyFingerprint = types.StringValue(fingerprint)
	plan.UserData = types.StringValue(syncagent.RenderCloudInitPart(policy))
	return nil
}

// read fills m from SSM. Objects deleted out of band become null, which
// the next plan turns into an update that recreates them; a missing or
// replaced private key nulls the fingerprint, so the plan rotates the key.
func (r *CloneSyncPolicyResource) read(ctx context.Context, name string, m *cloneSyncPolicyResourceModel) (bool, error) {
	api := r.client.SSM
	rec, err := syncstore.FindRecord(ctx, api, name)
	if notfound.Is(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	names := syncstore.NamesOf(name)
	m.ID = types.StringValue(name)
	m.Name = types.StringValue(name)
	m.setNames(names)
	m.MasterInstanceID = types.StringValue(rec.MasterInstanceID)
	m.MasterAddress = types.StringValue(rec.MasterAddress)
	m.SSHUser = types.StringValue(rec.SSHUser)
	m.SSHPort = types.Int64Value(int64(rec.SSHPort))
	m.Interval = types.StringValue(rec.Interval)
	m.BandwidthLimitKbps = types.Int64Value(int64(rec.BandwidthLimitKbps))
	m.InstallOnMaster = types.BoolValue(rec.InstallOnMaster)
	m.RotateKeyTrigger = types.StringPointerValue(rec.RotateKeyTrigger)
	m.SyncRoot = types.StringValue(rec.SyncRoot)
	m.AuthorizedKey = types.StringValue(syncagent.AuthorizedKeyLine(rec.PublicKey, []string{rec.SyncRoot}))
	m.KeyFingerprint = types.StringValue(rec.KeyFingerprint)

	list, err := syncstore.FindPaths(ctx, api, name)
	switch {
	case notfound.Is(err):
		tflog.Warn(ctx, "paths parameter was deleted; the next apply recreates it", map[string]any{"parameter": names.PathsParameter})
		m.PathsParameter = types.StringNull()
	case err != nil:
		return false, err
	default:
		var diags diag.Diagnostics
		if m.Paths, diags = flattenSyncPaths(ctx, list.Paths, m.Paths); diags.HasError() {
			return false, errors.New("flattening paths")
		}
		if list.KeyFingerprint != rec.KeyFingerprint {
			tflog.Warn(ctx, "paths parameter names another key than the policy (an interrupted rotation or a version 1 path list); clones refuse to sync until the next apply rewrites it",
				map[string]any{"parameter": names.PathsParameter, "paths_key_fingerprint": list.KeyFingerprint, "key_fingerprint": rec.KeyFingerprint})
			m.PathsParameter = types.StringNull()
		}
	}

	m.KMSKeyID = stringOrNull(rec.KMSKeyID)
	key, err := syncstore.FindParameterInfo(ctx, api, names.KeyParameter)
	switch {
	case notfound.Is(err):
		tflog.Warn(ctx, "private key parameter was deleted; the next apply rotates the key", map[string]any{"parameter": names.KeyParameter})
		m.PrivateKeyParameter, m.KeyFingerprint, m.AuthorizedKey = types.StringNull(), types.StringNull(), types.StringNull()
	case err != nil:
		return false, err
	case key.Type != "SecureString" || key.Version != rec.KeyParameterVersion:
		tflog.Warn(ctx, "private key parameter was changed outside Terraform; the next apply rotates the key",
			map[string]any{"parameter": names.KeyParameter, "type": string(key.Type), "version": key.Version, "expected_version": rec.KeyParameterVersion})
		m.KeyFingerprint, m.AuthorizedKey = types.StringNull(), types.StringNull()
		fallthrough
	default:
		if kmsKeyID, ok := rec.KMSKeyIDFrom(key); !ok {
			if key.Type == "SecureString" {
				tflog.Warn(ctx, "private key parameter is encrypted with another KMS key than kms_key_id; the next apply re-encrypts it",
					map[string]any{"parameter": names.KeyParameter, "key_id": key.KeyID, "kms_key_id": syncstore.EffectiveKMSKeyID(rec.KMSKeyID)})
			}
			m.KMSKeyID = stringOrNull(kmsKeyID)
		}
	}

	if _, err := syncstore.FindDocument(ctx, api, name); notfound.Is(err) {
		tflog.Warn(ctx, "document was deleted; the next apply recreates it", map[string]any{"document": names.Document})
		m.DocumentName = types.StringNull()
	} else if err != nil {
		return false, err
	}

	tags, err := syncstore.FindTags(ctx, api, name)
	if err != nil {
		return false, err
	}
	m.TagsAll, m.Tags = splitTags(ctx, r.client, tags, m.Tags)
	m.UserData = m.renderUserData()
	return true, nil
}

// reportedKeyID returns the KeyId SSM reports for version of the private
// key parameter, or "" when it does not report that version yet: read then
// compares with kms_key_id as written.
func (r *CloneSyncPolicyResource) reportedKeyID(ctx context.Context, parameter string, version int64) string {
	info, err := syncstore.FindParameterInfo(ctx, r.client.SSM, parameter)
	if err != nil || info.Version != version {
		tflog.Debug(ctx, "the written private key parameter is not described yet", map[string]any{"parameter": parameter, "version": version})
		return ""
	}
	return info.KeyID
}

// findMasterAddress returns the master's private IP. EC2 reads are
// eventually consistent, so "not found" is retried for a short while before
// it counts.
func (r *CloneSyncPolicyResource) findMasterAddress(ctx context.Context, instanceID string) (string, error) {
	var address string
	waitCtx, cancel := context.WithTimeout(ctx, masterLookupTimeout)
	defer cancel()
	err := wait.For(waitCtx, wait.Options{Interval: 2 * time.Second, MaxInterval: 10 * time.Second}, func(ctx context.Context) (bool, string, error) {
		out, err := r.client.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{instanceID}})
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && strings.HasPrefix(apiErr.ErrorCode(), "InvalidInstanceID.") {
			return false, "not found", nil
		}
		if err != nil {
			return false, "", fmt.Errorf("describing master instance %s: %w", instanceID, err)
		}
		for _, res := range out.Reservations {
			for _, inst := range res.Instances {
				if aws.ToString(inst.InstanceId) != instanceID {
					continue
				}
				if inst.State != nil && (inst.State.Name == ec2types.InstanceStateNameTerminated || inst.State.Name == ec2types.InstanceStateNameShuttingDown) {
					return false, "", fmt.Errorf("master instance %s is %s", instanceID, inst.State.Name)
				}
				address = aws.ToString(inst.PrivateIpAddress)
				return true, "found", nil
			}
		}
		return false, "not found", nil
	})
	if wait.IsTimeout(err) {
		return "", fmt.Errorf("master instance %s not found", instanceID)
	}
	return address, err
}

func (r *CloneSyncPolicyResource) install(ctx context.Context, name, instanceID, user, line string, revoke []string) error {
	script, err := syncagent.RenderInstallKeyScript(user, line, revoke)
	if err != nil {
		return err
	}
	return r.runOnMaster(ctx, name, instanceID, "installing the sync key for "+user, script)
}

// revoke removes key (a public key or an authorized_keys line) from
// user's authorized_keys on the master. It only warns on failure: the master may be gone, and leaving the
// key must not block the apply.
func (r *CloneSyncPolicyResource) revoke(ctx context.Context, name, instanceID, user, key string, diags *diag.Diagnostics) {
	blob, err := syncagent.KeyBlob(key)
	if err != nil {
		return
	}
	script, err := syncagent.RenderInstallKeyScript(user, "", []string{blob})
	if err == nil {
		err = r.runOnMaster(ctx, name, instanceID, "revoking the sync key of "+user, script)
	}
	if err != nil {
		diags.AddWarning(fmt.Sprintf("Revoking the key of Clone Sync Policy (%s) on %s", name, instanceID),
			fmt.Sprintf("The key may still be authorized for %s on the master; remove the line ending in %q from its authorized_keys. %s", user, blob, err))
	}
}

func (r *CloneSyncPolicyResource) runOnMaster(ctx context.Context, name, instanceID, what, script string) error {
	id, err := syncstore.RunOnMaster(ctx, r.client.SSM, instanceID, name, script)
	if err != nil {
		return err
	}
	tflog.Info(ctx, what+" on the master", map[string]any{"master_instance_id": instanceID, "command_id": id})
	err = syncstore.WaitCommand(ctx, r.client.SSM, id, instanceID, func(status string) {
		tflog.Info(ctx, "waiting for the master: "+what, map[string]any{"command_id": id, "status": status})
	})
	if err != nil {
		return fmt.Errorf("%s on master %s: %w", what, instanceID, err)
	}
	return nil
}

type cloneSyncPolicyResourceModel struct {
	ID                  types.String   `tfsdk:"id"`
	Name                types.String   `tfsdk:"name"`
	MasterInstanceID    types.String   `tfsdk:"master_instance_id"`
	Paths               types.List     `tfsdk:"paths"`
	Interval            types.String   `tfsdk:"interval"`
	BandwidthLimitKbps  types.Int64    `tfsdk:"bandwidth_limit_kbps"`
	SSHUser             types.String   `tfsdk:"ssh_user"`
	SSHPort             types.Int64    `tfsdk:"ssh_port"`
	InstallOnMaster     types.Bool     `tfsdk:"install_on_master"`
	RotateKeyTrigger    types.String   `tfsdk:"rotate_key_trigger"`
	KMSKeyID            types.String   `tfsdk:"kms_key_id"`
	Tags                types.Map      `tfsdk:"tags"`
	TagsAll             types.Map      `tfsdk:"tags_all"`
	MasterAddress       types.String   `tfsdk:"master_address"`
	SyncRoot            types.String   `tfsdk:"sync_root"`
	AuthorizedKey       types.String   `tfsdk:"authorized_key"`
	KeyFingerprint      types.String   `tfsdk:"key_fingerprint"`
	UserData            types.String   `tfsdk:"user_data"`
	PrivateKeyParameter types.String   `tfsdk:"private_key_parameter"`
	PathsParameter      types.String   `tfsdk:"paths_parameter"`
	PolicyParameter     types.String   `tfsdk:"policy_parameter"`
	DocumentName        types.String   `tfsdk:"document_name"`
	Timeouts            timeouts.Value `tfsdk:"timeouts"`
}

type syncPathModel struct {
	Source      types.String `tfsdk:"source"`
	Destination types.String `tfsdk:"destination"`
	Exclude     types.List   `tfsdk:"exclude"`
	Delete      types.Bool   `tfsdk:"delete"`
}

var syncPathAttrTypes = map[string]attr.Type{
	"source":      types.StringType,
	"destination": types.StringType,
	"exclude":     types.ListType{ElemType: types.StringType},
	"delete":      types.BoolType,
}

func (m *cloneSyncPolicyResourceModel) setNames(n syncstore.Names) {
	m.PrivateKeyParameter = types.StringValue(n.KeyParameter)
	m.PathsParameter = types.StringValue(n.PathsParameter)
	m.PolicyParameter = types.StringValue(n.PolicyParameter)
	m.DocumentName = types.StringValue(n.Document)
}

// agentPolicy returns the agent settings of m without paths, or false while
// one of them is unknown.
func (m *cloneSyncPolicyResourceModel) agentPolicy(masterAddress string) (syncagent.Policy, bool) {
	for _, v := range []attr.Value{m.Name, m.SSHUser, m.SSHPort, m.Interval, m.BandwidthLimitKbps} {
		if v.IsUnknown() {
			return syncagent.Policy{}, false
		}
	}
	interval, _ := time.ParseDuration(m.Interval.ValueString())
	if m.Interval.IsNull() {
		interval, _ = time.ParseDuration(defaultSyncInterval)
	}
	names := syncstore.NamesOf(m.Name.ValueString())
	return syncagent.Policy{
		Name:               m.Name.ValueString(),
		MasterAddress:      masterAddress,
		SSHUser:            m.SSHUser.ValueString(),
		SSHPort:            int(m.SSHPort.ValueInt64()),
		Interval:           interval,
		BandwidthLimitKbps: int(m.BandwidthLimitKbps.ValueInt64()),
		PathsParameter:     names.PathsParameter,
		KeyParameter:       names.KeyParameter,
	}.WithDefaults(), true
}

// renderUserData renders the stand-alone agent, unknown until every input is.
func (m *cloneSyncPolicyResourceModel) renderUserData() types.String {
	if m.MasterAddress.IsUnknown() {
		return types.StringUnknown()
	}
	p, ok := m.agentPolicy(m.MasterAddress.ValueString())
	if !ok || p.Validate() != nil {
		return types.StringUnknown()
	}
	return types.StringValue(syncagent.RenderCloudInitPart(p))
}

// expandSyncPaths converts the paths list; known is false while any part
// of it is unknown.
func expandSyncPaths(ctx context.Context, list types.List) ([]syncagent.Path, bool, diag.Diagnostics) {
	if list.IsNull() || list.IsUnknown() {
		return nil, false, nil
	}
	var models []syncPathModel
	diags := list.ElementsAs(ctx, &models, false)
	if diags.HasError() {
		return nil, false, diags
	}
	paths := make([]syncagent.Path, 0, len(models))
	for _, pm := range models {
		if pm.Source.IsUnknown() || pm.Destination.IsUnknown() || pm.Exclude.IsUnknown() || pm.Delete.IsUnknown() {
			return nil, false, diags
		}
		var exclude []string
		for _, e := range pm.Exclude.Elements() {
			s, ok := e.(types.String)
			if !ok || s.IsUnknown() {
				return nil, false, diags
			}
			exclude = append(exclude, s.ValueString())
		}
		paths = append(paths, syncagent.Path{
			Source:      pm.Source.ValueString(),
			Destination: pm.Destination.ValueString(),
			Exclude:     exclude,
			Delete:      pm.Delete.ValueBool(),
		})
	}
	return paths, true, diags
}

// flattenSyncPaths converts paths read from SSM; an empty exclude list is
// null unless prior had an empty list at the same position.
func flattenSyncPaths(ctx context.Context, paths []syncagent.Path, prior types.List) (types.List, diag.Diagnostics) {
	var priorModels []syncPathModel
	if !prior.IsNull() && !prior.IsUnknown() {
		_ = prior.ElementsAs(ctx, &priorModels, false)
	}
	models := make([]syncPathModel, 0, len(paths))
	for i, p := range paths {
		exclude := types.ListNull(types.StringType)
		if len(p.Exclude) > 0 || (i < len(priorModels) && !priorModels[i].Exclude.IsNull()) {
			exclude = listValue(p.Exclude)
		}
		models = append(models, syncPathModel{
			Source:      types.StringValue(p.Source),
			Destination: types.StringValue(p.Destination),
			Exclude:     exclude,
			Delete:      types.BoolValue(p.Delete),
		})
	}
	return types.ListValueFrom(ctx, types.ObjectType{AttrTypes: syncPathAttrTypes}, models)
}
