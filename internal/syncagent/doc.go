// Package syncagent is the master → clone file sync of a clone_sync_policy,
// without anything Terraform-shaped: validation, the key pair, the master's
// authorized_keys line and the agent that runs on every clone.
//
// # How the pieces fit
//
// The provider calls GenerateKey once per policy, stores the private key in
// the SSM SecureString named by Policy.KeyParameter and installs
// AuthorizedKeyLine(pub, sources) for Policy.SSHUser on the master. It
// stores PathsJSON(paths, KeyFingerprint(pub)) in the parameter named by
// Policy.PathsParameter,
// puts RenderCloudInitPart(policy) into the clones' user data and, when the
// paths change, sends RenderRunCommandDocument(policy) to the pool ("sync
// now"). The agent reads the path list and the key on every run, so changing
// paths needs no new instances.
//
// # The master side: one rrsync root
//
// The key may only run "rrsync -ro ROOT" (no pty, no forwarding, no
// ~/.ssh/rc): it can pull below ROOT and nothing else — no push, no shell,
// no deletion on the master, no ".." escape. rrsync takes a single
// directory, so ROOT is SyncRoot(sources): the deepest directory containing
// every source (a single source is its own root). Sources sharing nothing
// but "/" are refused rather than exposing the master's whole file system.
// The path document carries ROOT and the agent requests every source
// relative to it ("./www/" for /srv/app/www under /srv/app).
//
// The document's root and the installed line's root must match: a document
// whose root is deeper than the key's would pull the key's whole root into
// a destination. So the root is part of the key: when new sources change
// SyncRoot, generate a new key, install its line in place of the old one,
// then write the path and key parameters. A clone holding the old key fails
// to log in instead of pulling the wrong tree.
//
// The agent reads the two parameters at different moments, so a run during
// a rotation can hold the path list of one key and the other key. The path
// document therefore carries the SHA256 fingerprint of the key issued for
// its root (version 2; ParsePathsJSON still reads version 1, which has
// none), and the agent computes the fingerprint of the private key it
// fetched (ssh-keygen -y, then ssh-keygen -l -E sha256) and syncs only when
// the two are equal. Every pair of parameters is then either from one
// rotation or refused, whichever order they are written in.
//
// # The clone side: the agent
//
// RenderAgentScript renders a bash script; RenderCloudInitPart installs it
// as /usr/local/sbin/clone-sync-NAME with a oneshot systemd service and a
// timer (OnBootSec and OnUnitActiveSec = Interval) and starts the first sync
// at boot. Each run:
//
//   - reads the master address from the policy or, when empty, from
//     MASTER_ADDRESS in Policy.MasterEnvFile;
//   - reads the path list (aws ssm get-parameter --with-decryption) and
//     parses it with python3 into NUL-separated fields; bash builds one rsync
//     argv per path, so no path or exclude is ever shell text;
//   - reads the private key and refuses to sync unless its fingerprint is
//     the path list's key_fingerprint ("key and path list are from
//     different rotations; retrying next run");
//   - runs rsync -a --numeric-ids --partial --stats over ssh (BatchMode,
//     StrictHostKeyChecking=accept-new, its own known_hosts next to the
//     status file), with --bwlimit when Policy.BandwidthLimitKbps is set,
//     --delete only for paths with Delete, and one "--filter=- PATTERN" per
//     exclude;
//   - writes Policy.StatusFile: {"policy", "last_run", "last_success",
//     "exit_code", "bytes_transferred", "lifecycle_hook", "reason",
//     "warnings"}, where reason explains a failed run and is null
//     otherwise, and warnings lists what a successful run put up with;
//   - after the first fully successful run of a boot, completes the launch
//     lifecycle hook (CONTINUE) when LifecycleHookName and
//     AutoScalingGroupName are set, using the instance id from IMDSv2.
//
// A run first checks the tools it needs (python3; rsync, ssh and
// ssh-keygen; the AWS CLI and curl when it reads SSM or completes the hook)
// and fails with exit code 2 naming each missing one. rsync's exit 24
// ("some files vanished before they could be transferred", routine on a
// live site) counts as success, with a warning in the status.
//
// Runs are serialised with flock. The exit code is 0, the first failing
// rsync exit code, 2 for configuration errors, 3 for an invalid path list
// (version 1 included) or 75 (EX_TEMPFAIL) when key and path list are from
// different rotations. A failed run never completes the lifecycle hook.
//
// Environment overrides, used by tests and for debugging on a clone:
// CLONE_SYNC_PATHS_FILE and CLONE_SYNC_KEY_FILE replace the SSM parameters,
// CLONE_SYNC_RUN_DIR replaces /run/clone-sync/NAME (per-boot state: the key
// while a run lasts, the lock, the lifecycle marker), CLONE_SYNC_IMDS_ENDPOINT
// replaces http://169.254.169.254, and CLONE_SYNC_DRY_ARGV=1 prints each
// rsync argv as NUL-terminated elements followed by an empty element instead
// of running anything. A dry run checks the key only when
// CLONE_SYNC_KEY_FILE is set.
//
// Render functions panic on a policy that fails Policy.Validate (after
// Policy.WithDefaults): validate at plan time, render afterwards.
package syncagent
