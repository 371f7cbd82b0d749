// Package syncstore keeps a clone_sync_policy in SSM: its parameters and
// Run Command document, the finders over them, and the commands it sends
// to the master and to the clones. Nothing here is Terraform-shaped.
//
// The resource calls one operation per CRUD step: Apply (create and
// update: key rotation, the key on the master, the SSM writes in a fixed
// order, "sync now"), Observe (read, reporting drift) and Destroy. They
// take an Env of narrow ports: the SSM API, a MasterFinder and a progress
// callback, so they are tested against fakes.
//
// # Objects of policy NAME
//
//   - /clone-sync/NAME/private-key: SecureString, the OpenSSH private key,
//     encrypted with the policy's kms_key_id (DefaultKMSKeyID, the
//     AWS-managed aws/ssm key, when unset). Written with SDK request logging
//     switched off for the call. Finders look at its metadata only; the
//     value is read back once, quietly, by ReencryptPrivateKey, which
//     rewrites the same key with another KMS key.
//   - /clone-sync/NAME/paths: String, syncagent.PathsJSON of the paths
//     and of the current key's fingerprint. The agent reads it on every
//     run and refuses a private key of another fingerprint.
//   - /clone-sync/NAME/policy: String, the Record as JSON: everything
//     needed to render the agent and to import the policy. Its existence
//     is the existence of the policy.
//   - SSM document clone-sync-NAME: Command, syncagent.RenderRunCommandDocument
//     ("sync now"), sent to every instance tagged InstanceTag=NAME.
//
// # Contract with clone_pool
//
// A pool with sync_policy_id = NAME calls LoadPolicy(ctx, ssmClient, NAME)
// and gets a syncagent.Policy with everything filled in except
// AutoScalingGroupName and LifecycleHookName, already passed through
// WithDefaults and Validate. The pool sets those two, renders
// syncagent.RenderCloudInitPart into its user data and tags its instances
// InstanceTag=NAME (propagated at launch) so that "sync now" reaches them.
// LoadPolicy returns a notfound.Error when the policy does not exist. The
// rendered agent embeds the master address, ssh user and port, interval
// and bandwidth, so a change of those changes the pool's user data; a
// change of paths does not (the agent reads them from SSM).
//
// Instances need ssm:GetParameter on both parameters (and kms:Decrypt on
// the private key's KMS key) and, with a lifecycle hook,
// autoscaling:CompleteLifecycleAction.
package syncstore
